using System.Globalization;
using ImageForge.Application.Views;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Cli;

/// <summary>How builds, versions and artifacts are shown to people and, with --output json, to scripts.</summary>
internal static class Report
{
    public static async Task BuildOutcomeAsync(CliContext ctx, BuildOutcome outcome)
    {
        if (ctx.Json)
        {
            await Json.WriteAsync(
                ctx.Out,
                new
                {
                    build = BuildView.From(outcome.Build),
                    version = outcome.Version is null ? null : VersionView.From(outcome.Version),
                }
            );
            return;
        }

        var build = outcome.Build;
        var took = build.EndedAt is { } end ? Duration(end - build.StartedAt) : "?";
        if (outcome.Version is { } version)
        {
            await ctx.Out.WriteLineAsync(
                $"succeeded: {version.Image}@{version.Version} (build {build.Id}) in {took}"
            );
            await VersionFilesAsync(ctx.Out, version);
            await RaisedAnomaliesAsync(ctx.Out, version);
        }
        else
        {
            await ctx.Out.WriteLineAsync(
                $"{Lower(build.Status)}: build {build.Id} of {build.Image} after {took}"
            );
            if (!string.IsNullOrEmpty(build.Message))
            {
                await ctx.Out.WriteLineAsync($"  {build.Message.ReplaceLineEndings("\n  ")}");
            }

            await ctx.Out.WriteLineAsync($"  full log: imageforge builds logs {build.Id}");
        }
    }

    /// <summary>
    /// A version's files (kind, size, sha256, and the path on the next line), its cloud images one line each (cloud,
    /// region, kind, id, the disk it was imported from, what else identifies it), then its evidence.
    /// </summary>
    public static async Task VersionFilesAsync(TextWriter writer, ImageVersion version)
    {
        await writer.WriteLineAsync("  artifacts:");
        foreach (var a in version.Artifacts.Where(a => a.Sha256 is not null))
        {
            await FileLineAsync(writer, a.Kind, a.SizeBytes, a.Sha256, a.Location);
            if (DiskFlavour.Of(a) is { } flavour)
            {
                // The flavour's disk files say what they added, from the disk they were made from.
                var added = a.Details.GetValueOrDefault(DiskFlavour.PackagesDetailKey);
                await writer.WriteLineAsync(
                    $"    {"", -22} flavour {flavour}"
                        + (added is null ? $", from sha256:{a.SourceSha256}" : $", adds {added}")
                );
            }
        }

        var images = version.Artifacts.Where(a => a.Sha256 is null).ToList();
        if (images.Count > 0)
        {
            await writer.WriteLineAsync("  images:");
            foreach (var a in images.OrderBy(a => a.Target, StringComparer.Ordinal))
            {
                // Which disk it was imported from, and which flavour of it when a guest agent was added.
                var from =
                    a.SourceSha256 is not { } disk ? ""
                    : DiskFlavour.Of(a) is { } flavour ? $"  flavour {flavour}, from sha256:{disk}"
                    : $"  from disk sha256:{disk}";
                var details = string.Concat(
                    a.Details.Where(d => d.Key != DiskFlavour.DetailKey)
                        .Select(d => $"  {d.Key}={d.Value}")
                );
                await writer.WriteLineAsync(
                    $"    {a.Target, -6} {a.Region, -16} {a.Kind, -22} {a.Location}{from}{details}"
                );
            }
        }

        if (version.Evidence.Count > 0)
        {
            await writer.WriteLineAsync("  evidence:");
            foreach (var e in version.Evidence)
            {
                await FileLineAsync(writer, e.Kind, e.SizeBytes, e.Sha256, e.Location);
            }
        }
    }

    // What the anomaly report raised, so the person who built it sees it before anyone promotes it.
    private static async Task RaisedAnomaliesAsync(TextWriter writer, ImageVersion version)
    {
        var raised = AnomalyAcknowledgements.Raised(version);
        if (raised.Count == 0)
        {
            return;
        }
        await writer.WriteLineAsync(
            $"  anomalies: {raised.Count} raised (imageforge anomalies {version.Image}@{version.Version}):"
        );
        foreach (var a in raised)
        {
            await writer.WriteLineAsync(
                $"    {AnomalySeverities.Name(a.Severity), -9} {a.Id}  {a.Explanation}"
            );
        }
    }

    private static async Task FileLineAsync(
        TextWriter writer,
        string kind,
        long? size,
        string? sha256,
        string location
    )
    {
        await writer.WriteLineAsync($"    {kind, -22} {Size(size), 9}  sha256:{sha256 ?? "-"}");
        await writer.WriteLineAsync($"    {"", -22} {location}");
    }

    public static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 60
            ? t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
            : $"{(int)t.TotalMinutes}m{t.Seconds:00}s";

    public static string Size(long? bytes) =>
        bytes switch
        {
            null => "-",
            < 1024 => $"{bytes} B",
            < 1024 * 1024 => (bytes.Value / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)
                + " KiB",
            < 1024L * 1024 * 1024 => (bytes.Value / 1048576.0).ToString(
                "0.0",
                CultureInfo.InvariantCulture
            ) + " MiB",
            _ => (bytes.Value / 1073741824.0).ToString("0.00", CultureInfo.InvariantCulture)
                + " GiB",
        };

    public static string Time(DateTimeOffset? t) =>
        t?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        ?? "-";
}
