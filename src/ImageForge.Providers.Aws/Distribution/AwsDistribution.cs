using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Core.Provenance;
using ImageForge.Providers.Aws.Connection;
using ImageForge.Providers.Aws.Import;
using Tag = Amazon.EC2.Model.Tag;

namespace ImageForge.Providers.Aws.Distribution;

/// <summary>
/// A version's AMIs through their lifecycle, region by region (each promotion step is one region, run and retried on
/// its own): promotion shares the AMI and its snapshots with the accounts and organizations the channel names
/// (<c>targets[].channels.&lt;channel&gt;.ami_users / ami_org_arns</c>), tags it with the channel and points the SSM
/// parameter <c>/imageforge/&lt;image&gt;/&lt;channel&gt;</c> (data type <c>aws:ec2:image</c>) at it; a rollback points the
/// parameter back and withdraws what the channel gave the version it leaves (keeping what another channel of it
/// still needs); revocation deprecates every regional copy; retention deregisters them with their snapshots and checks
/// that none is left. Every call is idempotent: a repeated step finds its work done.
/// </summary>
internal sealed class AwsDistribution(AwsClients clients, TimeProvider time) : IDistributionTarget
{
    private const string ChannelTag = "imageforge:channel:";

    public string Target => AwsProvider.ProviderName;

    /// <summary>Where a channel's AMI id is published in every region.</summary>
    public static string ParameterName(string image, string channel) =>
        $"/imageforge/{image}/{channel}";

    public async Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(planned);
        var ami = planned.Artifacts.FirstOrDefault(a => a.Kind == AwsProvider.AmiKind);
        if (ami is null)
        {
            return StepOutcome.Done($"no AMI in {planned.Region}; nothing to publish");
        }

