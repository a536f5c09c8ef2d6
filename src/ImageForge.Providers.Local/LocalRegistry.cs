using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageForge.Core.Builds;
using ImageForge.Core.Inputs;
using ImageForge.Core.Promotion;

namespace ImageForge.Providers.Local;

/// <summary>
/// The local target's registry: a directory per image and channel, <c>&lt;data-dir&gt;/registry/&lt;image&gt;/&lt;channel&gt;/</c>,
/// holding a copy of each published version's artifacts under <c>&lt;version&gt;/</c> and a <c>manifest.json</c> that
/// lists every version published there with its files, digests and state (published, or revoked with the reason).
/// Publishing is idempotent: a file already there with the right digest is kept; anything else is copied to a
/// temporary name, checked, and renamed into place. The catalog's channel pointer, not the manifest, says which
/// version a channel serves.
/// </summary>
public sealed class LocalRegistry : IDistributionTarget
{
    public const string ManifestName = "manifest.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly string _root;
    private readonly TimeProvider _time;

    public LocalRegistry(string dataDirectory, TimeProvider time)
    {
        _root = Path.Combine(dataDirectory, "registry");
        _time = time;
    }

    /// <inheritdoc />
    public string Target => LocalProvider.ProviderName;

    /// <summary>The directory of one channel of an image.</summary>
    public string ChannelDirectory(string image, string channel) =>
        Path.Combine(_root, image, channel);

    /// <inheritdoc />
    public async Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    )
    {
        var directory = Path.Combine(ChannelDirectory(version.Image, channel), version.Version);
        Directory.CreateDirectory(directory);
        var files = new JsonArray();
        var copied = 0;
        foreach (var artifact in planned.Artifacts)
        {
            var name = Path.GetFileName(artifact.Location);
            var destination = Path.Combine(directory, name);
            if (!File.Exists(artifact.Location))
            {
                return StepOutcome.Failed(
                    $"{artifact.Location} is missing; the version cannot be published (see 'imageforge verify')"
                );
            }

            if (
                artifact.Sha256 is null
                || await ShaAsync(destination, cancellationToken) != artifact.Sha256
            )
            {
                var temporary = destination + ".partial";
                File.Copy(artifact.Location, temporary, overwrite: true);
                var copiedSha = await ShaAsync(temporary, cancellationToken);
                if (artifact.Sha256 is not null && copiedSha != artifact.Sha256)
                {
                    File.Delete(temporary);
                    return StepOutcome.Failed(
                        $"{artifact.Location} has sha256 {copiedSha}, recorded {artifact.Sha256}; it changed since the build"
                    );
                }

                File.Move(temporary, destination, overwrite: true);
                copied++;
            }

            files.Add(
                new JsonObject
                {
                    ["kind"] = artifact.Kind,
                    ["file"] = Path.Combine(version.Version, name),
                    ["sha256"] = artifact.Sha256,
                    ["size_bytes"] = artifact.SizeBytes,
                }
            );
        }

        await UpdateManifestAsync(
            version.Image,
            channel,
            entries =>
            {
                var entry = entries
                    .FirstOrDefault(e => (string?)e!["version"] == version.Version)
                    ?.AsObject();
                if (entry is null)
                {
                    entry = new JsonObject { ["version"] = version.Version };
                    entries.Add(entry);
                }

                entry["state"] ??= "published";
                entry["published_at"] ??= _time.GetUtcNow().ToString("O");
                entry["files"] = files;
            },
            cancellationToken
        );
        return StepOutcome.Done(
            $"{planned.Artifacts.Count} file(s) in {directory} ({copied} copied, {planned.Artifacts.Count - copied} already there)"
        );
    }

    /// <inheritdoc />
    public async Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        var marked = new List<string>();
        foreach (var channel in Channels(version.Image))
        {
            await UpdateManifestAsync(
                version.Image,
                channel,
                entries =>
                {
                    if (
                        entries.FirstOrDefault(e => (string?)e!["version"] == version.Version)
                        is JsonObject entry
                    )
                    {
                        if ((string?)entry["state"] != "revoked")
                        {
                            entry["state"] = "revoked";
                            entry["revoked_at"] = _time.GetUtcNow().ToString("O");
                            entry["revoked_reason"] = reason;
                        }

                        marked.Add(channel);
                    }
                },
                cancellationToken
            );
        }

        return StepOutcome.Done(
            marked.Count == 0
                ? "never published locally; nothing to mark"
                : $"marked revoked in {string.Join(", ", marked)}"
        );
    }

    /// <summary>Removes the version's published copies from every channel (retention); its manifest entries become deleted.</summary>
    public async Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        foreach (var channel in Channels(version.Image))
        {
            var directory = Path.Combine(ChannelDirectory(version.Image, channel), version.Version);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            await UpdateManifestAsync(
                version.Image,
                channel,
                entries =>
                {
                    if (
                        entries.FirstOrDefault(e => (string?)e!["version"] == version.Version)
                        is JsonObject entry
                    )
                    {
                        entry["state"] = "deleted";
                        entry.Remove("files");
                    }
                },
                cancellationToken
            );
        }

        return StepOutcome.Done("published copies removed");
    }

    /// <summary>The state a channel's manifest gives the version: published, revoked, deleted, or null when absent.</summary>
    public string? StateOf(string image, string channel, string version)
    {
        var path = Path.Combine(ChannelDirectory(image, channel), ManifestName);
        if (!File.Exists(path))
        {
            return null;
        }

        return ReadManifest(path)["versions"]!
            .AsArray()
            .FirstOrDefault(e => (string?)e!["version"] == version)
            ?["state"]?.GetValue<string>();
    }

    private IEnumerable<string> Channels(string image)
    {
        var directory = Path.Combine(_root, image);
        return Directory.Exists(directory)
            ? Directory
                .EnumerateDirectories(directory)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)
            : [];
    }

    // Read, change, write to a temporary file and rename: a reader never sees half a manifest.
    private async Task UpdateManifestAsync(
        string image,
        string channel,
        Action<JsonArray> change,
        CancellationToken cancellationToken
    )
    {
        var directory = ChannelDirectory(image, channel);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, ManifestName);
        var manifest = File.Exists(path)
            ? ReadManifest(path)
            : new JsonObject
            {
                ["image"] = image,
                ["channel"] = channel,
                ["versions"] = new JsonArray(),
            };
        change(manifest["versions"]!.AsArray());
        var temporary = path + ".partial";
        await File.WriteAllTextAsync(temporary, manifest.ToJsonString(Indented), cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    // The manifest is read back and edited in place: its shape is checked first, so a damaged one is refused naming
    // the file and the JSON path (a failed step of the promotion) rather than failing on a cast.
    private static JsonObject ReadManifest(string path)
    {
        const string What = "a local registry manifest";
        var bytes = JsonInput.ReadFile(path, What);
        using (var document = JsonInput.Parse(bytes, path, What))
        {
            foreach (var entry in JsonValueAt.Root(document, path).Required("versions").Items())
            {
                entry.Required("version").AsString();
                entry.OptionalString("state");
                entry.Optional("files")?.Items();
            }
        }

        return JsonNode.Parse(bytes, documentOptions: JsonInput.DocumentOptions)!.AsObject();
    }

    private static async Task<string?> ShaAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
