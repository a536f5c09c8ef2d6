using System.Globalization;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Provenance;

/// <summary>Something a build used, named relative to the content root, by digest or by where it came from.</summary>
public sealed record ResolvedDependency
{
    /// <summary>Path relative to the content root (files), or a short identifier (base image, tool).</summary>
    public required string Name { get; init; }

    /// <summary>Where it lives or came from, e.g. a Debian mirror URL or a package URL; null for content files.</summary>
    public string? Uri { get; init; }

    /// <summary>Lowercase hex sha256 of a file's content; null for things identified by name and URI only.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Extra facts (role, suite, version), written with keys sorted ordinally.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } =
        new Dictionary<string, string>();
}

/// <summary>Everything a provenance statement says about one version.</summary>
public sealed record ProvenanceRequest
{
    public required string Image { get; init; }
    public required string Version { get; init; }
    public required string Target { get; init; }
    public required string BuildId { get; init; }
    public required BuildTrigger Trigger { get; init; }
    public required string Requester { get; init; }
    public string? Reason { get; init; }

    /// <summary>The build's input fingerprint (hash of every input), as recorded in the catalog.</summary>
    public required string Fingerprint { get; init; }

    public required IReadOnlyList<Artifact> Artifacts { get; init; }

    /// <summary>Evidence so far; the signature's own kinds are left out of the subjects.</summary>
    public required IReadOnlyList<EvidenceDocument> Evidence { get; init; }

    public required IReadOnlyList<ResolvedDependency> Dependencies { get; init; }
    public required DateTimeOffset StartedOn { get; init; }
    public required DateTimeOffset FinishedOn { get; init; }

    /// <summary>The ImageForge version that ran the build (builder.version).</summary>
    public required string BuilderVersion { get; init; }
}

