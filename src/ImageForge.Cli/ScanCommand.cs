using System.CommandLine;
using ImageForge.Application.Operations;
using ImageForge.Core.Errors;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge scan &lt;image&gt;[@&lt;version&gt;] [--osv DIR] [--report FILE]...</c>: scans a stored SBOM again with
/// the newest data and records the findings as new evidence of the version. Exit 0 when every source answered, 2 when
/// a given report was refused, 3 when a source failed (the findings of the others are still recorded).
/// </summary>
internal static class ScanCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("image")
        {
            Description = "<image>@<version>, or <image> for its latest version",
        };
        var osv = new Option<string?>("--osv")
        {
            Description =
                "OSV database directory (osv.dev export, one JSON record per advisory) [default: $IMAGEFORGE_OSV_DIR, else <data-dir>/osv]",
        };
        var reports = new Option<string[]>("--report")
        {
            Description = "A Trivy (--format json) or Grype (-o json) report to import; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command(
            "scan",
            "Scan an image version's SBOM for known vulnerabilities and record the findings"
        )
        {
            reference,
            osv,
            reports,
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
                var set = ctx.Pipeline.LoadDefinitions();
                var definition =
                    set.FindImage(version.Image)
                    ?? throw new InvalidInputException(
                        $"no image definition '{version.Image}' in {ctx.Content.Definitions}; the scan needs its os and baseline"
                    );
                var baseline =
                    set.FindBaseline(definition.Baseline)
                    ?? throw new InvalidInputException(
                        $"baseline '{definition.Baseline}' of {version.Image} is missing or invalid; run 'imageforge validate'"
                    );
                var given = parse.GetValue(reports) ?? [];
                foreach (
                    var report in given.Where(r =>
                        !File.Exists(Path.GetFullPath(r, ctx.Host.CurrentDirectory))
                    )
                )
                {
                    throw new InvalidInputException($"{report}: no such report file");
                }
                var (document, evidence, result) = await VersionRescan.ScanAndRecordAsync(
                    catalog,
                    version,
                    definition,
                    baseline,
                    ctx.Pipeline,
                    ctx.Pipeline.OsvDirectory(parse.GetValue(osv)),
                    [.. given.Select(r => Path.GetFullPath(r, ctx.Host.CurrentDirectory))],
                    ct
                );

                if (ctx.Json)
                {
                    await ctx.Out.WriteLineAsync(
                        System.Text.Encoding.UTF8.GetString(document.ToJson())
                    );
                }
                else
                {
                    await WriteTextAsync(ctx.Out, document, evidence.Location);
                }
                foreach (var problem in result.Problems)
                {
                    await ctx.Error.WriteLineAsync($"warning: skipped {problem}");
                }
                return result.Sources.Any(s => s.Status == "failed" && s.Name != "report")
                        ? CliApp.ToolFailure
                    : result.Sources.Any(s => s.Status == "failed") ? CliApp.BadInput
                    : CliApp.Ok;
            }
        );
        return command;
    }

    internal static async Task WriteTextAsync(TextWriter o, FindingsDocument d, string location)
    {
        await o.WriteLineAsync(
            $"{d.Image}@{d.Version}: {d.Summary["total"]} findings ({d.Summary["critical"]} critical, {d.Summary["high"]} high, {d.Summary["medium"]} medium, {d.Summary["low"]} low, {d.Summary["unknown"]} unknown), {d.Summary["suppressed"]} suppressed"
        );
        foreach (var s in d.Sources)
        {
            await o.WriteLineAsync(
                $"  source {s.Name}: {s.Status}, {s.Findings} findings; {s.Detail}"
            );
        }
        foreach (var s in d.ExpiredSuppressions)
        {
            await o.WriteLineAsync(
                $"  expired suppression: {s.Advisory} in {s.Package} (expired {s.Expires:yyyy-MM-dd}); it no longer suppresses"
            );
        }
        if (d.Findings.Count > 0)
        {
            await o.WriteLineAsync(
                $"  {"SEVERITY", -9} {"ADVISORY", -22} {"PACKAGE", -28} {"INSTALLED", -26} {"FIXED", -26} SOURCE"
            );
            foreach (var f in d.Findings)
            {
                await o.WriteLineAsync(
                    $"  {Severities.Name(f.Severity), -9} {f.Advisory, -22} {f.Package, -28} {f.InstalledVersion, -26} {f.FixedVersion ?? "-", -26} {f.Source}"
                );
            }
        }
        await o.WriteLineAsync($"  recorded: {location}");
    }
}
