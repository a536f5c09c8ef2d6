using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// Finds and removes mounts a build left behind (mmdebstrap's /proc, /dev and /sys binds, test tmpfs): a killed
/// tool never unmounts, and a mount below a work directory makes deleting the directory fail or, worse, recurse
/// into the host's /dev.
/// </summary>
public static class MountTable
{
    private const string MountInfoPath = "/proc/self/mountinfo";

    /// <summary>
    /// The mount points at or below <paramref name="directory"/> (whole path components only: <c>/a/b</c> does not
    /// cover <c>/a/bc</c>), deepest first, in the order they must be unmounted.
    /// </summary>
    public static IReadOnlyList<string> MountsBelow(string directory)
    {
        var root = Canonical(directory);
        return ReadMountInfo(File.ReadAllLines(MountInfoPath))
            .Where(m => IsAtOrBelow(m.MountPoint, root))
            // Deepest first; for mounts stacked on one point the later (higher id) first, as only the top one can go.
            .OrderByDescending(m => m.MountPoint.Count(c => c == '/'))
            .ThenByDescending(m => m.Id)
            .Select(m => m.MountPoint)
            .ToList();
    }

    /// <summary>
    /// Detaches (<c>umount2(MNT_DETACH)</c>) every mount at or below <paramref name="directory"/>, deepest first, and
    /// returns the mount points unmounted. Lazy detach succeeds even when a file below is still open.
    /// </summary>
    /// <exception cref="Win32Exception">A mount could not be detached (for example not running as root).</exception>
    public static IReadOnlyList<string> UnmountBelow(string directory)
    {
        var unmounted = new List<string>();
        foreach (var mountPoint in MountsBelow(directory))
        {
            if (LibC.Umount2(mountPoint, LibC.MNT_DETACH) == 0)
            {
                unmounted.Add(mountPoint);
                continue;
            }

            var error = Marshal.GetLastPInvokeError();
            // Already gone (detaching a parent took it along, or someone else unmounted it): nothing to do.
            if (error is not (LibC.EINVAL or LibC.ENOENT))
            {
                throw new Win32Exception(
                    error,
                    $"Cannot unmount '{mountPoint}' left below '{directory}'."
                );
            }
        }

        return unmounted;
    }

    internal sealed record Mount(int Id, string MountPoint);

    /// <summary>Parses mountinfo lines: field 1 is the mount id, field 5 the mount point (octal-escaped).</summary>
    internal static IEnumerable<Mount> ReadMountInfo(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            if (
                fields.Length > 4
                && int.TryParse(
                    fields[0],
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out var id
                )
            )
            {
                yield return new Mount(id, DecodeOctalEscapes(fields[4]));
            }
        }
    }

    /// <summary>
    /// The kernel writes space, tab, newline and backslash in paths as <c>\ooo</c> (e.g. <c>\040</c>); all ASCII, so
    /// each escape is one character.
    /// </summary>
    internal static string DecodeOctalEscapes(string field)
    {
        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (
                field[i] == '\\'
                && i + 3 < field.Length
                && !field.AsSpan(i + 1, 3).ContainsAnyExceptInRange('0', '7')
            )
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    internal static bool IsAtOrBelow(string mountPoint, string root) =>
        mountPoint == root || mountPoint.StartsWith(root + "/", StringComparison.Ordinal);

    /// <summary>Absolute, without a trailing slash, symbolic links resolved (mountinfo lists resolved paths).</summary>
    private static string Canonical(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        var resolved = LibC.CanonicalPath(full) ?? full;
        resolved = resolved.TrimEnd('/');
        return resolved.Length > 0
            ? resolved
            : throw new ArgumentException(
                "Refusing to work on every mount below '/'.",
                nameof(directory)
            );
    }
}
