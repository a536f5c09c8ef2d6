using System.Globalization;
using ImageForge.Core.Builds;

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
                new { build = BuildJson(outcome.Build), version = VersionJson(outcome.Version) }
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
            await ArtifactsAsync(ctx.Out, version.Artifacts);
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

    public static async Task ArtifactsAsync(TextWriter writer, IReadOnlyList<Artifact> artifacts)
    {
        foreach (var a in artifacts)
        {
            await writer.WriteLineAsync(
                $"  {a.Kind, -18} {Size(a.SizeBytes), 9}  sha256:{a.Sha256}"
            );
            await writer.WriteLineAsync($"  {"", -18} {a.Location}");
        }
    }

    public static object BuildJson(BuildRecord b) =>
        new
        {
            id = b.Id,
            image = b.Image,
            target = b.Target,
            trigger = b.Trigger,
            requester = b.Requester,
            reason = b.Reason,
            fingerprint = b.Fingerprint,
            status = b.Status,
            started_at = b.StartedAt,
            ended_at = b.EndedAt,
            message = b.Message,
            version = b.Version,
        };

    public static object? VersionJson(ImageVersion? v) =>
        v is null
            ? null
            : new
            {
                image = v.Image,
                version = v.Version,
                build_id = v.BuildId,
                created_at = v.CreatedAt,
                status = v.Status,
                fingerprint = v.Fingerprint,
                artifacts = v.Artifacts.Select(a => new
                {
                    target = a.Target,
                    region = a.Region,
                    kind = a.Kind,
                    path = a.Location,
                    sha256 = a.Sha256,
                    size_bytes = a.SizeBytes,
                }),
            };

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
