using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Promotion;
using ImageForge.Core.Providers;

namespace ImageForge.Core.Audit;

/// <summary>
/// What the build pipeline writes to the audit trail: the start, the end (with the version), the signature, the gate
/// decision and each waiver the compliance evaluation applied; and the version's ancestry (the base it was built on,
/// as the target's provider module names it).
/// </summary>
public sealed class BuildAudit(
    IAuditLog log,
    IPromotionStore? lineage,
    TimeProvider time,
    ProviderRegistry providers
)
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

    /// <summary>
    /// Records the end of a build that no worker ran to its end: taken over from a silent worker and ended as failed
    /// (its last attempt), cancelled or interrupted (docs/cluster.md). The same <c>build</c> event as any end.
    /// </summary>
    public Task TakenOverAsync(BuildRecord build, CancellationToken cancellationToken = default) =>
        log.AppendAsync(EndEntry(build, null), cancellationToken);

    public async Task EndedAsync(
        BuildRecord build,
        PreparedBuild prepared,
        ImageVersion? version,
        CancellationToken cancellationToken = default
    )
    {
        await log.AppendAsync(EndEntry(build, version), cancellationToken);
        if (version is null)
        {
            return;
        }

        if (lineage is not null)
        {
            var target = prepared.Target;
            var baseImage = providers
                .Get(target.Provider)
                .BaseImage(prepared.Definition, target)
                .Lineage;
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

        if (CurrentGate(version) is { } gate)
        {
            await log.AppendAsync(
                Entry(
                    build,
                    "gate",
                    version,
                    AuditChain.Details(
                        ("decision", GateDecision.Name(gate.Decision.Decision)),
                        ("evidence_sha256", gate.Evidence.Sha256)
                    )
                ),
                cancellationToken
            );
        }

        foreach (var waiver in AppliedWaivers(version))
        {
            await log.AppendAsync(
                Entry(
                    build,
                    "waiver",
                    version,
                    AuditChain.Details(
                        ("rule", waiver.Rule),
                        ("reason", waiver.Reason),
                        ("owner", waiver.Owner),
                        ("expires", waiver.Expires.ToString("yyyy-MM-dd", null))
                    )
                ),
                cancellationToken
            );
        }
    }

    private AuditEntry EndEntry(BuildRecord build, ImageVersion? version) =>
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
        );

    // An unreadable decision is not audited here: promotion refuses the version for it.
    private static RecordedGateDecision? CurrentGate(ImageVersion version)
    {
        try
        {
            return GateDecision.Current(version);
        }
        catch (InvalidInputException)
        {
            return null;
        }
    }

    // The waivers that covered a failure of the scan after hardening, from the compliance summary.
    private static IEnumerable<WaiverStatus> AppliedWaivers(ImageVersion version)
    {
        var summary = version.Evidence.LastOrDefault(e =>
            e.Kind == ComplianceCollector.SummaryKind
        );
        if (summary is null)
        {
            return [];
        }

        try
        {
            return ComplianceSummary
                .Read(summary.Location)
                .Waivers.Where(w => w.State == WaiverState.Applied);
        }
        catch (InvalidInputException)
        {
            return [];
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
}
