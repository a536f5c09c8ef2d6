using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ImageForge.Signing;

/// <summary>How <see cref="VersionVerifier"/> gets a file's sha256 now.</summary>
public interface IFileDigests
{
    /// <summary>The lower-case hex sha256 of the file's content as it is now.</summary>
    Task<string> Sha256Async(string path, CancellationToken cancellationToken = default);
}

/// <summary>Reads and hashes the whole file on every call (the command line's verification).</summary>
public sealed class RehashedFileDigests : IFileDigests
{
    /// <summary>The one instance.</summary>
    public static readonly RehashedFileDigests Instance = new();

    private RehashedFileDigests() { }

    /// <inheritdoc />
    public async Task<string> Sha256Async(
        string path,
        CancellationToken cancellationToken = default
    )
    {
        await using var stream = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            1 << 20,
            FileOptions.Asynchronous | FileOptions.SequentialScan
        );
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}

/// <summary>
/// Hashes a file again only when its identity changed since it was last hashed here: the identity (given by the host;
/// the worker's is device, inode, size, modification and status-change times in nanoseconds) changes with every write,
/// rename over, truncation or time reset through the kernel (the status-change time cannot be set back), so a digest
/// reused for an unchanged identity is the digest the content has. A file whose identity changed while it was hashed
/// is not remembered; a file without an identity (null) is hashed every time. Bounded: past
/// <see cref="Capacity"/> entries the cache starts over.
/// </summary>
public sealed class CachedFileDigests(Func<string, object?> identity) : IFileDigests
{
    /// <summary>How many files are remembered at most.</summary>
    public const int Capacity = 20_000;

    private readonly ConcurrentDictionary<string, (object Identity, string Sha256)> _known = new(
        StringComparer.Ordinal
    );

    /// <inheritdoc />
    public async Task<string> Sha256Async(
        string path,
        CancellationToken cancellationToken = default
    )
    {
        var before = identity(path);
        if (
            before is not null
            && _known.TryGetValue(path, out var known)
            && known.Identity.Equals(before)
        )
        {
            return known.Sha256;
        }

        var digest = await RehashedFileDigests.Instance.Sha256Async(path, cancellationToken);
        if (before is not null && before.Equals(identity(path)))
        {
            if (_known.Count >= Capacity)
            {
                _known.Clear();
            }

            _known[path] = (before, digest);
        }

        return digest;
    }
}
