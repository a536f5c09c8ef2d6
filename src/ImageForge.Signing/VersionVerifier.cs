using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Provenance;

namespace ImageForge.Signing;

/// <summary>What verification found for one file or provider image.</summary>
public enum ItemStatus
{
    /// <summary>Re-hashed: the content has the recorded digest.</summary>
    Ok,

    /// <summary>Re-hashed: the content differs from the recorded digest.</summary>
    Changed,

    /// <summary>The file is not on this machine, so it was not re-hashed.</summary>
    Missing,

    /// <summary>A provider image: identified by its id, not re-hashed here.</summary>
    Remote,
}

/// <summary>One artifact or evidence document as verified.</summary>
/// <param name="Role">artifact or evidence.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Location">Path, or provider id.</param>
/// <param name="Status">Whether its content matched.</param>
/// <param name="RecordedSha256">The digest in the catalog.</param>
/// <param name="ActualSha256">The digest now, when re-hashed.</param>
/// <param name="Covered">Whether the signed provenance covers it (the signature's own documents count as covered).</param>
public sealed record VerifiedItem(
    string Role,
    string Kind,
    string Location,
    ItemStatus Status,
    string? RecordedSha256,
    string? ActualSha256,
    bool Covered
);

/// <summary>The outcome of verifying one version: every item checked and every problem, each naming what is off.</summary>
public sealed record VerificationReport(
    string Image,
    string Version,
    string? KeyId,
    string? Algorithm,
    bool SignatureValid,
    int SubjectCount,
    IReadOnlyList<VerifiedItem> Items,
    IReadOnlyList<string> Problems
)
{
    /// <summary>True when every re-hashed item matched, the signature verified and the subjects equal the catalog's.</summary>
    public bool Ok => Problems.Count == 0;

    /// <summary><c>sha256:</c> fingerprint of the public key the signature was checked with, when it was readable.</summary>
    public string? KeyFingerprint { get; init; }

    /// <summary>Whether that key is in the trust store (null: no trust store was consulted, or no key).</summary>
    public bool? KeyTrusted { get; init; }
}

/// <summary>
/// Verifies a version against its own evidence: re-hashes every local artifact and evidence document, checks the DSSE
/// signature with the recorded public key (or one given), that the key is in the trust store and that the envelope's
/// keyid names that key, and checks that the signed subjects are exactly the catalog's artifacts and evidence.
/// Evidence recorded after the signature (a re-scan) is listed as not signed, which is not a failure.
/// </summary>
public static class VersionVerifier
{
    /// <param name="version">The version as the catalog records it.</param>
    /// <param name="trustedPublicKeyPem">
    /// A key the caller trusts explicitly (<c>verify --key</c>), checked instead of the recorded one and not looked up
    /// in <paramref name="trust"/>.
    /// </param>
    /// <param name="trust">
    /// The keys a signature must be made with; null checks the signature with the recorded key only (the product
    /// always passes its store).
    /// </param>
    /// <param name="cancellationToken">Cancels the re-hashing.</param>
    /// <exception cref="Core.Errors.InvalidInputException">A file of the trust store is unreadable.</exception>
    public static Task<VerificationReport> VerifyAsync(
        ImageVersion version,
        string? trustedPublicKeyPem = null,
        TrustStore? trust = null,
        CancellationToken cancellationToken = default
    ) =>
        VerifyAsync(
            version,
            trustedPublicKeyPem,
            trust,
            RehashedFileDigests.Instance,
            cancellationToken
        );

