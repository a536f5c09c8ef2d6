namespace ImageForge.Signing;

/// <summary>
/// The recorded public key: a PEM public key preceded by explanatory lines naming the key id and algorithm (RFC 7468
/// allows text before the PEM block; openssl and .NET skip it).
/// </summary>
public static class PublicKeyDocument
{
    /// <summary>Media type of the document.</summary>
    public const string MediaType = "application/x-pem-file";

    public static string Write(string keyId, string algorithm, string publicKeyPem) =>
        $"keyid: {keyId}\nalgorithm: {algorithm}\n{publicKeyPem.TrimEnd()}\n";

    /// <summary>The value of an explanatory line (keyid, algorithm), or null.</summary>
    public static string? Header(string document, string name) =>
        document
            .Split('\n')
            .TakeWhile(l => !l.StartsWith("-----BEGIN", StringComparison.Ordinal))
            .Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith(name + ": ", StringComparison.Ordinal))
            .Select(l => l[(name.Length + 2)..])
            .FirstOrDefault();
}
