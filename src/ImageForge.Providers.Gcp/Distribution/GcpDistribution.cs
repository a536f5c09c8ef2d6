using System.Net;
using System.Text.Json.Nodes;
using Google;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Providers.Gcp.Compute;
using ImageForge.Providers.Gcp.Import;

namespace ImageForge.Providers.Gcp.Distribution;

/// <summary>
/// Promotion, revocation and retention of GCE images (docs/gcp.md). A channel is served by an image family: promoting
/// puts the image into the channel's family (recorded on the artifact at import), labels it with the channel, and
/// makes sure <c>images.getFromFamily</c> answers it, deprecating a newer image of the family with this one as its
/// replacement when there is one (that is also how a channel returns to an earlier version). Revocation makes the
/// image OBSOLETE with the family's next image as replacement; gc deletes the image and its uploaded object.
/// </summary>
internal sealed class GcpDistribution(GcpClients clients, TimeProvider time) : IDistributionTarget
{
    // getFromFamily answers the newest non-deprecated image: at most this many newer ones are set aside per step.
    private const int MaxDeprecations = 20;

    /// <inheritdoc />
    public string Target => GcpProvider.ProviderName;

    /// <inheritdoc />
    public async Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(planned);
        return Images(planned.Artifacts).Any()
            ? await EachImageAsync(
                planned.Artifacts,
                (artifact, project, name) =>
                {
                    var family =
                        artifact.Details.GetValueOrDefault("family." + channel)
                        ?? GcpNames.Family(version.Image, channel);
                    return (
                        $"publish {name} to family {family}",
                        () =>
                            PublishOneAsync(
                                version,
                                channel,
                                project,
                                name,
                                family,
                                cancellationToken
                            )
                    );
                }
            )
            : StepOutcome.Failed($"{version.Image}@{version.Version} has no GCE image to publish");
    }

    /// <summary>
    /// A rollback publishes the earlier version again: its family then serves it, the newer image set aside as
    /// DEPRECATED with it as replacement. A channel a revocation left empty needs nothing more: the revocation makes
    /// the image OBSOLETE, which its family no longer serves.
    /// </summary>
    public async Task<StepOutcome> RollBackAsync(
        string channel,
        ImageVersion? leaving,
        ImageVersion? serving,
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (serving is null)
        {
            return StepOutcome.Done(
                $"{channel} is left empty: its family stops serving the image once it is OBSOLETE"
            );
        }

        var spec = targets.FirstOrDefault(t => t.Provider == Target);
        return await StepOutcome.EachAsync(
            PromotionService.Plan(serving).Where(s => s.Target == Target),
            step => PublishAsync(serving, channel, step with { Spec = spec }, cancellationToken),
            "no GCE image of this version"
        );
    }

    /// <inheritdoc />
    public Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return EachImageAsync(
            version.Artifacts,
            (_, project, name) =>
                (
                    $"make {name} OBSOLETE",
                    () => RevokeOneAsync(version, project, name, cancellationToken)
                )
        );
    }

    /// <summary>
    /// A baseline's <c>revocation: { disable: true }</c>: the OBSOLETE image becomes DELETED (its replacement kept), so
    /// that GCE refuses it even by name; the image itself stays until gc deletes it.
    /// </summary>
    public Task<StepOutcome> DisableAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return EachImageAsync(
            version.Artifacts,
            (_, project, name) =>
                (
                    $"mark {name} DELETED",
                    async () =>
                    {
                        var compute = (await ConnectAsync(version, cancellationToken)).Compute;
                        var image = await compute.GetImageAsync(project, name, cancellationToken);
                        if (image is null || image.Deprecated?.State == "DELETED")
                        {
                            return StepOutcome.Done(
                                $"{name} is {(image is null ? "gone" : "DELETED")} already"
                            );
                        }

                        var now = Now();
                        await WaitAsync(
                            compute,
                            project,
                            await compute.DeprecateAsync(
                                project,
                                name,
                                new DeprecationStatus
                                {
                                    State = "DELETED",
                                    Replacement = image.Deprecated?.Replacement,
                                    Deprecated = image.Deprecated?.Deprecated ?? now,
                                    Obsolete = image.Deprecated?.Obsolete ?? now,
                                    Deleted = now,
                                },
                                NewRequestId(),
                                cancellationToken
                            ),
                            cancellationToken
                        );
                        return StepOutcome.Done($"{name} DELETED (GCE refuses it)");
                    }
                )
        );
    }

    /// <inheritdoc />
    public Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return EachImageAsync(
            version.Artifacts,
            (artifact, project, name) =>
                (
                    $"delete {name}",
                    () => DeleteOneAsync(version, artifact, project, name, cancellationToken)
                )
        );
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LiveImage>> InspectAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        var images = version
            .Artifacts.Where(a => a.Target == Target && LiveImages.IsProviderImage(a))
            .ToList();
        if (images.Count == 0)
        {
            return [];
        }

        var live = new List<LiveImage>();
        // The account is the cached one every step uses (not disposed here).
        var account = await AskAsync(images[0], "", () => ConnectAsync(version, cancellationToken));
        foreach (var artifact in images)
        {
            var (project, name) = Parse(artifact);
            var image = await AskAsync(
                artifact,
                $" (project {project}) about {name}",
                () => account.Compute.GetImageAsync(project, name, cancellationToken)
            );
            live.Add(Live(version, artifact, image));
        }

        return live;
    }

    // Anything but "not found" means the cloud could not be asked: verify --live reports that, not a drift.
    private async Task<T> AskAsync<T>(Artifact artifact, string about, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e)
            when (e is ImageForgeException or GoogleApiException or HttpRequestException)
        {
            throw new ToolFailedException(
                Target,
                $"could not ask gcp in {artifact.Region}{about}: {e.Message}",
                [],
                e
            );
        }
    }

    // Labels hold no dots: the version label is the version as GcpNames.LabelValue wrote it, so it names this version
    // when it equals this version's encoding (and is reported as written otherwise).
    private LiveImage Live(ImageVersion version, Artifact artifact, ComputeImage? image)
    {
        if (image is null)
        {
            return new LiveImage(
                Target,
                artifact.Region,
                artifact.Location,
                LiveState.Missing,
                "404 not found",
                null
            );
        }

        var label = image.Labels?.GetValueOrDefault("version");
        var tagged = label == GcpNames.LabelValue(version.Version) ? version.Version : label;
        var deprecation = image.Deprecated?.State;
        var (state, detail) = (image.Status, deprecation) switch
        {
            (_, "DEPRECATED" or "OBSOLETE" or "DELETED") => (
                LiveState.Deprecated,
                $"{deprecation}"
                    + (
                        image.Deprecated!.Replacement is { } replacement
                            ? $", replacement {replacement}"
                            : ""
                    )
            ),
            ("READY", _) => (LiveState.Available, "READY"),
            ("FAILED", _) => (LiveState.Failed, "FAILED"),
            (var status, _) => (LiveState.Pending, status ?? "no status"),
        };
        return new LiveImage(Target, artifact.Region, artifact.Location, state, detail, tagged);
    }

    // Runs one action per GCE image of the version; the first failure is the step's outcome (retried by --resume).
    private static async Task<StepOutcome> EachImageAsync(
        IEnumerable<Artifact> artifacts,
        Func<Artifact, string, string, (string What, Func<Task<StepOutcome>> Run)> action
    )
    {
        return await StepOutcome.EachAsync(
            Images(artifacts),
            artifact =>
            {
                var (project, name) = Parse(artifact);
                var (what, run) = action(artifact, project, name);
                return Guard(what, run);
            },
            "no GCE image"
        );
    }

    private async Task<StepOutcome> PublishOneAsync(
        ImageVersion version,
        string channel,
        string project,
        string name,
        string family,
        CancellationToken cancellationToken
    )
    {
        var compute = (await ConnectAsync(version, cancellationToken)).Compute;
        var image = await compute.GetImageAsync(project, name, cancellationToken);
        if (image is null)
        {
            return StepOutcome.Failed(
                $"image {name} is missing in {project}; the version cannot be published"
            );
        }

        if (image.Family != family || image.Deprecated?.State is { } and not "ACTIVE")
        {
            // One patch puts the image into the family and takes any deprecation from an earlier rollback away.
            var changes = new JsonObject { ["family"] = family };
            if (image.Deprecated?.State is { } and not "ACTIVE")
            {
                changes["deprecated"] = new JsonObject { ["state"] = "ACTIVE" };
            }

            await WaitAsync(
                compute,
                project,
                await compute.PatchImageAsync(
                    project,
                    name,
                    changes,
                    NewRequestId(),
                    cancellationToken
                ),
                cancellationToken
            );
        }

        image = await compute.GetImageAsync(project, name, cancellationToken) ?? image;
        if (image.Labels?.GetValueOrDefault("channel") != GcpNames.LabelValue(channel))
        {
            var labels = new Dictionary<string, string>(image.Labels ?? [], StringComparer.Ordinal)
            {
                ["channel"] = GcpNames.LabelValue(channel),
            };
            await WaitAsync(
                compute,
                project,
                await compute.SetLabelsAsync(
                    project,
                    name,
                    labels,
                    image.LabelFingerprint ?? "",
                    cancellationToken
                ),
                cancellationToken
            );
        }

        // The family answers the newest non-deprecated image: set newer ones aside, pointing at this one.
        var setAside = new List<string>();
        for (var i = 0; i < MaxDeprecations; i++)
        {
            var served = await compute.GetFromFamilyAsync(project, family, cancellationToken);
            if (served is null || served.Name == name)
            {
                return served is null
                    ? StepOutcome.Failed(
                        $"family {family} serves no image after publishing {name}; is {name} READY?"
                    )
                    : StepOutcome.Done(
                        $"family {family} serves {name}"
                            + (
                                setAside.Count == 0
                                    ? ""
                                    : $" ({string.Join(", ", setAside)} DEPRECATED, replaced by it)"
                            )
                    );
            }

            await WaitAsync(
                compute,
                project,
                await compute.DeprecateAsync(
                    project,
                    served.Name,
                    new DeprecationStatus
                    {
                        State = "DEPRECATED",
                        Replacement = image.SelfLink ?? GcpNames.SelfLink(project, name),
                        Deprecated = Now(),
                    },
                    NewRequestId(),
                    cancellationToken
                ),
                cancellationToken
            );
            setAside.Add(served.Name);
        }

        return StepOutcome.Failed(
            $"family {family} still serves another image after {MaxDeprecations} deprecations"
        );
    }

    private async Task<StepOutcome> RevokeOneAsync(
        ImageVersion version,
        string project,
        string name,
        CancellationToken cancellationToken
    )
    {
        var compute = (await ConnectAsync(version, cancellationToken)).Compute;
        var image = await compute.GetImageAsync(project, name, cancellationToken);
        if (image is null)
        {
            return StepOutcome.Done($"{name} is gone already");
        }

        if (image.Deprecated?.State is "OBSOLETE" or "DELETED")
        {
            return StepOutcome.Done($"{name} is {image.Deprecated.State} already");
        }

        // The replacement: what the image's family serves once this one is out (its newest other good image).
        string? replacement = null;
        if (image.Family is { } family)
        {
            replacement = (
                await compute.ListImagesAsync(project, $"family = {family}", cancellationToken)
            )
                .Where(i =>
                    i.Name != name && i.Status == "READY" && i.Deprecated?.State is null or "ACTIVE"
                )
                .OrderByDescending(i => i.CreationTimestamp, StringComparer.Ordinal)
                .FirstOrDefault()
                ?.SelfLink;
        }

        var now = Now();
        await WaitAsync(
            compute,
            project,
            await compute.DeprecateAsync(
                project,
                name,
                new DeprecationStatus
                {
                    State = "OBSOLETE",
                    Replacement = replacement,
                    Deprecated = image.Deprecated?.Deprecated ?? now,
                    Obsolete = now,
                },
                NewRequestId(),
                cancellationToken
            ),
            cancellationToken
        );
        return StepOutcome.Done(
            $"{name} OBSOLETE"
                + (
                    replacement is null
                        ? " (no replacement in its family)"
                        : $", replaced by {replacement}"
                )
        );
    }

    private async Task<StepOutcome> DeleteOneAsync(
        ImageVersion version,
        Artifact artifact,
        string project,
        string name,
        CancellationToken cancellationToken
    )
    {
        var account = await ConnectAsync(version, cancellationToken);
        var operation = await account.Compute.DeleteImageAsync(
            project,
            name,
            NewRequestId(),
            cancellationToken
        );
        if (operation is not null)
        {
            await WaitAsync(account.Compute, project, operation, cancellationToken);
        }

        var upload = artifact.Details.GetValueOrDefault("upload");
        if (
            upload is not null
            && new Uri(upload).AbsolutePath.TrimStart('/').Split('/', 2)
                is [var bucket, var objectName]
        )
        {
            try
            {
                await account.Storage.DeleteObjectAsync(
                    bucket,
                    Uri.UnescapeDataString(objectName),
                    cancellationToken: cancellationToken
                );
            }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
            {
                // Deleted after the import, as every import does.
            }
        }

        return StepOutcome.Done(
            (operation is null ? $"{name} was gone already" : $"{name} deleted")
                + " and its upload object with it"
        );
    }

    private Task<GcpClients.Account> ConnectAsync(
        ImageVersion version,
        CancellationToken cancellationToken
    ) =>
        clients.ForAsync(
            new TargetSpec
            {
                Provider = GcpProvider.ProviderName,
                BaseImage = "",
                Regions = [],
                // The credential variable is recorded on the artifact at import (the definition may have moved on).
                Options = Images(version.Artifacts)
                    .FirstOrDefault()
                    ?.Details.GetValueOrDefault("credentials-variable")
                    is { } variable
                    ? new Dictionary<string, string> { ["credentials_variable"] = variable }
                    : new Dictionary<string, string>(),
                Secrets = new Dictionary<string, string>(),
            },
            cancellationToken
        );

    // A requestId per call: the library's retries of that call resend it, so an answer lost on the way is not a
    // second change. Across runs each action reads the image first and changes only what differs (a publish, a
    // revocation or a delete repeated does nothing); a fixed id would instead replay a failed operation forever.
    private static string NewRequestId() => Guid.NewGuid().ToString("D");

    private static async Task WaitAsync(
        ComputeClient compute,
        string project,
        ComputeOperation operation,
        CancellationToken cancellationToken
    ) => await compute.WaitAsync(project, operation, _ => { }, cancellationToken);

    // Failures the cloud reports are values (the step is retried with --resume), naming what was being done.
    private static async Task<StepOutcome> Guard(string what, Func<Task<StepOutcome>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e)
            when (e is ImageForgeException or GoogleApiException or HttpRequestException)
        {
            return StepOutcome.Failed($"{what}: {e.Message}");
        }
    }

    private static IEnumerable<Artifact> Images(IEnumerable<Artifact> artifacts) =>
        artifacts.Where(a =>
            a.Target == GcpProvider.ProviderName && a.Kind == GcpImporter.ImageKind
        );

    private static (string Project, string Name) Parse(Artifact artifact) =>
        GcpNames.ParseImageUrl(artifact.Location)
        ?? throw new InvalidInputException($"{artifact.Location} is not a GCE image URL");

    private string Now() =>
        time.GetUtcNow()
            .ToString(
                "yyyy-MM-dd'T'HH:mm:ss.fffzzz",
                System.Globalization.CultureInfo.InvariantCulture
            );
}
