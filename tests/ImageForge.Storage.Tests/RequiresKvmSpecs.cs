using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// Builds that require KVM (docs/cluster.md, "Requiring KVM"): the requirement is stored with the queued build, a
/// claimant without KVM passes over such a build and claims the next one it can run, a claimant with KVM claims it,
/// the queue's limits count as before, and a worker's KVM answer replaces what it registered.
/// </summary>
public abstract class RequiresKvmSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Claimant Worker(string name, bool kvm) => new(name, 4242, Hour) { Kvm = kvm };

    private static async Task<BuildRecord> QueueAsync(
        Catalog catalog,
        string image,
        bool requiresKvm
    ) =>
        (
            await catalog.EnqueueAsync(
                new BuildRequest(Builds.For(image) with { RequiresKvm = requiresKvm }, null, false),
                Nine
            )
        ).Build;

    [Fact]
    public async Task A_claimant_without_kvm_passes_over_a_build_that_requires_it_and_claims_the_next()
    {
        var catalog = await _data.OpenAsync();
        var kvm = await QueueAsync(catalog, "needs-kvm", requiresKvm: true);
        var plain = await QueueAsync(catalog, "plain", requiresKvm: false);
        var limits = new Dictionary<string, int> { ["local"] = 10 };

        var first = await catalog.ClaimNextAsync(limits, Worker("w-tcg", kvm: false), Nine);
        var second = await catalog.ClaimNextAsync(limits, Worker("w-tcg", kvm: false), Nine);

        first.ShouldNotBeNull().Id.ShouldBe(plain.Id);
        second.ShouldBeNull();
        (await catalog.GetBuildAsync(kvm.Id))!.Status.ShouldBe(BuildStatus.Queued);
    }

    [Fact]
    public async Task A_claimant_with_kvm_claims_the_oldest_build_whether_it_requires_kvm_or_not()
    {
        var catalog = await _data.OpenAsync();
        var kvm = await QueueAsync(catalog, "needs-kvm", requiresKvm: true);
        var plain = await QueueAsync(catalog, "plain", requiresKvm: false);
        var limits = new Dictionary<string, int> { ["local"] = 10 };

        var first = await catalog.ClaimNextAsync(limits, Worker("w-kvm", kvm: true), Nine);
        var second = await catalog.ClaimNextAsync(limits, Worker("w-kvm", kvm: true), Nine);

        first.ShouldNotBeNull().Id.ShouldBe(kvm.Id);
        first.LeaseWorker.ShouldBe("w-kvm");
        second.ShouldNotBeNull().Id.ShouldBe(plain.Id);
    }

    [Fact]
    public async Task The_limits_count_every_running_build_so_a_kvm_build_waits_for_a_free_slot()
    {
        var catalog = await _data.OpenAsync();
        var plain = await QueueAsync(catalog, "plain", requiresKvm: false);
        var kvm = await QueueAsync(catalog, "needs-kvm", requiresKvm: true);
        var limits = new Dictionary<string, int> { ["local"] = 1 };
        var running = (await catalog.ClaimNextAsync(limits, Worker("w-tcg", kvm: false), Nine))!;
        running.Id.ShouldBe(plain.Id);

        // The one slot is taken: the worker with KVM waits although the KVM build is its to run.
        (await catalog.ClaimNextAsync(limits, Worker("w-kvm", kvm: true), Nine)).ShouldBeNull();
        await using var leased = catalog.WithLease(running.Lease);
        await leased.EndBuildAsync(running.Id, BuildStatus.Failed, "done", Nine);
        var claimed = await catalog.ClaimNextAsync(limits, Worker("w-kvm", kvm: true), Nine);

        claimed.ShouldNotBeNull().Id.ShouldBe(kvm.Id);
    }

    [Fact]
    public async Task A_build_queued_again_after_its_lease_ran_out_still_requires_kvm()
    {
        var catalog = await _data.OpenAsync();
        var kvm = await QueueAsync(catalog, "needs-kvm", requiresKvm: true);
        var limits = new Dictionary<string, int> { ["local"] = 10 };
        (
            await catalog.ClaimNextAsync(
                limits,
                new Claimant("w-kvm", 4242, TimeSpan.FromMilliseconds(100)) { Kvm = true },
                Nine
            )
        ).ShouldNotBeNull();
        await Task.Delay(300);
        (await catalog.ReapExpiredLeasesAsync(3, Nine)).ShouldHaveSingleItem();

        (await catalog.ClaimNextAsync(limits, Worker("w-tcg", kvm: false), Nine)).ShouldBeNull();
        (await catalog.ClaimNextAsync(limits, Worker("w-kvm2", kvm: true), Nine))
            .ShouldNotBeNull()
            .Id.ShouldBe(kvm.Id);
    }

    [Fact]
    public async Task A_worker_s_kvm_answer_replaces_what_it_registered_with()
    {
        var catalog = await _data.OpenAsync();
        await catalog.RegisterWorkerAsync(
            "w-1",
            "w",
            4242,
            new WorkerCapabilities(["local"], false) { KvmReason = "not probed yet" },
            Hour
        );
        var registered = (await catalog.ListWorkersAsync(Hour)).ShouldHaveSingleItem();

        await catalog.UpdateCapabilitiesAsync(
            "w-1",
            new WorkerCapabilities(["local"], false)
            {
                KvmReason = "the probe guest exited 124, expected 99",
            }
        );
        var probed = (await catalog.ListWorkersAsync(Hour)).ShouldHaveSingleItem();

        registered.Capabilities.KvmReason.ShouldBe("not probed yet");
        probed.Capabilities.Kvm.ShouldBeFalse();
        probed.Capabilities.KvmReason.ShouldBe("the probe guest exited 124, expected 99");
        probed.Capabilities.Providers.ShouldBe(["local"]);
    }
}

/// <summary>The specs on a SQLite catalog.</summary>
public sealed class RequiresKvmSpecsOnSqlite() : RequiresKvmSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class RequiresKvmSpecsOnPostgres() : RequiresKvmSpecs(CatalogBackend.Postgres);
