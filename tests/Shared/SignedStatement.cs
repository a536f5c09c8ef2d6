using System.Text.Json;

namespace ImageForge.TestSupport;

/// <summary>The in-toto statement a version's provenance signs: its subjects with their image manifests.</summary>
public sealed record SignedStatement(
    IReadOnlyList<(string Name, string Sha256, JsonElement? Annotations)> Subjects
)
{
    /// <summary>
    /// The statement of the newest version in the output of <c>images show IMAGE --output json</c> (its
    /// provenance-statement evidence).
    /// </summary>
    public static SignedStatement OfNewestVersion(string imagesShowJson)
    {
        using var shown = JsonDocument.Parse(imagesShowJson);
        return Read(
            shown
                .RootElement.GetProperty("versions")[0]
                .GetProperty("evidence")
                .EnumerateArray()
                .Single(e =>
                    e.GetProperty("kind").GetString()
                    == ImageForge.Core.Provenance.ProvenanceSubjects.StatementKind
                )
                .GetProperty("path")
                .GetString()!
        );
    }

    public static SignedStatement Read(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return new SignedStatement([
            .. json
                .RootElement.GetProperty("subject")
                .EnumerateArray()
                .Select(s =>
                    (
                        s.GetProperty("name").GetString()!,
                        s.GetProperty("digest").GetProperty("sha256").GetString()!,
                        s.TryGetProperty("annotations", out var a) ? (JsonElement?)a.Clone() : null
                    )
                ),
        ]);
    }

    /// <summary>Each disk file's digest mapped to the digest of the disk it was made from (its source_sha256).</summary>
    public IReadOnlyDictionary<string, string> Disks() =>
        Subjects
            .Where(s =>
                s.Name.StartsWith("artifact/", StringComparison.Ordinal) && Source(s) is not null
            )
            .ToDictionary(s => s.Sha256, s => Source(s)!, StringComparer.Ordinal);

    /// <summary>The source digest of a cloud image's subject (<c>image/target/region/kind/id</c>).</summary>
    public string SourceOf(string target, string region, string id) =>
        Source(ImageSubject(target, region, id))
        ?? throw new InvalidOperationException($"{target}/{region} {id} has no source_sha256");

    /// <summary>The subject of a cloud image (<c>image/target/region/kind/id</c>); exactly one must exist.</summary>
    public (string Name, string Sha256, JsonElement? Annotations) ImageSubject(
        string target,
        string region,
        string id
    ) =>
        Subjects.Single(s =>
            s.Name.StartsWith($"image/{target}/{region}/", StringComparison.Ordinal)
            && s.Name.EndsWith("/" + id, StringComparison.Ordinal)
        );

    private static string? Source((string Name, string Sha256, JsonElement? Annotations) subject) =>
        subject.Annotations is { } a && a.TryGetProperty("source_sha256", out var s)
            ? s.GetString()
            : null;
}
