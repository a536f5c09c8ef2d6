using System.CommandLine;
using ImageForge.Core.Admission;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge admit (--provider P --image-id ID [--region R] | --terraform-plan plan.json) [--channel C]</c>: the
/// deploy-time gate. An image is admitted when it is an artifact of a recorded version that is built (not rejected,
/// revoked or deleted), whose signed provenance verifies, and that a channel (the given one, or any) points at now.
/// Exit 0 when every image is admitted, 1 when any is refused (each reason printed), 2 for bad input.
/// </summary>
internal static class AdmitCommand
{
    public static Command Create(CliHost host, Func<ParseResult, CliContext> context)
    {
        var provider = new Option<string?>("--provider")
        {
            Description = "local, aws, azure or gcp",
        };
        // Checked against the host's providers when given (composing them only then keeps other commands fast).
        provider.Validators.Add(result =>
        {
            var given = result.GetValueOrDefault<string?>();
            var known = host.Providers;
            if (given is not null && known.Find(given) is null)
            {
                result.AddError(
                    $"--provider '{given}' is not a provider of this imageforge; use one of: {string.Join(", ", known.Names)}"
                );
            }
        });
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
                        ? TerraformPlan.Read(
                            Path.GetFullPath(planFile, ctx.Host.CurrentDirectory),
                            ctx.Host.Providers
                        )
                    : parse.GetValue(provider) is { } p && parse.GetValue(imageId) is { } id
                        ? [new PlannedImage("--image-id", p, id)]
                    : throw new InvalidInputException(
                        "admit needs --provider and --image-id, or --terraform-plan plan.json"
                    );

                var admission = await PromotionCli
                    .Operations(ctx)
                    .AdmitAsync(
                        images,
                        parse.GetValue(region),
                        parse.GetValue(channel),
                        ctx.Host.CurrentDirectory,
                        ct
                    );
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, admission);
                }
                else
                {
                    foreach (var d in admission.Images)
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

                return admission.Admitted ? CliApp.Ok : 1;
            }
        );
        return command;
    }
}
