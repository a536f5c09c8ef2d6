using System.Security.Cryptography;

namespace ImageForge.Signing;

/// <summary>
/// The embedded default key: an ECDSA P-256 private key in a PKCS#8 PEM file, created on first use with mode 0600 (its
/// directory 0700) and reused afterwards.
/// </summary>
internal sealed class FileKeySigner : ISigner, IDisposable
{
    private readonly ECDsa _key;

    private FileKeySigner(ECDsa key, string path)
    {
        _key = key;
        Path = path;
        KeyId = $"file:sha256:{EcdsaKeys.Fingerprint(key)}";
    }

    public string Path { get; }

    public string KeyId { get; }

    public string Algorithm => SigningAlgorithms.EcdsaP256Sha256;

    /// <summary>True when this process created the key file (on first use).</summary>
    public bool Created { get; private init; }

    /// <summary>Loads the key at <paramref name="path"/>, creating it first when there is none.</summary>
    public static FileKeySigner OpenOrCreate(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var created = !File.Exists(full) && Create(full);

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(full));
            if (
                key.ExportParameters(false).Curve.Oid.Value
                != ECCurve.NamedCurves.nistP256.Oid.Value
            )
            {
                throw new SigningException(
                    $"{full} is not a P-256 key; ImageForge signs with ECDSA P-256 keys"
                );
            }
        }
        catch (ArgumentException e)
        {
            key.Dispose();
            throw new SigningException(
                $"{full} holds no readable PEM private key ({e.Message}); move it away to have a new key created",
                e
            );
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new SigningException($"{full}: {e.Message}", e);
        }

        return new FileKeySigner(key, full) { Created = created };
    }

    public Task<byte[]> SignAsync(
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken = default
    ) =>
        Task.FromResult(
            _key.SignData(
                message.Span,
                HashAlgorithmName.SHA256,
                DSASignatureFormat.Rfc3279DerSequence
            )
        );

    /// <summary>The public key as PEM (SubjectPublicKeyInfo).</summary>
    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

    public Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(PublicKeyPem);

    public void Dispose() => _key.Dispose();

    private static bool Create(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(
                directory,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            );
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportPkcs8PrivateKeyPem();
        try
        {
            // Created with 0600 so the key is never readable by others, not even for a moment.
            using var stream = new FileStream(
                path,
                new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                }
            );
            using var writer = new StreamWriter(stream);
            writer.Write(pem);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use that one.
            return false;
        }

        // The umask can only remove bits; set the mode explicitly so it is exactly 0600.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return true;
    }
}
