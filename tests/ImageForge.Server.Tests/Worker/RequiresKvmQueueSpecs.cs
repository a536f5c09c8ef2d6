using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Server.Queue;
using ImageForge.Server.Scheduling;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Worker;

/// <summary>
/// A definition's <c>boot_test_kvm: required</c> reaches the queued build on every enqueue path (the API's and the
/// CLI's <c>--server</c> requests, a schedule's firing; the CVE rebuild in <see cref="CveRescanSpecs"/>), so the claim,
/// which never reads definitions, leaves it to a worker with KVM (docs/cluster.md, "Requiring KVM").
/// </summary>
public sealed class RequiresKvmQueueSpecs
{
    private const string Image = "debian-11-cis";
    private static readonly DateTimeOffset Night = new(2026, 1, 10, 1, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_build_requested_through_the_api_carries_the_definitions_kvm_requirement(
        bool required
    )
    {
        await using var worker = await WorkerFixture.CreateAsync(Night);
        if (required)
        {
            await KvmClaims.RequireKvmAsync(worker);
        }

        var requests = new BuildRequests(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );
        var queued = await requests.QueueAsync(
            new BuildSubmission(Image, "local", BuildTrigger.Manual, "alice", "try", null),
            default
        );

        await KvmClaims.ShouldGoOnlyToKvmAsync(worker, queued.Build.Id, required);
    }

    [Fact]
    public async Task A_scheduled_build_of_a_definition_that_requires_kvm_waits_for_a_worker_with_kvm()
    {
        await using var worker = await WorkerFixture.CreateAsync(Night);
        await KvmClaims.RequireKvmAsync(worker);
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );

        var firing = await schedules.FireAsync(Image, "local", Night, false, default);

        firing!.Outcome.ShouldBe("queued");
        await KvmClaims.ShouldGoOnlyToKvmAsync(worker, firing.BuildId!, required: true);
    }
}

/// <summary>What the KVM specs of the enqueue paths share.</summary>
internal static class KvmClaims
{
    /// <summary>Makes the copied debian-11-cis definition's local target require KVM.</summary>
    public static async Task RequireKvmAsync(WorkerFixture worker)
    {
        var file = worker.ContentFile("templates", "images", "debian-11-cis.yaml");
        var yaml = await File.ReadAllTextAsync(file);
        await File.WriteAllTextAsync(
            file,
            yaml.Replace(
                "      boot_test: true\n",
                "      boot_test: true\n      boot_test_kvm: required\n",
                StringComparison.Ordinal
            )
        );
    }

    /// <summary>
    /// A worker without KVM claims the build only when it does not require KVM; one with KVM claims it otherwise.
    /// </summary>
    public static async Task ShouldGoOnlyToKvmAsync(
        WorkerFixture worker,
        string buildId,
        bool required
    )
    {
        var limits = new Dictionary<string, int> { ["local"] = 10 };
        var lease = TimeSpan.FromHours(1);
        var withoutKvm = await worker.Catalog.ClaimNextAsync(
            limits,
            new Claimant("w-tcg", Environment.ProcessId, lease),
            worker.Time.GetUtcNow()
        );
        if (!required)
        {
            withoutKvm.ShouldNotBeNull().Id.ShouldBe(buildId);
            return;
        }

        withoutKvm.ShouldBeNull();
        var withKvm = await worker.Catalog.ClaimNextAsync(
            limits,
            new Claimant("w-kvm", Environment.ProcessId, lease) { Kvm = true },
            worker.Time.GetUtcNow()
        );
        withKvm.ShouldNotBeNull().Id.ShouldBe(buildId);
    }
}
