using System.Runtime.InteropServices;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// The few libc calls .NET has no managed API for: signalling a process group, detaching a mount, a file's inode and
/// status-change time.
/// </summary>
internal static partial class LibC
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public const int ESRCH = 3;
    public const int EINVAL = 22;
    public const int ENOENT = 2;

    public const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(
        "libc",
        EntryPoint = "umount2",
        SetLastError = true,
        StringMarshalling = StringMarshalling.Utf8
    )]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(
        "libc",
        EntryPoint = "realpath",
        SetLastError = true,
        StringMarshalling = StringMarshalling.Utf8
    )]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint RealPath(string path, nint resolved);

    [LibraryImport(
        "libc",
        EntryPoint = "statx",
        SetLastError = true,
        StringMarshalling = StringMarshalling.Utf8
    )]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Statx(
        int directory,
        string path,
        int flags,
        uint mask,
        out Files.StatxBuffer status
    );

    [LibraryImport("libc", EntryPoint = "free")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial void Free(nint pointer);

    /// <summary>The canonical path (symbolic links resolved), or null when the path does not exist.</summary>
    public static string? CanonicalPath(string path)
    {
        var resolved = RealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }
}
