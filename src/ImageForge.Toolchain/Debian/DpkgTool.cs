using System.Globalization;
using System.IO.Compression;
using System.Text;
using ImageForge.Core.Errors;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Debian;

/// <summary>
/// dpkg's own tools: <c>dpkg --compare-versions</c> (the reference ordering, for tests that check ImageForge's
/// comparator) and <c>dpkg-deb</c> (reading a changelog out of a downloaded .deb).
/// </summary>
public sealed class DpkgTool(ProcessRunner runner, string scratchDirectory) : IDebPackageReader
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    // One shell reads pairs from a file and asks dpkg about each: one process start for the whole batch.
    private const string CompareLoop = """
        while IFS=' ' read -r a b; do
          if dpkg --compare-versions "$a" lt "$b"; then echo -1
          elif dpkg --compare-versions "$a" eq "$b"; then echo 0
          else echo 1; fi
        done < "$1"
        """;

    /// <summary>
    /// dpkg's ordering of each pair: -1 (first older), 0, 1, in order. Versions must be valid Debian versions
    /// (no spaces).
    /// </summary>
    public async Task<IReadOnlyList<int>> CompareVersionsAsync(
        IReadOnlyList<(string A, string B)> pairs,
        CancellationToken cancellationToken = default
    )
    {
        // One shell per core, each with a contiguous slice, so the answers concatenate in order.
        var slices = Math.Max(1, Math.Min(Environment.ProcessorCount, pairs.Count / 200));
        var size = (pairs.Count + slices - 1) / slices;
        var tasks = Enumerable
            .Range(0, slices)
            .Select(i =>
                CompareSliceAsync(pairs.Skip(i * size).Take(size).ToList(), cancellationToken)
            );
        return (await Task.WhenAll(tasks)).SelectMany(x => x).ToList();
    }

    private async Task<List<int>> CompareSliceAsync(
        List<(string A, string B)> pairs,
        CancellationToken cancellationToken
    )
    {
        Directory.CreateDirectory(scratchDirectory);
        var input = Path.Combine(scratchDirectory, $"pairs-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(input, pairs.Select(p => $"{p.A} {p.B}"), cancellationToken);
        try
        {
            var (exit, output, errors) = await runner.RunToEndAsync(
                new ProcessSpec("bash")
                    .WithArguments("-c", CompareLoop, "dpkg-compare", input)
                    .WithTimeout(Timeout),
                cancellationToken
            );
            if (exit != 0 || output.Count != pairs.Count)
            {
                throw new ToolFailedException(
                    "dpkg",
                    $"dpkg --compare-versions batch exited {exit} with {output.Count} of {pairs.Count} answers",
                    errors.TakeLast(10).ToList()
                );
            }
            return output.Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();
        }
        finally
        {
            File.Delete(input);
        }
    }

    /// <inheritdoc />
    public async Task<string?> ReadChangelogAsync(
        string debPath,
        string package,
        CancellationToken cancellationToken = default
    )
    {
        var target = Path.Combine(scratchDirectory, $"deb-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        try
        {
            // Only the doc directory leaves the archive; the rest of the package is never written.
            var (exit, _, errors) = await runner.RunToEndAsync(
                new ProcessSpec("bash")
                    .WithArguments(
                        "-c",
                        """
                        set -o pipefail
                        dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards --no-same-owner "./usr/share/doc/$3/changelog.Debian*" 2>/dev/null
                        rc=$?
                        # tar exits 2 when no member matched: the package has no changelog of its own.
                        [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
                        """,
                        "dpkg-deb-changelog",
                        debPath,
                        target,
                        package
                    )
                    .WithTimeout(Timeout),
                cancellationToken
            );
            if (exit != 0)
            {
                throw new ToolFailedException(
                    "dpkg-deb",
                    $"dpkg-deb could not read {debPath} (exit {exit}); delete it from the cache if it is truncated",
                    errors.TakeLast(10).ToList()
                );
            }
            var doc = Path.Combine(target, "usr", "share", "doc", package);
            var gz = Path.Combine(doc, "changelog.Debian.gz");
            if (
                File.Exists(gz) && !new FileInfo(gz).Attributes.HasFlag(FileAttributes.ReparsePoint)
            )
            {
                await using var file = File.OpenRead(gz);
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                using var reader = new StreamReader(gzip, Encoding.UTF8);
                return await reader.ReadToEndAsync(cancellationToken);
            }
            var plain = Path.Combine(doc, "changelog.Debian");
            return File.Exists(plain)
                ? await File.ReadAllTextAsync(plain, cancellationToken)
                : null;
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }
}