    /// <summary>
    /// <see cref="VerifyAsync(ImageVersion, string?, TrustStore?, CancellationToken)"/> with the files' digests taken
    /// from <paramref name="digests"/> (the worker's remembers the digest of a file that has not changed since).
    /// </summary>
    /// <param name="version">The version as the catalog records it.</param>
    /// <param name="trustedPublicKeyPem">A key the caller trusts explicitly, checked instead of the recorded one.</param>
    /// <param name="trust">The keys a signature must be made with; null checks with the recorded key only.</param>
    /// <param name="digests">Where the sha256 of each local artifact and evidence document comes from.</param>
    /// <param name="cancellationToken">Cancels the re-hashing.</param>
    public static async Task<VerificationReport> VerifyAsync(
        ImageVersion version,
        string? trustedPublicKeyPem,
        TrustStore? trust,
        IFileDigests digests,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(digests);
        var problems = new List<string>();
        var envelopeDoc = Newest(version, ProvenanceSubjects.EnvelopeKind);
        var keyDoc = Newest(version, ProvenanceSubjects.PublicKeyKind);
        var statementDoc = Newest(version, ProvenanceSubjects.StatementKind);
        var signedAt = envelopeDoc?.RecordedAt;
        bool Covered(EvidenceDocument e) =>
            envelopeDoc is not null
            && (
                ProvenanceSubjects.SignatureKinds.Contains(e.Kind)
                || signedAt is null
                || e.RecordedAt is null
                || e.RecordedAt <= signedAt
            );

        var items = new List<VerifiedItem>();
        foreach (var a in version.Artifacts)
        {
            items.Add(
                a.Sha256 is null
                    ? new VerifiedItem(
                        "artifact",
                        a.Kind,
                        a.Location,
                        ItemStatus.Remote,
                        null,
                        null,
                        envelopeDoc is not null
                    )
                    : await CheckFileAsync(
                        "artifact",
                        a.Kind,
                        a.Location,
                        a.Sha256,
                        envelopeDoc is not null,
                        digests,
                        cancellationToken
                    )
            );
        }

        foreach (var e in version.Evidence)
        {
            items.Add(
                await CheckFileAsync(
                    "evidence",
                    e.Kind,
                    e.Location,
                    e.Sha256,
                    Covered(e),
                    digests,
                    cancellationToken
                )
            );
        }

        foreach (var item in items.Where(i => i.Status == ItemStatus.Changed))
        {
            problems.Add(
                $"{item.Role} {item.Kind} changed: {item.Location} has sha256 {item.ActualSha256}, recorded {item.RecordedSha256}"
            );
        }

        if (envelopeDoc is null)
        {
            problems.Add(
                $"{version.Image}@{version.Version} is not signed: it has no {ProvenanceSubjects.EnvelopeKind} evidence"
            );
            return new VerificationReport(
                version.Image,
                version.Version,
                null,
                null,
                false,
                0,
                items,
                problems
            );
        }

        string? keyText = trustedPublicKeyPem;
        string? recordedKey = null;
        if (keyDoc is not null && File.Exists(keyDoc.Location))
        {
            recordedKey = await File.ReadAllTextAsync(keyDoc.Location, cancellationToken);
            keyText ??= recordedKey;
        }

        var keyId = recordedKey is null ? null : PublicKeyDocument.Header(recordedKey, "keyid");
        var algorithm = recordedKey is null
            ? null
            : PublicKeyDocument.Header(recordedKey, "algorithm");
        DsseEnvelope? envelope = null;
        if (!File.Exists(envelopeDoc.Location))
        {
            problems.Add($"the signature envelope {envelopeDoc.Location} is missing");
        }
        else
        {
            try
            {
                envelope = Dsse.Parse(
                    await File.ReadAllBytesAsync(envelopeDoc.Location, cancellationToken)
                );
            }
            catch (FormatException e)
            {
                problems.Add(
                    $"the signature envelope {envelopeDoc.Location} is unreadable: {e.Message}"
                );
            }
        }

        var signatureValid = false;
        string? fingerprint = null;
        bool? trusted = null;
        if (envelope is not null)
        {
            keyId ??= envelope.Signatures.Count > 0 ? envelope.Signatures[0].KeyId : null;
            if (keyText is null)
            {
                problems.Add(
                    "no public key to check the signature with: the signing-public-key evidence is missing; pass --key"
                );
            }
            else
            {
                signatureValid = VerifySignature(envelope, keyText, problems);
                fingerprint = TryFingerprint(keyText);
            }

            if (fingerprint is not null)
            {
                CheckKeyIds(envelope, recordedKey, fingerprint, problems);
                if (trust is not null && trustedPublicKeyPem is null)
                {
                    trusted = trust.Find(fingerprint) is not null;
                    if (trusted == false)
                    {
                        problems.Add(
                            $"signed with the key {fingerprint} (keyid {keyId ?? "-"}), which is not in the trust store "
                                + $"{trust.Path}: if you trust it, 'imageforge keys trust add {keyDoc?.Location ?? "<public key file>"}'"
                        );
                    }
                }
            }

            if (envelope.PayloadType != ProvenanceStatement.PayloadType)
            {
                problems.Add(
                    $"the envelope's payloadType is {envelope.PayloadType}, expected {ProvenanceStatement.PayloadType}"
                );
            }
        }

        var subjectCount = 0;
        if (envelope is not null)
        {
            if (
                statementDoc is not null
                && Convert.ToHexStringLower(SHA256.HashData(envelope.Payload))
                    != statementDoc.Sha256
            )
            {
                problems.Add(
                    $"the provenance statement recorded in the catalog ({statementDoc.Location}) is not the signed payload"
                );
            }

            subjectCount = CompareSubjects(version, envelope, Covered, problems);
        }

        return new VerificationReport(
            version.Image,
            version.Version,
            keyId,
            algorithm,
            signatureValid,
            subjectCount,
            items,
            problems
        )
        {
            KeyFingerprint = fingerprint,
            KeyTrusted = trusted,
        };
    }

