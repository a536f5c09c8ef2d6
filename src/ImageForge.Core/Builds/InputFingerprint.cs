using System.Security.Cryptography;
using System.Text;

namespace ImageForge.Core.Builds;

/// <summary>
/// The hash of every input of a build: each file's path relative to its root and its bytes, in a stable order.
/// Equal fingerprints mean the same definition, baseline, templates and hardening scripts.
/// </summary>
internal static class InputFingerprint
{
    /// <summary>Hashes the given files and directories (recursively), each under a logical name.</summary>
    public static string Compute(IEnumerable<(string Name, string Path)> inputs)
    {
        var entries = new List<(string Key, string File)>();
        foreach (var (name, path) in inputs)
        {
            if (File.Exists(path))
            {
                entries.Add((name, path));
            }
            else if (Directory.Exists(path))
            {
                foreach (
                    var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                )
                {
                    entries.Add(
                        ($"{name}/{Path.GetRelativePath(path, file).Replace('\\', '/')}", file)
                    );
                }
            }
            else
            {
                entries.Add((name, ""));
            }
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, file) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(key));
            hash.AppendData([0]);
            hash.AppendData(file.Length == 0 ? [] : SHA256.HashData(File.ReadAllBytes(file)));
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Extends a file fingerprint with what the target resolved now (base image, package versions on the mirror):
    /// named digests, order-independent.
    /// </summary>
    public static string WithResolved(
        string fingerprint,
        IEnumerable<(string Name, string Digest)> resolved
    )
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(fingerprint));
        foreach (var (name, digest) in resolved.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}={digest}"));
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
