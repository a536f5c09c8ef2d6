using System.Security.Cryptography;
using ImageForge.Core.Builds;

namespace ImageForge.Core.Provenance;

/// <summary>One subject of a provenance statement: a stable name and the sha256 digest it must have.</summary>
public sealed record ProvenanceSubject(string Name, string Sha256);

/// <summary>
/// How a version's artifacts and evidence are named as subjects. The build signs these names and the verifier derives
/// them again from the catalog, so both sides must use this one scheme:
/// <list type="bullet">
/// <item>file artifact: <c>artifact/{target}/{region}/{kind}/{file name}</c>, digest = the file's sha256;</item>
/// <item>provider image (no file): <c>image/{target}/{region}/{kind}/{provider id}</c>, digest = sha256 of its
/// manifest document (<see cref="ImageManifest"/>: provider, region, kind, id, the disk it was imported from and its
/// other identifiers), so all of them are covered by the signature;</item>
/// <item>evidence document: <c>evidence/{kind}/{file name}</c>, digest = the file's sha256.</item>
/// </list>
/// Two items with the same name get <c>@{first 12 hex digits of the digest}</c> appended.
/// </summary>
public static class ProvenanceSubjects
{
    /// <summary>Evidence kind of the in-toto statement itself.</summary>
    public const string StatementKind = "provenance";

    /// <summary>Evidence kind of the DSSE envelope that signs the statement.</summary>
    public const string EnvelopeKind = "provenance-dsse";

    /// <summary>Evidence kind of the signer's public key (PEM, with key id and algorithm as explanatory text).</summary>
    public const string PublicKeyKind = "signing-public-key";

    /// <summary>Kinds that make up the signature and are therefore not subjects of it.</summary>
    public static IReadOnlySet<string> SignatureKinds { get; } =
        new HashSet<string>(StringComparer.Ordinal) { StatementKind, EnvelopeKind, PublicKeyKind };

    /// <summary>The subjects for these artifacts and evidence documents, sorted by name (ordinal).</summary>
    public static IReadOnlyList<ProvenanceSubject> For(
        IEnumerable<Artifact> artifacts,
        IEnumerable<EvidenceDocument> evidence
    )
    {
        var raw = artifacts
            .Select(a => new ProvenanceSubject(NameOf(a), DigestOf(a)))
            .Concat(
                evidence
                    .Where(e => !SignatureKinds.Contains(e.Kind))
                    .Select(e => new ProvenanceSubject(NameOf(e), e.Sha256.ToLowerInvariant()))
            )
            .ToList();
        var duplicated = raw.GroupBy(s => s.Name, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToHashSet(StringComparer.Ordinal);
        return
        [
            .. raw.Select(s =>
                    duplicated.Contains(s.Name) ? s with { Name = $"{s.Name}@{s.Sha256[..12]}" } : s
                )
                .Distinct()
                .OrderBy(s => s.Name, StringComparer.Ordinal),
        ];
    }

    /// <summary>The subject name of an artifact.</summary>
    public static string NameOf(Artifact artifact) =>
        artifact.Sha256 is null
            ? $"image/{artifact.Target}/{artifact.Region}/{artifact.Kind}/{artifact.Location}"
            : $"artifact/{artifact.Target}/{artifact.Region}/{artifact.Kind}/{Path.GetFileName(artifact.Location)}";

    /// <summary>The subject name of an evidence document.</summary>
    public static string NameOf(EvidenceDocument evidence) =>
        $"evidence/{evidence.Kind}/{Path.GetFileName(evidence.Location)}";

    /// <summary>The digest an artifact's subject carries.</summary>
    public static string DigestOf(Artifact artifact) =>
        artifact.Sha256?.ToLowerInvariant()
        ?? Convert.ToHexStringLower(SHA256.HashData(ImageManifest(artifact)));

    /// <summary>
    /// The manifest document of a provider image: what identifies it at its provider, as canonical JSON (keys in a
    /// fixed order, no spaces). Providers that record a richer manifest as evidence will sign that document too.
    /// </summary>
    public static byte[] ImageManifest(Artifact artifact)
    {
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("provider", artifact.Target);
            json.WriteString("region", artifact.Region);
            json.WriteString("kind", artifact.Kind);
            json.WriteString("id", artifact.Location);
            // Written only when present, so the manifests of images recorded before they existed are unchanged.
            if (artifact.SourceSha256 is { } source)
            {
                json.WriteString("source_sha256", source);
            }

            if (artifact.Details.Count > 0)
            {
                json.WriteStartObject("details");
                foreach (
                    var (key, value) in artifact.Details.OrderBy(p => p.Key, StringComparer.Ordinal)
                )
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
