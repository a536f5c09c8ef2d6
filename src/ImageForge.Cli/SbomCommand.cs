using System.CommandLine;
using ImageForge.Core.Errors;
using ImageForge.Core.Sbom;

namespace ImageForge.Cli;

/// <summary><c>imageforge sbom &lt;image&gt;[@&lt;version&gt;] [--format cyclonedx|spdx]</c>: prints a stored SBOM.</summary>
internal static class SbomCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("image")
        {
            Description = "<image>@<version>, or <image> for its latest version",
        };
        var format = new Option<string>("--format")
        {
            Description = "cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON)",
            DefaultValueFactory = _ => "cyclonedx",
        };
        format.AcceptOnlyFromAmong("cyclonedx", "spdx");
        var command = new Command("sbom", "Print the SBOM recorded for an image version")
        {
            reference,
            format,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var version = await VersionReference.ResolveAsync(
                    catalog,
                    parse.GetValue(reference)!,
                    ct
                );
                var kind =
                    parse.GetValue(format) == "spdx" ? EvidenceFiles.Spdx : EvidenceFiles.CycloneDx;
                var document =
                    EvidenceFiles.Current(version.Evidence, kind)
                    ?? throw new InvalidInputException(
                        $"{version.Image}@{version.Version} has no {kind} evidence (built before SBOMs were recorded?); rebuild it"
                    );
                if (!File.Exists(document.Location))
                {
                    throw new InvalidInputException(
                        $"{document.Location} ({kind} of {version.Image}@{version.Version}) is missing from disk"
                    );
                }
                await ctx.Out.WriteAsync(await File.ReadAllTextAsync(document.Location, ct));
                await ctx.Out.FlushAsync(ct);
                return CliApp.Ok;
            }
        );
        return command;
    }
}
