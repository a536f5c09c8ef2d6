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
    /// The event of a build that ended without a version (failed, cancelled, interrupted; also one no worker ran to
    /// its end, taken over from a silent worker: docs/cluster.md), written by the catalog in the transaction that ends
    /// the build (<see cref="ICatalog.EndBuildAsync"/>, the reaper's takeover), so that a crash can never leave an
    /// ended build without its event.
    /// </summary>
    public AuditEntry Ended(BuildRecord build, BuildStatus status, string message)
    {
        ArgumentNullException.ThrowIfNull(build);
        return EndEntry(build with { Status = status, Message = message }, null);
    }

    /// <summary>
    /// The events of a build that recorded its version (<paramref name="version"/> once the catalog knows its number):
    /// the end, the signature, the gate decision and each waiver applied, written by the catalog in the transaction
    /// that records the version (<see cref="ICatalog.CompleteBuildAsync"/>).
    /// </summary>
    public IReadOnlyList<AuditEntry> Completed(
        BuildRecord build,
        string version,
        VersionStatus status,
        IReadOnlyList<Artifact> artifacts,
        IReadOnlyList<EvidenceDocument> evidence
    )
    {
        ArgumentNullException.ThrowIfNull(build);
        var recorded = new ImageVersion
        {
            Image = build.Image,
            Version = version,
            BuildId = build.Id,
            CreatedAt = time.GetUtcNow(),
            Status = status,
            Fingerprint = build.Fingerprint,
            Artifacts = artifacts,
            Evidence = evidence,
        };
        var entries = new List<AuditEntry>
        {
            EndEntry(build with { Status = BuildStatus.Succeeded }, recorded),
        };
        if (evidence.LastOrDefault(e => e.Kind == "provenance-dsse") is { } envelope)
        {
            entries.Add(
                Entry(
                    build,
                    "sign",
                    recorded,
                    AuditChain.Details(("envelope_sha256", envelope.Sha256))
                )
            );
        }

        if (CurrentGate(recorded) is { } gate)
        {
            entries.Add(
                Entry(
                    build,
                    "gate",
                    recorded,
                    AuditChain.Details(
                        ("decision", GateDecision.Name(gate.Decision.Decision)),
                        ("evidence_sha256", gate.Evidence.Sha256)
                    )
                )
            );
        }

        foreach (var waiver in AppliedWaivers(recorded))
        {
            entries.Add(
                Entry(
                    build,
                    "waiver",
                    recorded,
                    AuditChain.Details(
                        ("rule", waiver.Rule),
                        ("reason", waiver.Reason),
                        ("owner", waiver.Owner),
                        ("expires", waiver.Expires.ToString("yyyy-MM-dd", null))
                    )
                )
            );
        }

        return entries;
    }

    /// <summary>The recorded version's ancestry: the base it was built on, as the target's provider names it.</summary>
    public async Task LineageAsync(
        PreparedBuild prepared,
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(prepared);
        ArgumentNullException.ThrowIfNull(version);
        if (lineage is null)
        {
            return;
        }

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
