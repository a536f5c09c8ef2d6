using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Errors;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Builds;

/// <summary>
/// The import stage of a build (docs/clouds.md): reserves the version, records what the disk build made
/// (<c>disk-build.json</c> in the output directory, so a resumed build finds its disk), marks the build resumable,
/// and runs every target's importer in parallel, each with the build's journal of its steps.
/// </summary>
internal sealed class BuildImports(
    ICatalog catalog,
    BuildRecord build,
    PreparedBuild prepared,
    ITargetBuildSink sink,
    TimeProvider time,
    ImportSlots slots
)
{
    private const string DiskBuildFile = "disk-build.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Imports the disk into every import target; returns the disk build's result with their images added.</summary>
    public async Task<TargetBuildResult> RunAsync(
        string outputDirectory,
        TargetBuildResult disk,
        bool resumed,
        CancellationToken cancellationToken
    )
    {
        var version = await catalog.ReserveVersionAsync(
            build.Id,
            time.GetUtcNow(),
            cancellationToken
        );
        if (!resumed)
        {
            await WriteDiskBuildAsync(outputDirectory, disk, cancellationToken);
            await catalog.MarkResumableAsync(build.Id, cancellationToken);
        }

        var runs = prepared
            .Imports.Select(import => ImportAsync(import, version, disk, cancellationToken))
            .ToList();
        try
        {
            await Task.WhenAll(runs);
        }
        catch (ImageForgeException) when (runs.All(r => r.IsCompleted))
        {
            // Every import has ended; the failures are reported together below.
        }

        var failures = runs.Where(r => r.IsFaulted)
            .Select(r => r.Exception!.InnerException!)
            .ToList();
        if (failures.OfType<OperationCanceledException>().FirstOrDefault() is { } cancelled)
        {
            throw cancelled;
        }

        if (failures.Count > 0)
        {
            throw new ToolFailedException(
                "import",
                string.Join(Environment.NewLine, failures.Select(f => f.Message))
                    + Environment.NewLine
                    + $"what was imported is kept: 'imageforge build --resume {build.Id}' retries the rest",
                []
            );
        }

        return disk with
        {
            Artifacts = [.. disk.Artifacts, .. runs.SelectMany(r => r.Result)],
        };
    }

    /// <summary>What the interrupted build's disk build made, each file checked against its recorded sha256.</summary>
    public async Task<TargetBuildResult> ReadDiskBuildAsync(
        string outputDirectory,
        CancellationToken cancellationToken
    )
    {
        var path = Path.Combine(outputDirectory, DiskBuildFile);
        DiskBuild? recorded;
        try
        {
            await using var stream = File.OpenRead(path);
            recorded = await JsonSerializer.DeserializeAsync<DiskBuild>(
                stream,
                Json,
                cancellationToken
            );
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidInputException(
                $"build {build.Id} cannot be resumed: {path} is missing or unreadable ({e.Message}); build the image again"
            );
        }

        if (recorded is null)
        {
            throw new InvalidInputException($"build {build.Id} cannot be resumed: {path} is empty");
        }

        sink.Progress("resume", $"checking the disk of build {build.Id}");
        foreach (
            var (file, sha256) in recorded
                .Artifacts.Where(a => a.Sha256 is not null)
                .Select(a => (a.Location, a.Sha256!))
                .Concat(recorded.Evidence.Select(e => (e.Location, e.Sha256)))
        )
        {
            if (!File.Exists(file) || await HashAsync(file, cancellationToken) != sha256)
            {
                throw new InvalidInputException(
                    $"build {build.Id} cannot be resumed: {file} is missing or changed since the disk was built; build the image again"
                );
            }
        }

        return new TargetBuildResult(recorded.Artifacts, recorded.Evidence)
        {
            Tools = recorded.Tools,
        };
    }

    private async Task<IReadOnlyList<Artifact>> ImportAsync(
        PreparedImport import,
        string version,
        TargetBuildResult disk,
        CancellationToken cancellationToken
    )
    {
        var provider = import.Target.Provider;
        // A target with a guest agent imports its flavour of the disk (named after it); the others the base disk.
        var flavour = import.Target.GuestAgent is null ? null : provider;
        var source =
            disk.Artifacts.FirstOrDefault(a =>
                a.Kind == import.Importer.DiskKind && DiskFlavour.Of(a) == flavour
            )
            ?? throw new ToolFailedException(
                provider,
                flavour is null
                    ? $"{provider}: the disk build made no {import.Importer.DiskKind} to import; its template must export it"
                    : $"{provider}: the disk build made no {import.Importer.DiskKind} of the {flavour} flavour to import; its template must export it",
                []
            );
        using var slot = await slots.EnterAsync(
            provider,
            limit =>
                sink.Progress(
                    $"import {provider}",
                    $"waiting: {limit} import(s) into {provider} already running on this worker (queue.limits)"
                ),
            cancellationToken
        );
        sink.Progress(
            $"import {provider}",
            $"importing {Path.GetFileName(source.Location)} as {version}"
        );
        // The current activity of this import's flow: the journal adds its steps to it as events.
        using var span = ImageForgeTelemetry.Source.StartActivity(
            ImageForgeTelemetry.Spans.Import,
            ActivityKind.Internal,
            default(ActivityContext),
            new TagList
            {
                { ImageForgeTelemetry.Attributes.BuildId, build.Id },
                { ImageForgeTelemetry.Attributes.Image, build.Image },
                { ImageForgeTelemetry.Attributes.Target, provider },
                { ImageForgeTelemetry.Attributes.Version, version },
            }
        );
        try
        {
            var images = await import.Importer.ImportAsync(
                new ImportRequest(
                    build.Id,
                    prepared.Definition,
                    import.Target,
                    version,
                    source,
                    prepared.Fingerprint,
                    new Journal(catalog, build.Id, provider),
                    import.Secrets
                ),
                sink,
                cancellationToken
            );
            return flavour is null ? images : [.. images.Select(i => WithFlavour(i, flavour))];
        }
        catch (ImageForgeException e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new ToolFailedException(provider, $"{provider}: {e.Message}", [], e);
        }
    }

    // The cloud image says which flavour's disk it was made from (signed with it, shown by images show).
    private static Artifact WithFlavour(Artifact image, string flavour) =>
        image with
        {
            Details = new SortedDictionary<string, string>(
                image.Details.ToDictionary(),
                StringComparer.Ordinal
            )
            {
                [DiskFlavour.DetailKey] = flavour,
            },
        };

    private static async Task WriteDiskBuildAsync(
        string outputDirectory,
        TargetBuildResult disk,
        CancellationToken cancellationToken
    )
    {
        await AtomicFile.WriteAsync(
            Path.Combine(outputDirectory, DiskBuildFile),
            JsonSerializer.SerializeToUtf8Bytes(
                new DiskBuild(disk.Artifacts, disk.Evidence, disk.Tools),
                Json
            ),
            cancellationToken
        );
    }

    private static async Task<string> HashAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    private sealed record DiskBuild(
        IReadOnlyList<Artifact> Artifacts,
        IReadOnlyList<EvidenceDocument> Evidence,
        IReadOnlyDictionary<string, string> Tools
    );

    private sealed class Journal(ICatalog catalog, string buildId, string target) : IImportJournal
    {
        public async Task<ImportStep?> GetAsync(
            string region,
            string name,
            CancellationToken cancellationToken = default
        ) =>
            (await catalog.GetImportStepsAsync(buildId, cancellationToken))
                .Where(r => r.Target == target && r.Step.Region == region && r.Step.Step == name)
                .Select(r => r.Step)
                .FirstOrDefault();

        public Task RecordAsync(ImportStep entry, CancellationToken cancellationToken = default)
        {
            Activity.Current?.AddEvent(
                new ActivityEvent(
                    ImageForgeTelemetry.Attributes.Step,
                    tags: new ActivityTagsCollection
                    {
                        { ImageForgeTelemetry.Attributes.Region, entry.Region },
                        { ImageForgeTelemetry.Attributes.Step, entry.Step },
                        {
                            ImageForgeTelemetry.Attributes.Outcome,
                            entry.State.ToString().ToLowerInvariant()
                        },
                    }
                )
            );
            return catalog.RecordImportStepAsync(buildId, target, entry, cancellationToken);
        }
    }
}
