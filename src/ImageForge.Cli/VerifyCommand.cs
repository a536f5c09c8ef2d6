using System.CommandLine;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Signing;

namespace ImageForge.Cli;

/// <summary><c>imageforge verify &lt;image&gt;@&lt;version&gt;</c>: digests, signature and signed subjects of one version.</summary>
internal static class VerifyCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("image")
        {
            Description =
                "The version to verify: <image>@<version>, or <image> for its latest version",
        };
        var key = new Option<string?>("--key")
        {
            Description =
                "Check the signature with this public key (PEM), trusted for this check, instead of the recorded one and the trust store",
        };
        var live = new Option<bool>("--live")
        {
            Description =
                "Also ask each cloud that the version's images still exist, carry its tags and are in the state the catalog says (drift: exit 1)",
        };
        var command = new Command(
            "verify",
            "Re-hash a version's artifacts and evidence and check its signed provenance; exit 1 when anything changed"
        )
        {
            reference,
            key,
            live,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var text = parse.GetValue(reference)!;
                string? trusted = null;
                if (parse.GetValue(key) is { } keyPath)
                {
                    var full = Path.GetFullPath(keyPath, ctx.Host.CurrentDirectory);
                    trusted = File.Exists(full)
                        ? await File.ReadAllTextAsync(full, ct)
                        : throw new InvalidInputException($"--key {keyPath}: no such file");
                }

                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var found = await VersionReference.ResolveAsync(catalog, text, ct);
                var report = await VersionVerifier.VerifyAsync(
                    found,
                    trusted,
                    ctx.Pipeline.TrustStore(),
                    ct
                );
                var liveReport = parse.GetValue(live)
                    ? await LiveReport.CheckAsync(found, ctx.Pipeline.Connected.Distribution, ct)
                    : null;
                await WriteAsync(ctx, report, trusted is not null, liveReport);
                return report.Ok && liveReport?.Ok != false ? CliApp.Ok : CliApp.NotOk;
            }
        );
        return command;
    }

    private static async Task WriteAsync(
        CliContext ctx,
        VerificationReport report,
        bool trustedKey,
        LiveReport? live
    )
    {
        if (ctx.Json)
        {
            await Json.WriteAsync(
                ctx.Out,
                new
                {
                    image = report.Image,
                    version = report.Version,
                    ok = report.Ok,
                    key_id = report.KeyId,
                    algorithm = report.Algorithm,
                    trusted_key = trustedKey,
                    key_fingerprint = report.KeyFingerprint,
                    key_trusted = report.KeyTrusted,
                    signature_valid = report.SignatureValid,
                    subjects = report.SubjectCount,
                    items = report.Items.Select(i => new
                    {
                        role = i.Role,
                        kind = i.Kind,
                        path = i.Location,
                        status = Status(i.Status),
                        recorded_sha256 = i.RecordedSha256,
                        actual_sha256 = i.ActualSha256,
                        signed = i.Covered,
                    }),
                    problems = report.Problems,
                    live = live is null
                        ? null
                        : new
                        {
                            ok = live.Ok,
                            images = live.Images.Select(i => new
                            {
                                target = i.Target,
                                region = i.Region,
                                id = i.Id,
                                state = i.State.ToString().ToLowerInvariant(),
                                detail = i.Detail,
                                tagged_version = i.TaggedVersion,
                            }),
                            drift = live.Drifts.Select(d => new
                            {
                                target = d.Target,
                                region = d.Region,
                                id = d.Id,
                                problem = d.Problem,
                            }),
                        },
                }
            );
            return;
        }

        await ctx.Out.WriteLineAsync($"verifying {report.Image}@{report.Version}");
        foreach (var i in report.Items)
        {
            var label = i.Status switch
            {
                ItemStatus.Changed => "CHANGED",
                _ => Status(i.Status),
            };
            var note = i.Covered ? "" : "  (not signed: recorded after the signature)";
            await ctx.Out.WriteLineAsync(
                $"  {label, -8} {i.Role, -8} {i.Kind, -22} {i.Location}{note}"
            );
        }

        var signature = report.SignatureValid ? "ok" : "NOT VALID";
        await ctx.Out.WriteLineAsync(
            $"  {(report.SignatureValid ? "ok" : "FAILED"), -8} signature {signature}: keyid {report.KeyId ?? "-"}, "
                + $"{report.Algorithm ?? "-"}, {report.SubjectCount} signed subjects"
                + (
                    trustedKey
                        ? ", checked with the trusted --key"
                        : ", checked with the recorded public key"
                )
                + (report.KeyFingerprint is { } fingerprint ? $" {fingerprint}" : "")
                + (
                    report.KeyTrusted switch
                    {
                        true => " (trusted)",
                        false => " (NOT TRUSTED)",
                        null => "",
                    }
                )
        );
        if (live is not null)
        {
            await WriteLiveAsync(ctx, live);
        }

        if (report.Ok)
        {
            await ctx.Out.WriteLineAsync(
                $"verified: {report.Items.Count(i => i.Status == ItemStatus.Ok)} files re-hashed, signature valid"
            );
            return;
        }

        await ctx.Out.WriteLineAsync($"verification FAILED ({report.Problems.Count}):");
        foreach (var problem in report.Problems)
        {
            await ctx.Out.WriteLineAsync($"  - {problem}");
        }
    }

    private static async Task WriteLiveAsync(CliContext ctx, LiveReport live)
    {
        foreach (var image in live.Images)
        {
            await ctx.Out.WriteLineAsync(
                $"  {"live", -8} {image.Target, -8} {image.Region, -22} {image.Id}: {image.State.ToString().ToLowerInvariant()} ({image.Detail})"
            );
        }

        if (live.Ok)
        {
            await ctx.Out.WriteLineAsync(
                $"live: {live.Images.Count} images at their providers as the catalog says"
            );
            return;
        }

        await ctx.Out.WriteLineAsync($"live: DRIFT ({live.Drifts.Count}):");
        foreach (var drift in live.Drifts)
        {
            await ctx.Out.WriteLineAsync($"  - {drift}");
        }
    }

    private static string Status(ItemStatus status) => status.ToString().ToLowerInvariant();
}
