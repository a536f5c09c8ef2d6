using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Core.Audit;

/// <summary>
/// What the build pipeline writes to the audit trail: the start, the end (with the version), the signature, the gate
/// decision and each waiver it used; and the version's ancestry (the base it was built on: <c>debian/&lt;suite&gt;</c>
/// for the local target, the provider's base image otherwise).
/// </summary>
public sealed class BuildAudit(IAuditLog log, IPromotionStore? lineage, TimeProvider time)
{
    public Task StartedAsync(BuildRecord build, CancellationToken cancellationToken = default) =>
        log.AppendAsync(
            Entry(
                build,
                "build-start",
                null,
                AuditChain.Details(
                    ("build", build.Id),
                    ("target", build.Target),
                    ("trigger", build.Trigger.ToString())
                )
            ),
            cancellationToken
        );

    public async Task EndedAsync(
        BuildRecord build,
        PreparedBuild prepared,
        ImageVersion? version,
        CancellationToken cancellationToken = default
    )
    {
        await log.AppendAsync(
            Entry(
                build,
                "build",
                version,
                AuditChain.Details(
                    ("build", build.Id),
                    ("status", build.Status.ToString().ToLowerInvariant()),
                    ("message", build.Message),
                    ("version_status", version?.Status)
                )
            ),
            cancellationToken
        );
        if (version is null)
        {
            return;
        }

        if (lineage is not null)
        {
            var target = prepared.Target;
            var baseImage =
                target.Provider == "local"
                    ? $"{prepared.Definition.Os.Family}/{target.BaseImage}"
                    : target.BaseImage;
            await lineage.RecordLineageAsync(
                new Lineage(version.Image, version.Version, baseImage, null, null),
                cancellationToken
            );
        }

        if (version.Evidence.LastOrDefault(e => e.Kind == "provenance-dsse") is { } envelope)
        {
            await log.AppendAsync(
                Entry(
                    build,
                    "sign",
                    version,
                    AuditChain.Details(("envelope_sha256", envelope.Sha256))
                ),
                cancellationToken
            );
        }

        if (
            version.Evidence.LastOrDefault(e => e.Kind == PromotionService.GateDecisionKind) is
            { } gate
        )
        {
            var (decision, waived) = ReadGate(gate.Location);
            await log.AppendAsync(
                Entry(
                    build,
                    "gate",
                    version,
                    AuditChain.Details(("decision", decision), ("evidence_sha256", gate.Sha256))
                ),
                cancellationToken
            );
            foreach (var rule in waived)
            {
                await log.AppendAsync(
                    Entry(build, "waiver", version, AuditChain.Details(("rule", rule))),
                    cancellationToken
                );
            }
        }
    }

    private AuditEntry Entry(
        BuildRecord build,
        string action,
        ImageVersion? version,
        string details
    ) =>
        new()
        {
            Action = action,
            Actor = build.Requester,
            // Anyone able to start a build on this machine; the worker's tokens bring real roles (issue 7).
            Role = "builder",
            Time = time.GetUtcNow(),
            Image = build.Image,
            Version = version?.Version,
            Reason = build.Reason,
            Details = details,
        };

    private static (string? Decision, IReadOnlyList<string> Waived) ReadGate(string path)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var decision = json.RootElement.TryGetProperty("decision", out var d)
                ? d.GetString()
                : null;
            var waived = new List<string>();
            if (
                json.RootElement.TryGetProperty("reasons", out var reasons)
                && reasons.ValueKind == JsonValueKind.Array
            )
            {
                foreach (var r in reasons.EnumerateArray())
                {
                    if (r.TryGetProperty("outcome", out var o) && o.GetString() == "waived")
                    {
                        waived.Add(
                            r.TryGetProperty("rule", out var rule) ? rule.GetString() ?? "?" : "?"
                        );
                    }
                }
            }

            return (decision, waived);
        }
        catch (Exception e)
            when (e
                    is IOException
                        or UnauthorizedAccessException
                        or JsonException
                        or InvalidOperationException
            )
        {
            return (null, []);
        }
    }
}
