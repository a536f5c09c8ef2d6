using ImageForge.Core.Builds;
using ImageForge.Core.Worker;

namespace ImageForge.Application.Views;

/// <summary>
/// One worker sharing the catalog, as <c>imageforge workers --output json</c> and <c>GET /api/workers</c> both show it.
/// </summary>
/// <param name="Id">New at every start: <c>&lt;name&gt;-&lt;12 hex&gt;</c>; the builds it claims name it.</param>
/// <param name="Name">worker.yaml <c>name</c>, default the host name.</param>
/// <param name="Host">Its machine's host name.</param>
/// <param name="Pid">Its process id there.</param>
/// <param name="State">running; silent (no heartbeat for longer than its lease: paused, cut off or dead, its builds
/// are taken over); stopped (it stopped cleanly).</param>
/// <param name="StartedAt">When it registered.</param>
/// <param name="HeartbeatAt">Its last heartbeat.</param>
/// <param name="StoppedAt">When it stopped cleanly.</param>
/// <param name="LeaseSeconds">Its queue.lease.</param>
/// <param name="Providers">The providers it builds for.</param>
/// <param name="Kvm">Whether KVM runs a guest there (the boot test's own probe passed): only then does it claim
/// builds whose definition says <c>boot_test_kvm: required</c>.</param>
/// <param name="KvmReason">Why not (<c>no /dev/kvm</c>, <c>the probe guest exited 124, expected 99</c>, <c>not probed
/// yet</c>); null when it has KVM.</param>
/// <param name="Builds">The builds running under its lease.</param>
public sealed record WorkerView(
    string Id,
    string Name,
    string Host,
    int Pid,
    string State,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    DateTimeOffset? StoppedAt,
    double LeaseSeconds,
    IReadOnlyList<string> Providers,
    bool Kvm,
    string? KvmReason,
    IReadOnlyList<string> Builds
)
{
    /// <summary>How long ago workers may have last heartbeat to be listed.</summary>
    public static readonly TimeSpan Recent = TimeSpan.FromDays(1);

    /// <summary>The view of a registered worker.</summary>
    public static WorkerView From(WorkerInfo worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return new WorkerView(
            worker.Id,
            worker.Name,
            HostIdentity.HostOf(worker.Host),
            worker.Pid,
            worker.State,
            worker.StartedAt,
            worker.HeartbeatAt,
            worker.StoppedAt,
            worker.Lease.TotalSeconds,
            worker.Capabilities.Providers,
            worker.Capabilities.Kvm,
            worker.Capabilities.Kvm ? null : worker.Capabilities.KvmReason ?? "not probed",
            worker.Builds
        );
    }
}
