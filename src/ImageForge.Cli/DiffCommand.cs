using System.CommandLine;
using ImageForge.Core.Builds;
using ImageForge.Core.Inventory;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge diff &lt;image&gt;@&lt;a&gt; &lt;image&gt;@&lt;b&gt;</c>: packages added, removed and changed from a to b, and
/// findings fixed and introduced (by source, advisory and package, from each version's newest findings).
/// </summary>
internal static class DiffCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var from = new Argument<string>("from")
        {
            Description = "The older version: <image>@<version>",
        };
        var to = new Argument<string>("to")
        {
            Description = "The newer version: <image>@<version>",
        };
        var command = new Command(
            "diff",
            "Packages added, removed and changed, and findings fixed and introduced, between two image versions"
        )
        {
            from,
            to,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var a = await VersionReference.ResolveAsync(catalog, parse.GetValue(from)!, ct);
                var b = await VersionReference.ResolveAsync(catalog, parse.GetValue(to)!, ct);
                var diff = Compute(a, b);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, diff);
                    return CliApp.Ok;
                }
                await WriteTextAsync(ctx.Out, diff);
                return CliApp.Ok;
            }
        );
        return command;
    }

    internal sealed record PackageChange(
        string Name,
        string Architecture,
        string? From,
        string? To
    );

    internal sealed record FindingChange(
        string Advisory,
        string Package,
        string Source,
        string Severity,
        string InstalledVersion,
        string? FixedVersion
    );

    internal sealed record VersionDiff(
        string From,
        string To,
        IReadOnlyList<PackageChange> Added,
        IReadOnlyList<PackageChange> Removed,
        IReadOnlyList<PackageChange> Changed,
        bool FindingsCompared,
        IReadOnlyList<FindingChange> FindingsFixed,
        IReadOnlyList<FindingChange> FindingsIntroduced
    );

    internal static VersionDiff Compute(ImageVersion a, ImageVersion b)
    {
        static Dictionary<(string, string), InstalledPackage> Index(PackageInventory i) =>
            i
                .Packages.DistinctBy(p => (p.Name, p.Architecture))
                .ToDictionary(p => (p.Name, p.Architecture));
        var pa = Index(EvidenceFiles.ReadInventory(a));
        var pb = Index(EvidenceFiles.ReadInventory(b));
        var added = pb
            .Keys.Except(pa.Keys)
            .Select(k => new PackageChange(k.Item1, k.Item2, null, pb[k].Version));
        var removed = pa
            .Keys.Except(pb.Keys)
            .Select(k => new PackageChange(k.Item1, k.Item2, pa[k].Version, null));
        var changed = pa
            .Keys.Intersect(pb.Keys)
            .Where(k => pa[k].Version != pb[k].Version)
            .Select(k => new PackageChange(k.Item1, k.Item2, pa[k].Version, pb[k].Version));

        var fa = Findings(a);
        var fb = Findings(b);
        IReadOnlyList<FindingChange> Changes(
            Dictionary<string, FindingEntry> x,
            Dictionary<string, FindingEntry> y
        ) =>
            x
                .Keys.Except(y.Keys)
                .Select(k => x[k])
                .Select(f => new FindingChange(
                    f.Advisory,
                    f.Package,
                    f.Source,
                    Severities.Name(f.Severity),
                    f.InstalledVersion,
                    f.FixedVersion
                ))
                .OrderBy(f => f.Package, StringComparer.Ordinal)
                .ThenBy(f => f.Advisory, StringComparer.Ordinal)
                .ToList();
        var compared = fa is not null && fb is not null;
        return new VersionDiff(
            $"{a.Image}@{a.Version}",
            $"{b.Image}@{b.Version}",
            Sorted(added),
            Sorted(removed),
            Sorted(changed),
            compared,
            compared ? Changes(fa!, fb!) : [],
            compared ? Changes(fb!, fa!) : []
        );
    }

    private static List<PackageChange> Sorted(IEnumerable<PackageChange> changes) =>
        changes
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Architecture, StringComparer.Ordinal)
            .ToList();

    private static Dictionary<string, FindingEntry>? Findings(ImageVersion v) =>
        EvidenceFiles.Current(v.Evidence, EvidenceFiles.VulnerabilityFindings) is { } doc
        && File.Exists(doc.Location)
            ? FindingsDocument
                .Read(doc.Location)
                .Findings.DistinctBy(f => f.Key)
                .ToDictionary(f => f.Key)
            : null;

    private static async Task WriteTextAsync(TextWriter o, VersionDiff d)
    {
        await o.WriteLineAsync($"{d.From} -> {d.To}");
        await o.WriteLineAsync(
            $"packages: {d.Added.Count} added, {d.Removed.Count} removed, {d.Changed.Count} changed"
        );
        foreach (var p in d.Added)
        {
            await o.WriteLineAsync($"  + {p.Name} ({p.Architecture}) {p.To}");
        }
        foreach (var p in d.Removed)
        {
            await o.WriteLineAsync($"  - {p.Name} ({p.Architecture}) {p.From}");
        }
        foreach (var p in d.Changed)
        {
            await o.WriteLineAsync($"  ~ {p.Name} ({p.Architecture}) {p.From} -> {p.To}");
        }
        if (!d.FindingsCompared)
        {
            await o.WriteLineAsync(
                "findings: not compared (a version has no vulnerability findings; run 'imageforge scan')"
            );
            return;
        }
        await o.WriteLineAsync(
            $"findings: {d.FindingsFixed.Count} fixed, {d.FindingsIntroduced.Count} introduced"
        );
        foreach (var f in d.FindingsFixed)
        {
            await o.WriteLineAsync(
                $"  fixed      {f.Severity, -9} {f.Advisory, -22} {f.Package} {f.InstalledVersion} ({f.Source})"
            );
        }
        foreach (var f in d.FindingsIntroduced)
        {
            await o.WriteLineAsync(
                $"  introduced {f.Severity, -9} {f.Advisory, -22} {f.Package} {f.InstalledVersion} ({f.Source})"
            );
        }
    }
}
