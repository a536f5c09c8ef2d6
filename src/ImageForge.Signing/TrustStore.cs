using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Errors;

namespace ImageForge.Signing;

/// <summary>A public key the verifier trusts, by the fingerprint of its DER SubjectPublicKeyInfo.</summary>
/// <param name="Fingerprint"><c>sha256:</c> and the lowercase hex SHA-256 of the key's SubjectPublicKeyInfo.</param>
/// <param name="Source">The file it was read from.</param>
/// <param name="PublicKeyPem">The key as PEM.</param>
public sealed record TrustedKey(string Fingerprint, string Source, string PublicKeyPem);

/// <summary>
/// The public keys a signature must be made with for <c>verify</c>, <c>admit</c>, promotion and the API to accept a
/// version: a directory of PEM public keys named by fingerprint (<c>&lt;data-dir&gt;/keys/trusted</c> by default,
/// changed with <c>keys trust add|remove</c>), or, when <see cref="EnvironmentVariable"/> names a file, a read-only
/// bundle of PEM public keys (for CI, where the trusted keys come with the job and not from the data directory).
/// </summary>
public sealed class TrustStore
{
    /// <summary>Names a directory (the store) or a PEM bundle file (read-only) instead of the default directory.</summary>
    public const string EnvironmentVariable = "IMAGEFORGE_TRUSTED_KEYS";

    private const string Prefix = "sha256:";

    private TrustStore(string path, bool isBundle)
    {
        Path = path;
        IsBundle = isBundle;
    }

    /// <summary>The store's directory or bundle file.</summary>
    public string Path { get; }

    /// <summary>True when the store is a bundle file, which ImageForge reads but never changes.</summary>
    public bool IsBundle { get; }

    /// <summary>The default store of a data directory.</summary>
    public static string DefaultDirectory(string dataDirectory) =>
        System.IO.Path.Combine(dataDirectory, "keys", "trusted");

    /// <summary>
    /// The store <paramref name="setting"/> (the value of <see cref="EnvironmentVariable"/>) names: empty for the
    /// data directory's default, an existing file for a bundle, anything else for a directory.
    /// </summary>
    public static TrustStore Open(string? setting, string dataDirectory, string currentDirectory)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return new TrustStore(
                System.IO.Path.GetFullPath(DefaultDirectory(dataDirectory)),
                false
            );
        }

        var path = System.IO.Path.GetFullPath(setting.Trim(), currentDirectory);
        return new TrustStore(path, File.Exists(path));
    }

    /// <summary>The fingerprint of a PEM public key, as the store names it.</summary>
    /// <exception cref="ArgumentException">No PEM public key.</exception>
    /// <exception cref="CryptographicException">The key cannot be read.</exception>
    /// <exception cref="SigningException">Not a P-256 key.</exception>
    public static string Fingerprint(string publicKeyPem)
    {
        using var key = EcdsaKeys.ImportPublicKeyPem(publicKeyPem);
        return Prefix + EcdsaKeys.Fingerprint(key);
    }

    /// <summary>Every trusted key, ordered by fingerprint.</summary>
    /// <exception cref="InvalidInputException">A file of the store is not a readable P-256 public key.</exception>
    public IReadOnlyList<TrustedKey> List()
    {
        if (IsBundle)
        {
            return [.. ReadBundle().OrderBy(k => k.Fingerprint, StringComparer.Ordinal)];
        }

        if (!Directory.Exists(Path))
        {
            return [];
        }

        return
        [
            .. Directory
                .EnumerateFiles(Path, "*.pem")
                .Select(file => Read(file, ReadText(file)))
                .OrderBy(k => k.Fingerprint, StringComparer.Ordinal),
        ];
    }

    /// <summary>The trusted key with this fingerprint, or null.</summary>
    public TrustedKey? Find(string fingerprint) =>
        List().FirstOrDefault(k => k.Fingerprint == Normalize(fingerprint));

    /// <summary>Trusts the PEM public key in <paramref name="file"/> (idempotent).</summary>
    /// <exception cref="InvalidInputException">The file is missing or no P-256 public key, or the store is a bundle.</exception>
    public TrustedKey Add(string file)
    {
        var full = System.IO.Path.GetFullPath(file);
        if (!File.Exists(full))
        {
            throw new InvalidInputException(
                $"{full}: no such file; give the PEM public key file ('imageforge keys export --file F' writes one)"
            );
        }

        return AddPem(Read(full, ReadText(full)).PublicKeyPem);
    }

    /// <summary>Trusts a PEM public key (idempotent); the default key is trusted this way when it is created.</summary>
    public TrustedKey AddPem(string publicKeyPem)
    {
        RefuseBundle("add a key to");
        var fingerprint = Fingerprint(publicKeyPem);
        var target = System.IO.Path.Combine(Path, fingerprint[Prefix.Length..] + ".pem");
        Directory.CreateDirectory(Path);
        using (var key = EcdsaKeys.ImportPublicKeyPem(publicKeyPem))
        {
            // Written whole under a temporary name, so a reader never sees half a key.
            var temporary = target + ".tmp";
            File.WriteAllText(
                temporary,
                key.ExportSubjectPublicKeyInfoPem() + "\n",
                Encoding.ASCII
            );
            File.Move(temporary, target, overwrite: true);
        }

        return new TrustedKey(fingerprint, target, File.ReadAllText(target));
    }

    /// <summary>Stops trusting the key with this fingerprint.</summary>
    /// <exception cref="InvalidInputException">No trusted key has it, or the store is a bundle.</exception>
    public TrustedKey Remove(string fingerprint)
    {
        RefuseBundle("remove a key from");
        var known =
            Find(fingerprint)
            ?? throw new InvalidInputException(
                $"fingerprint '{fingerprint}': no key in the trust store {Path} has it; "
                    + "'imageforge keys trust list' shows the trusted fingerprints (sha256:<64 hex digits>)"
            );
        File.Delete(known.Source);
        return known;
    }

    private static string Normalize(string fingerprint)
    {
        var text = fingerprint.Trim().ToLowerInvariant();
        return text.StartsWith(Prefix, StringComparison.Ordinal) ? text : Prefix + text;
    }

    private void RefuseBundle(string what)
    {
        if (IsBundle)
        {
            throw new InvalidInputException(
                $"{EnvironmentVariable}={Path} is a bundle file, which ImageForge does not change: edit the file to "
                    + $"{what} it, or set {EnvironmentVariable} to a directory"
            );
        }
    }

    private IEnumerable<TrustedKey> ReadBundle()
    {
        var text = ReadText(Path);
        var found = 0;
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var block = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            found++;
            yield return Read(Path, block);
        }

        if (found == 0)
        {
            throw new InvalidInputException(
                $"{Path} ({EnvironmentVariable}): holds no PEM public key; put one or more "
                    + "'-----BEGIN PUBLIC KEY-----' blocks in it"
            );
        }
    }

    private static string ReadText(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(
                $"{file}: cannot be read ({e.Message}); make it readable or remove it from the trust store"
            );
        }
    }

    private static TrustedKey Read(string file, string pem)
    {
        try
        {
            return new TrustedKey(Fingerprint(pem), file, pem);
        }
        catch (Exception e)
            when (e is ArgumentException or CryptographicException or SigningException)
        {
            throw new InvalidInputException(
                $"{file}: not a readable ECDSA P-256 public key in PEM ({e.Message}); give the "
                    + "'-----BEGIN PUBLIC KEY-----' PEM that 'imageforge keys export' prints"
            );
        }
    }
}