    private static string? TryFingerprint(string keyText)
    {
        try
        {
            return TrustStore.Fingerprint(keyText);
        }
        catch (Exception e)
            when (e is ArgumentException or CryptographicException or SigningException)
        {
            // VerifySignature has named the unreadable key already.
            return null;
        }
    }

    /// <summary>
    /// A keyid that names a fingerprint (a file key's <c>file:sha256:&lt;hex&gt;</c>) must name the key checked;
    /// any keyid must be the one the recorded public key document names. A public key swapped for another is caught
    /// here even when the envelope was re-signed to match it.
    /// </summary>
    private static void CheckKeyIds(
        DsseEnvelope envelope,
        string? recordedKey,
        string fingerprint,
        List<string> problems
    )
    {
        var recordedId = recordedKey is null
            ? null
            : PublicKeyDocument.Header(recordedKey, "keyid");
        foreach (
            var id in envelope.Signatures.Select(s => s.KeyId).Distinct(StringComparer.Ordinal)
        )
        {
            var at = id.LastIndexOf("sha256:", StringComparison.Ordinal);
            if (
                at >= 0
                && !string.Equals(id[at..], fingerprint, StringComparison.OrdinalIgnoreCase)
            )
            {
                problems.Add(
                    $"the envelope's keyid {id} does not match the fingerprint {fingerprint} of the public key it was checked with"
                );
            }
            else if (recordedId is not null && recordedId != id)
            {
                problems.Add(
                    $"the envelope's keyid {id} is not the keyid {recordedId} of the recorded public key"
                );
            }
        }
    }

    private static bool VerifySignature(
        DsseEnvelope envelope,
        string keyText,
        List<string> problems
    )
    {
        try
        {
            using var key = EcdsaKeys.ImportPublicKeyPem(keyText);
            if (Dsse.Verify(envelope, key))
            {
                return true;
            }

            problems.Add(
                $"the signature does not verify with the public key (keyid {string.Join(", ", envelope.Signatures.Select(s => s.KeyId))}): the envelope or its payload changed, or another key signed it"
            );
        }
        catch (Exception e)
            when (e is ArgumentException or CryptographicException or SigningException)
        {
            problems.Add($"the public key is unreadable: {e.Message}");
        }

        return false;
    }

    private static int CompareSubjects(
        ImageVersion version,
        DsseEnvelope envelope,
        Func<EvidenceDocument, bool> covered,
        List<string> problems
    )
    {
        IReadOnlyList<ProvenanceSubject> signed;
        try
        {
            signed = ProvenanceStatement.ReadSubjects(envelope.Payload);
        }
        catch (Exception e)
            when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            problems.Add($"the signed payload is not a readable in-toto statement: {e.Message}");
            return 0;
        }

        var expected = ProvenanceSubjects.For(version.Artifacts, version.Evidence.Where(covered));
        var bySigned = signed
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Sha256, StringComparer.Ordinal);
        var byExpected = expected.ToDictionary(s => s.Name, s => s.Sha256, StringComparer.Ordinal);
        foreach (var (name, sha256) in byExpected)
        {
            if (!bySigned.TryGetValue(name, out var signedSha))
            {
                problems.Add($"{name} is in the catalog but not in the signed provenance");
            }
            else if (signedSha != sha256)
            {
                problems.Add(
                    $"{name} changed in the catalog: recorded sha256 {sha256}, signed {signedSha}"
                );
            }
        }

        foreach (var name in bySigned.Keys.Where(n => !byExpected.ContainsKey(n)))
        {
            problems.Add($"{name} is signed but no longer in the catalog");
        }

        return signed.Count;
    }

    private static async Task<VerifiedItem> CheckFileAsync(
        string role,
        string kind,
        string path,
        string recorded,
        bool signed,
        IFileDigests digests,
        CancellationToken cancellationToken
    )
    {
        if (!File.Exists(path))
        {
            return new VerifiedItem(role, kind, path, ItemStatus.Missing, recorded, null, signed);
        }

        var actual = await digests.Sha256Async(path, cancellationToken);
        return new VerifiedItem(
            role,
            kind,
            path,
            string.Equals(actual, recorded, StringComparison.OrdinalIgnoreCase)
                ? ItemStatus.Ok
                : ItemStatus.Changed,
            recorded,
            actual,
            signed
        );
    }

    private static EvidenceDocument? Newest(ImageVersion version, string kind) =>
        version.Evidence.LastOrDefault(e => e.Kind == kind);
}
