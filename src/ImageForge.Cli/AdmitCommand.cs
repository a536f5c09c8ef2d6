using System.CommandLine;
using System.Security.Cryptography;
using ImageForge.Core.Admission;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Signing;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge admit (--provider P --image-id ID [--region R] | --terraform-plan plan.json) [--channel C]</c>: the
/// deploy-time gate. An image is admitted when it is an artifact of a recorded version that is built (not rejected,
/// revoked or deleted), whose signed provenance verifies, and that a channel (the given one, or any) points at now.
/// Exit 0 when every image is admitted, 1 when any is refused (each reason printed), 2 for bad input.
/// </summary>
internal static class AdmitCommand
{
    private static readonly string[] Providers = ["local", "aws", "azure", "gcp"];

    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var provider = new Option<string?>("--provider")
        {
            Description = "local, aws, azure or gcp",
        };
        provider.AcceptOnlyFromAmong(Providers);
        var imageId = new Option<string?>("--image-id")
        {
            Description =
                "The provider's image id (AMI id, gallery image version id, GCP image); local: a file path or sha256:<hex>",
        };
        var region = new Option<string?>("--region")
        {
            Description = "Only artifacts in this region",
        };
        var plan = new Option<string?>("--terraform-plan")
        {
            Description =
                "A Terraform JSON plan (terraform show -json): check every image it would deploy",
        };
        var channel = new Option<string?>("--channel")
        {
            Description = "The image must be what this channel points at now",
        };
        var command = new Command(
            "admit",
            "May this image be deployed? Signed, not revoked, and in the channel"
        )
        {
            provider,
            imageId,
            region,
            plan,
            channel,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var planFile = parse.GetValue(plan);
                IReadOnlyList<PlannedImage> images =
                    planFile is not null
                        ? TerraformPlan.Read(Path.GetFullPath(planFile, ctx.Host.CurrentDirectory))
                    : parse.GetValue(provider) is { } p && parse.GetValue(imageId) is { } id
                        ? [new PlannedImage("--image-id", p, id)]
                    : throw new InvalidInputException(
                        "admit needs --provider and --image-id, or --terraform-plan plan.json"
                    );

                // Definitions are read once, and only when a channel's path has to be checked.
                var definitions = new Lazy<Core.Definitions.DefinitionSet>(() =>
                    PromotionCli.LoadDefinitions(ctx)
                );
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var decisions = new List<Decision>();
                foreach (var image in images)
                {
                    decisions.Add(
                        await DecideAsync(
                            ctx,
                            definitions,
                            cli.Catalog,
                            image,
                            parse.GetValue(region),
                            parse.GetValue(channel),
                            ct
                        )
                    );
                }

                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new { admitted = decisions.All(d => d.Admitted), images = decisions }
                    );
                }
                else
                {
                    foreach (var d in decisions)
                    {
                        var subject =
                            d.Address == "--image-id"
                                ? $"{d.Provider} image {d.ImageId}"
                                : $"{d.Address} ({d.Provider} image {d.ImageId})";
                        await ctx.Out.WriteLineAsync(
                            d.Admitted
                                ? $"admitted: {subject} is {d.Version}, signed, in {d.Channel}"
                                : $"refused: {subject}"
                        );
                        foreach (var reason in d.Reasons)
                        {
                            await ctx.Out.WriteLineAsync($"  - {reason}");
                        }
                    }
                }

                return decisions.All(d => d.Admitted) ? CliApp.Ok : 1;
            }
        );
        return command;
    }

    private sealed record Decision(
        string Address,
        string Provider,
        string ImageId,
        bool Admitted,
        string? Version,
        string? Channel,
        IReadOnlyList<string> Reasons
    );

    private static async Task<Decision> DecideAsync(
        CliContext ctx,
        Lazy<Core.Definitions.DefinitionSet> definitions,
        SqliteCatalog catalog,
        PlannedImage image,
        string? region,
        string? channel,
        CancellationToken ct
    )
    {
        // A local image is named by its file (hashed) or its digest; a cloud image by the provider's id.
        string? sha256 = null;
        var location = image.ImageId;
        if (image.Provider == "local")
        {
            var path = Path.GetFullPath(image.ImageId, ctx.Host.CurrentDirectory);
            if (File.Exists(path))
            {
                await using var stream = File.OpenRead(path);
                sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
                location = path;
            }
            else if (image.ImageId.StartsWith("sha256:", StringComparison.Ordinal))
            {
                sha256 = image.ImageId["sha256:".Length..].ToLowerInvariant();
            }
        }

        var owners = await catalog.FindArtifactOwnersAsync(
            image.Provider,
            location,
            sha256,
            region,
            ct
        );
        if (owners.Count == 0)
        {
            return Refused(
                image,
                null,
                [$"no ImageForge version has a {image.Provider} artifact {image.ImageId}"]
            );
        }

        var reasons = new List<string>();
        foreach (var (name, number) in owners)
        {
            var reference = $"{name}@{number}";
            var version = await catalog.GetVersionAsync(name, number, ct);
            if (version is null)
            {
                continue;
            }

            var problems = new List<string>();
            if (version.Status != VersionStatuses.Built)
            {
                problems.Add($"{reference} is {version.Status}");
            }

            var channels = await catalog.GetChannelsAsync(name, ct);
            var serving = channels.Where(c => c.Version == number).Select(c => c.Channel).ToList();
            if (channel is not null)
            {
                var path = PromotionCli.Definition(ctx, definitions.Value, name).Channels;
                if (!path.Contains(channel))
                {
                    throw new InvalidInputException(
                        $"{name} has no channel '{channel}'; its channels are {string.Join(", ", path)}"
                    );
                }

                if (!serving.Contains(channel))
                {
                    var now = channels.FirstOrDefault(c => c.Channel == channel)?.Version;
                    problems.Add(
                        $"{reference} is not what {channel} points at (it points at {now ?? "nothing"})"
                    );
                }
            }
            else if (serving.Count == 0)
            {
                problems.Add($"{reference} is in no channel now");
            }

            var report = await VersionVerifier.VerifyAsync(version, null, ct);
            if (!report.Ok)
            {
                problems.Add(
                    $"{reference}: provenance does not verify: {string.Join("; ", report.Problems)}"
                );
            }

            if (problems.Count == 0)
            {
                return new Decision(
                    image.Address,
                    image.Provider,
                    image.ImageId,
                    true,
                    reference,
                    channel ?? string.Join(", ", serving),
                    []
                );
            }

            reasons.AddRange(problems);
        }

        return Refused(image, null, reasons);
    }

    private static Decision Refused(
        PlannedImage image,
        string? version,
        IReadOnlyList<string> reasons
    ) => new(image.Address, image.Provider, image.ImageId, false, version, null, reasons);
}
