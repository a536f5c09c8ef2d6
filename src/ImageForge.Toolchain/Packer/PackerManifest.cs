using System.Text.Json;
using ImageForge.Core.Errors;

namespace ImageForge.Toolchain.Packer;

/// <summary>One file of a manifest build.</summary>
public sealed record PackerManifestFile(string Name, long Size);

/// <summary>One build as the <c>manifest</c> post-processor recorded it.</summary>
/// <param name="Name">The source name: <c>local</c> for the local template's <c>null</c> source.</param>
/// <param name="BuilderType">The builder (<c>null</c>, <c>amazon-ebs</c>).</param>
/// <param name="BuildTime">When the build finished.</param>
/// <param name="Files">Its files (Packer writes <c>null</c> for none; read as empty).</param>
/// <param name="ArtifactId">The artifact id (<c>eu-west-1:ami-...</c>): the reliable place to read image ids from.</param>
/// <param name="PackerRunUuid">The Packer run that made it.</param>
/// <param name="CustomData">The template's <c>custom_data</c>.</param>
public sealed record PackerManifestBuild(
    string Name,
    string BuilderType,
    DateTimeOffset BuildTime,
    IReadOnlyList<PackerManifestFile> Files,
    string ArtifactId,
    string PackerRunUuid,
    IReadOnlyDictionary<string, string> CustomData
);

/// <summary>
/// The JSON file the <c>manifest</c> post-processor writes. Packer appends to it on every run unless run with
/// <c>-force</c>, so <see cref="LastRun"/> picks the builds of the latest run.
/// </summary>
public sealed record PackerManifest(IReadOnlyList<PackerManifestBuild> Builds, string LastRunUuid)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The builds of the latest run (<c>last_run_uuid</c>).</summary>
    public IReadOnlyList<PackerManifestBuild> LastRun =>
        Builds.Where(b => b.PackerRunUuid == LastRunUuid).ToList();

    /// <summary>Reads a manifest file.</summary>
    /// <exception cref="ToolFailedException">The file is missing or is not a Packer manifest; the message names it.</exception>
    public static PackerManifest Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ManifestJson? json;
        try
        {
            using var stream = File.OpenRead(path);
            json = JsonSerializer.Deserialize<ManifestJson>(stream, Options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Failed(
                path,
                "was not written. Check that the template has a manifest post-processor whose output is this path.",
                e
            );
        }
        catch (JsonException e)
        {
            throw Failed(path, $"is not valid JSON ({e.Message}).", e);
        }

        if (json?.Builds is null || json.LastRunUuid is null)
        {
            throw Failed(
                path,
                "has no 'builds' or no 'last_run_uuid': it is not a Packer manifest.",
                null
            );
        }

        var builds = new List<PackerManifestBuild>();
        foreach (var (build, i) in json.Builds.Select((b, i) => (b, i)))
        {
            if (build?.Name is null || build.BuilderType is null || build.PackerRunUuid is null)
            {
                throw Failed(
                    path,
                    $"build #{i} lacks name, builder_type or packer_run_uuid.",
                    null
                );
            }

            if (build.Files?.Any(f => f is null) == true)
            {
                throw Failed(path, $"build #{i} has a file that is null.", null);
            }

            builds.Add(
                new PackerManifestBuild(
                    build.Name,
                    build.BuilderType,
                    DateTimeOffset.FromUnixTimeSeconds(build.BuildTime),
                    (build.Files ?? [])
                        .Select(f => new PackerManifestFile(f!.Name ?? "", f.Size))
                        .ToList(),
                    build.ArtifactId ?? "",
                    build.PackerRunUuid,
                    (build.CustomData ?? []).ToDictionary(
                        p => p.Key,
                        p =>
                            p.Value.ValueKind == JsonValueKind.String
                                ? p.Value.GetString()!
                                : p.Value.GetRawText(),
                        StringComparer.Ordinal
                    )
                )
            );
        }

        return new PackerManifest(builds, json.LastRunUuid);
    }

    private static ToolFailedException Failed(string path, string problem, Exception? inner) =>
        new("packer", $"The Packer manifest '{path}' {problem}", [], inner);

    private sealed record ManifestJson(List<BuildJson?>? Builds, string? LastRunUuid);

    private sealed record BuildJson(
        string? Name,
        string? BuilderType,
        long BuildTime,
        List<FileJson?>? Files,
        string? ArtifactId,
        string? PackerRunUuid,
        Dictionary<string, JsonElement>? CustomData
    );

    private sealed record FileJson(string? Name, long Size);
}