/// <summary>
/// Writes an in-toto Statement v1 with an SLSA Provenance v1 predicate. The output is deterministic: properties in a
/// fixed order, subjects and dependencies as given (sorted by the callers), annotations sorted, no whitespace, times
/// in UTC with second precision.
/// </summary>
public static class ProvenanceStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateType = "https://slsa.dev/provenance/v1";

    /// <summary>DSSE payload type of an in-toto statement.</summary>
    public const string PayloadType = "application/vnd.in-toto+json";

    /// <summary>What an ImageForge build is: the meaning of externalParameters and resolvedDependencies.</summary>
    public const string BuildType = "https://imageforge.dev/build-types/packer-image/v1";

    /// <summary>The builder: the imageforge command line or worker running Packer on its host.</summary>
    public const string BuilderId = "https://imageforge.dev/builders/imageforge/v1";

    /// <summary>The statement as UTF-8 JSON bytes: exactly what is signed and stored.</summary>
    public static byte[] Write(ProvenanceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_type", StatementType);
            json.WriteStartArray("subject");
            var annotations = request
                .Artifacts.Select(a => (Artifact: a, Facts: SubjectAnnotations(a)))
                .Where(a => a.Facts.Count > 0)
                .GroupBy(a =>
                    (ProvenanceSubjects.NameOf(a.Artifact), ProvenanceSubjects.DigestOf(a.Artifact))
                )
                .ToDictionary(g => g.Key, g => g.First().Facts);
            foreach (var subject in ProvenanceSubjects.For(request.Artifacts, request.Evidence))
            {
                json.WriteStartObject();
                json.WriteString("name", subject.Name);
                json.WriteStartObject("digest");
                json.WriteString("sha256", subject.Sha256);
                json.WriteEndObject();
                // A subject renamed to tell two alike apart (name@digest) still gets its artifact's annotations.
                var at = subject.Name.LastIndexOf('@');
                if (
                    annotations.TryGetValue((subject.Name, subject.Sha256), out var facts)
                    || (
                        at > 0
                        && annotations.TryGetValue((subject.Name[..at], subject.Sha256), out facts)
                    )
                )
                {
                    WriteAnnotations(json, facts);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("predicateType", PredicateType);
            json.WriteStartObject("predicate");
            WriteBuildDefinition(json, request);
            WriteRunDetails(json, request);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads the subjects of a statement (as written by <see cref="Write"/> or any in-toto v1 producer).</summary>
    /// <exception cref="JsonException">
    /// The bytes are not an in-toto v1 statement: not JSON, nested deeper than 64, or a member of the wrong type (the
    /// message names its JSON path).
    /// </exception>
    public static IReadOnlyList<ProvenanceSubject> ReadSubjects(ReadOnlySpan<byte> statement)
    {
        var reader = new Utf8JsonReader(
            statement,
            new JsonReaderOptions { MaxDepth = JsonInput.MaxDepth }
        );
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (
            root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("_type", out var type)
            || type.ValueKind != JsonValueKind.String
            || type.GetString() != StatementType
            || !root.TryGetProperty("subject", out var subjects)
            || subjects.ValueKind != JsonValueKind.Array
        )
        {
            throw new JsonException($"not an in-toto statement of type {StatementType}");
        }

        var result = new List<ProvenanceSubject>();
        var index = 0;
        foreach (var subject in subjects.EnumerateArray())
        {
            var path = $"$.subject[{index++}]";
            if (subject.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(path, "an object", subject);
            }

            var name = subject.TryGetProperty("name", out var n)
                ? n.ValueKind == JsonValueKind.String
                    ? n.GetString()!
                    : throw Wrong(path + ".name", "a string", n)
                : "";
            var sha256 = "";
            if (subject.TryGetProperty("digest", out var digest))
            {
                if (digest.ValueKind != JsonValueKind.Object)
                {
                    throw Wrong(path + ".digest", "an object", digest);
                }

                if (digest.TryGetProperty("sha256", out var hex))
                {
                    sha256 =
                        hex.ValueKind == JsonValueKind.String
                            ? hex.GetString()!
                            : throw Wrong(path + ".digest.sha256", "a string", hex);
                }
            }

            result.Add(new ProvenanceSubject(name, sha256.ToLowerInvariant()));
        }

        return result;
    }

    private static JsonException Wrong(string path, string expected, JsonElement found) =>
        new($"{path}: expected {expected}, found {JsonInput.Describe(found.ValueKind)}");

    private static void WriteBuildDefinition(Utf8JsonWriter json, ProvenanceRequest r)
    {
        json.WriteStartObject("buildDefinition");
        json.WriteString("buildType", BuildType);
        json.WriteStartObject("externalParameters");
        json.WriteString("image", r.Image);
        json.WriteString("target", r.Target);
        json.WriteString("trigger", TriggerName(r.Trigger));
        json.WriteString("requester", r.Requester);
        if (r.Reason is not null)
        {
            json.WriteString("reason", r.Reason);
        }

        json.WriteEndObject();
        json.WriteStartObject("internalParameters");
        json.WriteString("fingerprint", r.Fingerprint);
        json.WriteString("version", r.Version);
        json.WriteEndObject();
        json.WriteStartArray("resolvedDependencies");
        foreach (var d in r.Dependencies)
        {
            json.WriteStartObject();
            json.WriteString("name", d.Name);
            if (d.Uri is not null)
            {
                json.WriteString("uri", d.Uri);
            }

            if (d.Sha256 is not null)
            {
                json.WriteStartObject("digest");
                json.WriteString("sha256", d.Sha256);
                json.WriteEndObject();
            }

            if (d.Annotations.Count > 0)
            {
                WriteAnnotations(json, d.Annotations);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    // What the statement says on an artifact's subject: what it was made from (source_sha256, e.g. the raw disk a VHD
    // was converted from or a cloud image imported from) and its details, as the catalog records them.
    private static SortedDictionary<string, string> SubjectAnnotations(Artifact artifact)
    {
        var facts = new SortedDictionary<string, string>(
            artifact.Details.ToDictionary(),
            StringComparer.Ordinal
        );
        if (artifact.SourceSha256 is { } source)
        {
            facts["source_sha256"] = source;
        }

        return facts;
    }

    private static void WriteAnnotations(
        Utf8JsonWriter json,
        IReadOnlyDictionary<string, string> annotations
    )
    {
        json.WriteStartObject("annotations");
        foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    private static void WriteRunDetails(Utf8JsonWriter json, ProvenanceRequest r)
    {
        json.WriteStartObject("runDetails");
        json.WriteStartObject("builder");
        json.WriteString("id", BuilderId);
        json.WriteStartObject("version");
        json.WriteString("imageforge", r.BuilderVersion);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartObject("metadata");
        json.WriteString("invocationId", r.BuildId);
        json.WriteString("startedOn", Timestamp(r.StartedOn));
        json.WriteString("finishedOn", Timestamp(r.FinishedOn));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string TriggerName(BuildTrigger trigger) =>
        trigger switch
        {
            BuildTrigger.BaseUpdate => "base-update",
            _ => trigger.ToString().ToLowerInvariant(),
        };

    // RFC 3339 in UTC, as the SLSA Timestamp type expects.
    private static string Timestamp(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