        return await CallAsync(
            planned.Region,
            () => PublishRegionAsync(version, channel, ami, planned.Spec, cancellationToken)
        );
    }

    public async Task<StepOutcome> RollBackAsync(
        string channel,
        ImageVersion? leaving,
        ImageVersion? serving,
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(targets);
        var spec = targets.FirstOrDefault(t => t.Provider == Target);
        var done = new List<string>();
        var served = serving is null ? [] : Amis(serving).ToList();
        foreach (var ami in served)
        {
            var outcome = await CallAsync(
                ami.Region,
                () => PublishRegionAsync(serving!, channel, ami, spec, cancellationToken)
            );
            if (!outcome.Succeeded)
            {
                return outcome;
            }

            done.Add(outcome.Detail);
        }

        foreach (var ami in leaving is null ? [] : Amis(leaving))
        {
            // Where nothing serves the channel now (a revocation left it empty, or the served version has no AMI in
            // this region), its parameter would keep naming the AMI it left: it goes.
            var orphaned = !served.Any(s => s.Region == ami.Region);
            var outcome = await CallAsync(
                ami.Region,
                async () =>
                    await WithdrawAsync(channel, ami, spec, cancellationToken)
                    + (
                        orphaned
                            ? await DeleteParameterAsync(
                                leaving!.Image,
                                channel,
                                ami,
                                spec,
                                cancellationToken
                            )
                            : ""
                    )
            );
            if (!outcome.Succeeded)
            {
                return outcome;
            }

            done.Add(outcome.Detail);
        }

        return StepOutcome.Done(string.Join("; ", done));
    }

    // Deletes the channel's parameter in the AMI's region if it still names that AMI (a parameter another version was
    // published to since is left alone); deleting one that is gone already is done.
    private async Task<string> DeleteParameterAsync(
        string image,
        string channel,
        Artifact ami,
        TargetSpec? spec,
        CancellationToken cancellationToken
    )
    {
        var ssm = clients.Ssm(ami.Region, RoleOf(ami, spec));
        var name = ParameterName(image, channel);
        try
        {
            var current = await ssm.GetParameterAsync(
                new GetParameterRequest { Name = name },
                cancellationToken
            );
            if (current.Parameter?.Value != ami.Location)
            {
                return $", {name} names {current.Parameter?.Value}: kept";
            }

            await ssm.DeleteParameterAsync(
                new DeleteParameterRequest { Name = name },
                cancellationToken
            );
            return $", {name} deleted (nothing serves {channel} in {ami.Region})";
        }
        catch (ParameterNotFoundException)
        {
            return $", {name} is gone";
        }
    }

    /// <summary>
    /// A baseline's <c>revocation: { disable: true }</c>: DisableImage on every regional copy, so that nothing can
    /// launch it even by id (a disabled AMI can be enabled again with EnableImage).
    /// </summary>
    public Task<StepOutcome> DisableAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return EachAmiAsync(
            version,
            async (ec2, ami, image) =>
            {
                if (image.State == ImageState.Disabled)
                {
                    return $"{ami.Location} in {ami.Region} is disabled already";
                }

                await ec2.DisableImageAsync(
                    new DisableImageRequest { ImageId = ami.Location },
                    cancellationToken
                );
                return $"{ami.Location} in {ami.Region} disabled";
            },
            cancellationToken
        );
    }

    public Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        var at = time.GetUtcNow().AddMinutes(1);
        return EachAmiAsync(
            version,
            async (ec2, ami, image) =>
            {
                if (image.DeprecationTime is not null)
                {
                    return $"{ami.Location} in {ami.Region} deprecated at {image.DeprecationTime}";
                }

                await ec2.EnableImageDeprecationAsync(
                    new EnableImageDeprecationRequest
                    {
                        ImageId = ami.Location,
                        DeprecateAt = at.UtcDateTime,
                    },
                    cancellationToken
                );
                await ec2.CreateTagsAsync(
                    new CreateTagsRequest
                    {
                        Resources = [ami.Location],
                        Tags = [new Tag("imageforge:revoked", Truncate(reason, 256))],
                    },
                    cancellationToken
                );
                return $"{ami.Location} in {ami.Region} deprecated at {at:O}";
            },
            cancellationToken
        );
    }

    // Each AMI of the version in its region, in the account that owns it; one that is gone is done. The first failure
    // is the outcome (what was done stays done, for a retry).
    private Task<StepOutcome> EachAmiAsync(
        ImageVersion version,
        Func<IAmazonEC2, Artifact, Image, Task<string>> act,
        CancellationToken cancellationToken
    ) =>
        StepOutcome.EachAsync(
            Amis(version),
            ami =>
                CallAsync(
                    ami.Region,
                    async () =>
                    {
                        var ec2 = clients.Ec2(ami.Region, RoleOf(ami, null));
                        var image = await FindAsync(ec2, ami.Location, cancellationToken);
                        return image is null
                            ? $"{ami.Location} in {ami.Region} is gone"
                            : await act(ec2, ami, image);
                    }
                ),
            "no AMI"
        );

    public async Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return await StepOutcome.EachAsync(
            Amis(version),
            ami => CallAsync(ami.Region, () => DeleteRegionAsync(ami, cancellationToken)),
            "no AMI"
        );
    }

    public async Task<IReadOnlyList<LiveImage>> InspectAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        var live = new List<LiveImage>();
        foreach (
            var ami in version.Artifacts.Where(a =>
                a.Target == Target && LiveImages.IsProviderImage(a)
            )
        )
        {
            Image? image;
            try
            {
                image = await FindAsync(
                    clients.Ec2(ami.Region, RoleOf(ami, null)),
                    ami.Location,
                    cancellationToken
                );
            }
            catch (Exception e)
                when (e
                        is AmazonServiceException
                            or AmazonClientException
                            or IOException
                            or HttpRequestException
                )
            {
                throw new ToolFailedException(
                    Target,
                    $"could not ask aws in {ami.Region} about {ami.Location}: {(e as AmazonServiceException)?.ErrorCode ?? e.GetType().Name}: {e.Message}",
                    [],
                    e
                );
            }

            live.Add(Live(ami, image));
        }

        return live;
    }

    // A deprecation time in the future is still ImageForge's revocation (it deprecates a minute ahead, the earliest
    // EC2 accepts): the AMI is reported deprecated from the moment it was revoked, with the time it takes effect.
    private LiveImage Live(Artifact ami, Image? image)
    {
        if (image is null || image.State == ImageState.Deregistered)
        {
            return new LiveImage(
                Target,
                ami.Region,
                ami.Location,
                LiveState.Missing,
                "not found",
                null
            );
        }

        var tags = (image.Tags ?? []).ToDictionary(
            t => t.Key,
            t => t.Value,
            StringComparer.Ordinal
        );
        var state = image.State?.Value ?? "unknown";
        var (live, detail) = state switch
        {
            "pending" => (LiveState.Pending, "pending"),
            "failed" or "error" => (LiveState.Failed, $"{state}: {image.StateReason?.Message}"),
            "disabled" => (LiveState.Deprecated, "disabled"),
            _ when image.DeprecationTime is { Length: > 0 } at => (
                LiveState.Deprecated,
                $"{state}, deprecat{(DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, out var t) && t > time.GetUtcNow() ? "ion scheduled at" : "ed since")} {at}"
                    + (tags.TryGetValue("imageforge:revoked", out var reason) ? $" ({reason})" : "")
            ),
            "available" => (LiveState.Available, "available"),
            _ => (LiveState.Pending, state),
        };
        return new LiveImage(
            Target,
            ami.Region,
            ami.Location,
            live,
            detail,
            tags.GetValueOrDefault(AwsTags.Version)
        );
    }

    private async Task<string> PublishRegionAsync(
        ImageVersion version,
        string channel,
        Artifact ami,
        TargetSpec? spec,
        CancellationToken cancellationToken
    )
    {
        var image = version.Image;
        var region = ami.Region;
        var ec2 = clients.Ec2(region, RoleOf(ami, spec));
        var (accounts, organizations) = Audience(spec, channel);
        await PermissionsAsync(
            ec2,
            ami,
            accounts,
            organizations,
            OperationType.Add,
            cancellationToken
        );

        await ec2.CreateTagsAsync(
            new CreateTagsRequest
            {
                Resources = [ami.Location],
                Tags = [new Tag(ChannelTag + channel, "published"), .. ProvenanceTag(version)],
            },
            cancellationToken
        );
        var parameter = ParameterName(image, channel);
        await clients
            .Ssm(region, RoleOf(ami, spec))
            .PutParameterAsync(
                new PutParameterRequest
                {
                    Name = parameter,
                    Value = ami.Location,
                    Type = ParameterType.String,
                    DataType = "aws:ec2:image",
                    Overwrite = true,
                    Description = $"the AMI of {image} in {channel} (ImageForge)",
                },
                cancellationToken
            );
        return $"{ami.Location} in {region}: shared with {accounts.Count} account(s) and {organizations.Count} organization(s), {parameter} points at it";
    }

    // The signed statement's digest, on every AMI a channel serves: whoever finds the AMI can fetch and check the
    // provenance that names it (the statement is the DSSE envelope's payload). Written when the AMI is published, as
    // the statement names the AMIs and so does not exist while they are made.
    private static IEnumerable<Tag> ProvenanceTag(ImageVersion version) =>
        version
            .Evidence.Where(e => e.Kind == ProvenanceSubjects.StatementKind)
            .TakeLast(1)
            .Select(e => new Tag(AwsTags.Provenance, e.Sha256));

    // Removes the channel's tag and the permissions only this channel gave; the channels still tagged on the image
    // keep theirs.
    private async Task<string> WithdrawAsync(
        string channel,
        Artifact ami,
        TargetSpec? spec,
        CancellationToken cancellationToken
    )
    {
        var ec2 = clients.Ec2(ami.Region, RoleOf(ami, spec));
        var image = await FindAsync(ec2, ami.Location, cancellationToken);
        if (image is null)
        {
            return $"{ami.Location} in {ami.Region} is gone";
        }

        await ec2.DeleteTagsAsync(
            new DeleteTagsRequest
            {
                Resources = [ami.Location],
                Tags = [new Tag { Key = ChannelTag + channel }],
            },
            cancellationToken
        );
        var others = (image.Tags ?? [])
            .Where(t => t.Key.StartsWith(ChannelTag, StringComparison.Ordinal))
            .Select(t => t.Key[ChannelTag.Length..])
            .Where(c => c != channel)
            .ToList();
        var (accounts, organizations) = Audience(spec, channel);
        var kept = others.Select(c => Audience(spec, c)).ToList();
        var dropAccounts = accounts.Where(a => !kept.Any(k => k.Accounts.Contains(a))).ToList();
        var dropOrganizations = organizations
            .Where(o => !kept.Any(k => k.Organizations.Contains(o)))
            .ToList();
        await PermissionsAsync(
            ec2,
            ami,
            dropAccounts,
            dropOrganizations,
            OperationType.Remove,
            cancellationToken
        );

        return $"{ami.Location} in {ami.Region}: {dropAccounts.Count + dropOrganizations.Count} permission(s) of {channel} withdrawn";
    }

    // Launch permissions of the AMI for accounts and organizations, and create-volume permissions of its snapshots
    // for the accounts (snapshots cannot be shared with an organization), given or taken back.
    private static async Task PermissionsAsync(
        IAmazonEC2 ec2,
        Artifact ami,
        IReadOnlyCollection<string> accounts,
        IReadOnlyCollection<string> organizations,
        OperationType operation,
        CancellationToken cancellationToken
    )
    {
        if (accounts.Count + organizations.Count > 0)
        {
            List<LaunchPermission> permissions =
            [
                .. accounts.Select(a => new LaunchPermission { UserId = a }),
                .. organizations.Select(o => new LaunchPermission { OrganizationArn = o }),
            ];
            var modifications =
                operation == OperationType.Add
                    ? new LaunchPermissionModifications { Add = permissions }
                    : new LaunchPermissionModifications { Remove = permissions };
            await ec2.ModifyImageAttributeAsync(
                new ModifyImageAttributeRequest
                {
                    ImageId = ami.Location,
                    LaunchPermission = modifications,
                },
                cancellationToken
            );
        }

        if (accounts.Count > 0)
        {
            foreach (var snapshot in Snapshots(ami))
            {
                await ec2.ModifySnapshotAttributeAsync(
                    new ModifySnapshotAttributeRequest
                    {
                        SnapshotId = snapshot,
                        Attribute = SnapshotAttributeName.CreateVolumePermission,
                        OperationType = operation,
                        UserIds = [.. accounts],
                    },
                    cancellationToken
                );
            }
        }
    }

    private async Task<string> DeleteRegionAsync(Artifact ami, CancellationToken cancellationToken)
    {
        var ec2 = clients.Ec2(ami.Region, RoleOf(ami, null));
        var deregistered = 0;
        if (await FindAsync(ec2, ami.Location, cancellationToken) is not null)
        {
            await ec2.DeregisterImageAsync(
                new DeregisterImageRequest
                {
                    ImageId = ami.Location,
                    DeleteAssociatedSnapshots = true,
                },
                cancellationToken
            );
            deregistered = 1;
        }

        // DeleteAssociatedSnapshots reports per snapshot; what is left (a snapshot it could not delete) is deleted
        // here, and the check below is the proof that nothing of the version stays to be paid for.
        var left = await SnapshotsLeftAsync(ec2, Snapshots(ami), cancellationToken);
        foreach (var snapshot in left)
        {
            await ec2.DeleteSnapshotAsync(
                new DeleteSnapshotRequest { SnapshotId = snapshot },
                cancellationToken
            );
        }

        var still = await SnapshotsLeftAsync(ec2, Snapshots(ami), cancellationToken);
        if (still.Count > 0)
        {
            throw new InvalidOperationException(
                $"snapshots {string.Join(", ", still)} of {ami.Location} are still in {ami.Region}"
            );
        }

        return $"{ami.Location} in {ami.Region}: {(deregistered == 1 ? "deregistered" : "already gone")}, no snapshot left";
    }

    private static async Task<IReadOnlyList<string>> SnapshotsLeftAsync(
        IAmazonEC2 ec2,
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    )
    {
        var left = new List<string>();
        foreach (var id in ids)
        {
            try
            {
                var found = await ec2.DescribeSnapshotsAsync(
                    new DescribeSnapshotsRequest { SnapshotIds = [id] },
                    cancellationToken
                );
                left.AddRange((found.Snapshots ?? []).Select(s => s.SnapshotId));
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidSnapshot.NotFound") { }
        }

        return left;
    }

    private static async Task<Image?> FindAsync(
        IAmazonEC2 ec2,
        string imageId,
        CancellationToken cancellationToken
    )
    {
        try
        {
            var images = await ec2.DescribeImagesAsync(
                new DescribeImagesRequest
                {
                    ImageIds = [imageId],
                    IncludeDeprecated = true,
                    IncludeDisabled = true,
                },
                cancellationToken
            );
            return images.Images?.SingleOrDefault();
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidAMIID.NotFound")
        {
            return null;
        }
    }

    private static (IReadOnlyList<string> Accounts, IReadOnlyList<string> Organizations) Audience(
        TargetSpec? spec,
        string channel
    ) =>
        // The target's own ami_users are shared in every channel; the channel's add to them.
        (
            [
                .. List(spec?.Option("ami_users"))
                    .Concat(List(spec?.ChannelOption(channel, "ami_users")))
                    .Distinct(StringComparer.Ordinal),
            ],
            List(spec?.ChannelOption(channel, "ami_org_arns"))
        );

    private static List<string> List(string? value) =>
        [
            .. (value ?? "").Split(
                ',',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
            ),
        ];

    private static IEnumerable<Artifact> Amis(ImageVersion version) =>
        version.Artifacts.Where(a =>
            a.Target == AwsProvider.ProviderName && a.Kind == AwsProvider.AmiKind
        );

    private static List<string> Snapshots(Artifact ami) =>
        List(ami.Details.GetValueOrDefault("snapshots"));

    private static string Truncate(string text, int length) =>
        text.Length <= length ? text : text[..length];

    // An AWS error is the step's outcome (promotion records it and --resume retries the step), never a crash.
    private static async Task<StepOutcome> CallAsync(string region, Func<Task<string>> call)
    {
        try
        {
            return StepOutcome.Done(await call());
        }
        catch (AmazonServiceException e)
        {
            return StepOutcome.Failed(
                $"{region}: {e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}; run the command again (promote: --resume) once {region} answers"
            );
        }
        catch (Exception e)
            when (e
                    is AmazonClientException
                        or IOException
                        or HttpRequestException
                        or InvalidOperationException
            )
        {
            return StepOutcome.Failed($"{region}: {e.Message}");
        }
    }

    /// <summary>The artifact detail naming the role an AMI was made under (an identifier, not a credential).</summary>
    internal const string RoleDetail = "role_arn";

    /// <summary><paramref name="details"/> with the role the AMI was made under, when there was one.</summary>
    internal static SortedDictionary<string, string> WithRole(
        SortedDictionary<string, string> details,
        string? roleArn
    )
    {
        if (roleArn is not null)
        {
            details[RoleDetail] = roleArn;
        }
        return details;
    }

    // The role to act on an AMI with: the target's, else the one it was made under (so revoke, gc and the live view
    // of a version built under a role act in the account that owns its AMIs), else the base credentials.
    private static string? RoleOf(Artifact ami, TargetSpec? spec) =>
        spec?.Option("role_arn") ?? ami.Details.GetValueOrDefault(RoleDetail);
}
