using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// Leases on claimed builds (docs/cluster.md): a claim raises the epoch, a renewal keeps it, a lease that runs out is
/// taken over once (queued again, or ended after the last attempt), and every write made under a taken-over lease is
/// refused with nothing written. Lease times are the database's clock, so these specs wait real milliseconds.
/// </summary>
public abstract class LeaseSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, int> Limits = new() { ["local"] = 100 };
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Claimant Worker(string name, TimeSpan lease) => new(name, 4242, lease);

    // A build's end event, as the build pipeline gives it to the write that ends the build.
    private static AuditEntry Ended(string action, string? version = null) =>
        new()
        {
            Action = action,
            Actor = "spec",
            Role = "builder",
            Time = Nine,
            Image = "web",
            Version = version,
        };

    private static async Task<BuildRecord> QueueAndClaimAsync(
        Catalog catalog,
        string worker,
        TimeSpan lease,
        string image = "web"
    )
    {
        await catalog.EnqueueAsync(new BuildRequest(Builds.For(image), null, false), Nine);
        return (await catalog.ClaimNextAsync(Limits, Worker(worker, lease), Nine))!;
    }

    // Waits until the database's clock is past the lease, then takes over what ran out.
    private static async Task<IReadOnlyList<ReapedLease>> ReapAfterExpiryAsync(
        Catalog catalog,
        int maxAttempts = 3
    )
    {
        await Task.Delay(Short * 2);
        return await catalog.ReapExpiredLeasesAsync(maxAttempts, Nine.AddMinutes(1));
    }

    [Fact]
    public async Task A_renewed_lease_is_left_alone_and_a_stale_epoch_cannot_renew()
    {
        var catalog = await _data.OpenAsync();
        var claimed = await QueueAndClaimAsync(catalog, "w1", Short);

        // Renewed for an hour before it ran out: the reaper finds nothing.
        (await catalog.RenewLeaseAsync(claimed.Lease, TimeSpan.FromHours(1))).ShouldBeTrue();
        (await ReapAfterExpiryAsync(catalog)).ShouldBeEmpty();
        (await catalog.GetBuildAsync(claimed.Id))!.LeaseExpiresAt!.Value.ShouldBeGreaterThan(
            TimeProvider.System.GetUtcNow().AddMinutes(59)
        );

        (await catalog.RenewLeaseAsync(claimed.Lease with { Epoch = 0 }, Short)).ShouldBeFalse();
    }

    [Fact]
    public async Task A_lease_that_ran_out_is_queued_again_once_with_its_version_released_and_a_log_line()
    {
        var catalog = await _data.OpenAsync();
        var claimed = await QueueAndClaimAsync(catalog, "w1", Short);
        await using var leased = catalog.WithLease(claimed.Lease);
        (await leased.ReserveVersionAsync(claimed.Id, Nine)).ShouldBe("2025.03.04.1");

        var reaped = (await ReapAfterExpiryAsync(catalog)).ShouldHaveSingleItem();
        (await catalog.ReapExpiredLeasesAsync(3, Nine)).ShouldBeEmpty();

        reaped.Build.ShouldBe(claimed with { Version = "2025.03.04.1" });
        reaped.Became.ShouldBe(BuildStatus.Queued);
        reaped.Message.ShouldBe(
            "worker w1 stopped renewing its lease; queued again (attempt 2 of 3)"
        );
        var queued = (await catalog.GetBuildAsync(claimed.Id))!;
        queued.Status.ShouldBe(BuildStatus.Queued);
        queued.LeaseEpoch.ShouldBe(claimed.LeaseEpoch + 1);
        queued.Version.ShouldBeNull();
        queued.OwnerPid.ShouldBeNull();
        (await catalog.ReadLogAsync(claimed.Id))
            .Select(l => (l.Stream, l.Text))
            .ShouldBe([("worker", reaped.Message)]);

        // The next claim is the second attempt, in its own directories, and gets the version number back.
        var again = (
            await catalog.ClaimNextAsync(Limits, Worker("w2", TimeSpan.FromHours(1)), Nine)
        )!;
        again.Id.ShouldBe(claimed.Id);
        again.Attempts.ShouldBe(2);
        again.LeaseEpoch.ShouldBe(claimed.LeaseEpoch + 2);
        again.LeaseWorker.ShouldBe("w2");
        again.FilesKey.ShouldBe($"{claimed.Id}-attempt2");
        await using var next = catalog.WithLease(again.Lease);
        (await next.ReserveVersionAsync(again.Id, Nine)).ShouldBe("2025.03.04.1");
    }

    [Fact]
    public async Task Every_write_under_a_taken_over_lease_is_refused_and_writes_nothing()
    {
        var catalog = await _data.OpenAsync();
        var claimed = await QueueAndClaimAsync(catalog, "w1", Short);
        await using var stale = catalog.WithLease(claimed.Lease);
        await stale.AppendLogAsync(claimed.Id, [(Nine, "stdout", "before")]);
        await ReapAfterExpiryAsync(catalog);
        var again = (
            await catalog.ClaimNextAsync(Limits, Worker("w2", TimeSpan.FromHours(1)), Nine)
        )!;

        // The worker that was given up for dead resumes and tries to record what it did.
        var writes = new Func<Task>[]
        {
            () => stale.AppendLogAsync(claimed.Id, [(Nine, "stdout", "after")]),
            () => stale.SetToolProcessGroupAsync(claimed.Id, 999_999),
            () => stale.ReserveVersionAsync(claimed.Id, Nine),
            () => stale.MarkResumableAsync(claimed.Id),
            () =>
                stale.CompleteBuildAsync(
                    claimed.Id,
                    [],
                    [],
                    VersionStatus.Built,
                    Nine,
                    v => [Ended("stale-complete", v)]
                ),
            () =>
                stale.EndBuildAsync(
                    claimed.Id,
                    BuildStatus.Failed,
                    "stale",
                    Nine,
                    Ended("stale-end")
                ),
        };
        foreach (var write in writes)
        {
            var refused = await Should.ThrowAsync<LeaseLostException>(write);
            refused.Message.ShouldBe(
                $"build {claimed.Id} is no longer this worker's: its lease was taken over (epoch "
                    + $"{again.LeaseEpoch}, this worker holds {claimed.LeaseEpoch}); nothing was recorded and its "
                    + "tools are stopped"
            );
        }

        (await catalog.GetBuildAsync(claimed.Id)).ShouldBe(again);
        (await catalog.ReadLogAsync(claimed.Id)).Select(l => l.Text).ShouldNotContain("after");
        (await catalog.ListVersionsAsync("web")).ShouldBeEmpty();
        (await catalog.ReadAuditAsync()).ShouldBeEmpty("a refused end appends no event");

        // The new owner's writes go through, and its end event is appended with the version it recorded.
        await using var owner = catalog.WithLease(again.Lease);
        await owner.AppendLogAsync(again.Id, [(Nine, "stdout", "new owner")]);
        (
            await owner.CompleteBuildAsync(
                again.Id,
                [],
                [],
                VersionStatus.Built,
                Nine,
                v => [Ended("build", v), Ended("sign", v)]
            )
        ).Version.ShouldBe("2025.03.04.1");
        (await catalog.ReadAuditAsync())
            .Select(e => (e.Entry.Action, e.Entry.Version))
            .ShouldBe([("build", "2025.03.04.1"), ("sign", "2025.03.04.1")]);
    }

    [Fact]
    public async Task After_its_last_attempt_a_build_whose_lease_ran_out_fails_saying_why()
    {
        var catalog = await _data.OpenAsync();
        await catalog.RegisterWorkerAsync(
            "w1",
            "build-01",
            4242,
            new WorkerCapabilities(["local"], false),
            TimeSpan.FromMinutes(1)
        );
        var claimed = await QueueAndClaimAsync(catalog, "w1", Short);

        await Task.Delay(Short * 2);
        var reaped = (
            await catalog.ReapExpiredLeasesAsync(
                1,
                Nine.AddMinutes(1),
                b => Ended($"build {b.Status}: {b.Message}")
            )
        ).ShouldHaveSingleItem();

        reaped.Became.ShouldBe(BuildStatus.Failed);
        // The takeover's end event is written with it (a reaper killed after its commit leaves no end unaudited).
        (await catalog.ReadAuditAsync())
            .ShouldHaveSingleItem()
            .Entry.Action.ShouldStartWith("build Failed: its lease expired 1 time(s)");
        var failed = (await catalog.GetBuildAsync(claimed.Id))!;
        failed.Status.ShouldBe(BuildStatus.Failed);
        failed.EndedAt.ShouldBe(Nine.AddMinutes(1));
        failed.Message.ShouldBe(
            "its lease expired 1 time(s), the most allowed (queue.max_attempts: 1); last held by worker w1 on "
                + Environment.MachineName
        );
        (await catalog.ListQueuedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_build_asked_to_cancel_is_cancelled_and_one_whose_imports_began_is_kept_for_resume()
    {
        var catalog = await _data.OpenAsync();
        var cancelled = await QueueAndClaimAsync(catalog, "w1", Short, "first");
        await catalog.RequestCancelAsync(cancelled.Id);
        var importing = await QueueAndClaimAsync(catalog, "w1", Short, "second");
        await using var leased = catalog.WithLease(importing.Lease);
        var version = await leased.ReserveVersionAsync(importing.Id, Nine);
        await leased.MarkResumableAsync(importing.Id);

        var reaped = await ReapAfterExpiryAsync(catalog);

        reaped
            .Select(r => (r.Build.Id, r.Became))
            .ShouldBe([
                (cancelled.Id, BuildStatus.Cancelled),
                (importing.Id, BuildStatus.Interrupted),
            ]);
        var kept = (await catalog.GetBuildAsync(importing.Id))!;
        kept.Status.ShouldBe(BuildStatus.Interrupted);
        kept.Version.ShouldBe(version);
        kept.Message!.ShouldEndWith($"resume it with 'imageforge build --resume {importing.Id}'");
        // Resuming takes it over again: the interrupted worker's lease is worth nothing.
        var resumed = await catalog.ResumeBuildAsync(importing.Id, 77);
        resumed.LeaseWorker.ShouldBeNull();
        resumed.LeaseEpoch.ShouldBe(importing.LeaseEpoch + 2);
        await Should.ThrowAsync<LeaseLostException>(() =>
            leased.AppendLogAsync(importing.Id, [(Nine, "stdout", "late")])
        );
    }

    [Fact]
    public async Task Reapers_racing_take_each_expired_lease_over_once()
    {
        var catalogs = new List<Catalog>();
        for (var i = 0; i < 3; i++)
        {
            catalogs.Add(await _data.OpenAsync());
        }

        for (var i = 0; i < 5; i++)
        {
            await QueueAndClaimAsync(catalogs[0], "w1", Short, $"image{i}");
        }

        await Task.Delay(Short * 2);
        var reaped = await Task.WhenAll(
            catalogs.Select(c => Task.Run(() => c.ReapExpiredLeasesAsync(3, Nine)))
        );

        reaped
            .SelectMany(r => r)
            .Select(r => r.Build.Id)
            .Order()
            .ShouldBe(["1", "2", "3", "4", "5"]);
        (await catalogs[0].ListQueuedAsync()).Count.ShouldBe(5);
    }

    [Fact]
    public async Task A_worker_claims_only_builds_whose_every_target_it_takes()
    {
        var catalog = await _data.OpenAsync();
        var limits = new Dictionary<string, int> { ["local"] = 5, ["aws"] = 5 };
        await catalog.EnqueueAsync(new BuildRequest(Builds.For("local-only"), null, false), Nine);
        await catalog.EnqueueAsync(
            new BuildRequest(Builds.For("multi", "local,aws"), null, false),
            Nine
        );
        await catalog.EnqueueAsync(new BuildRequest(Builds.For("cloud", "aws"), null, false), Nine);
        var awsOnly = Worker("aws-worker", TimeSpan.FromHours(1)) with
        {
            Providers = new HashSet<string>(["aws"], StringComparer.Ordinal),
        };

        var first = await catalog.ClaimNextAsync(limits, awsOnly, Nine);
        var none = await catalog.ClaimNextAsync(limits, awsOnly, Nine);
        var any = Worker("any", TimeSpan.FromHours(1));
        var second = await catalog.ClaimNextAsync(limits, any, Nine);
        var third = await catalog.ClaimNextAsync(limits, any, Nine);

        first!.Image.ShouldBe("cloud");
        none.ShouldBeNull();
        (second!.Image, third!.Image).ShouldBe(("local-only", "multi"));
    }

    [Fact]
    public async Task Workers_register_heartbeat_and_stop_and_are_listed_with_their_builds()
    {
        var catalog = await _data.OpenAsync();
        var registered = await catalog.RegisterWorkerAsync(
            "build-01-aaaa",
            "build-01",
            4242,
            new WorkerCapabilities(["aws", "local"], true),
            TimeSpan.FromMinutes(1)
        );
        await catalog.RegisterWorkerAsync(
            "build-02-bbbb",
            "build-02",
            4343,
            new WorkerCapabilities(["local"], false),
            TimeSpan.FromMinutes(1)
        );
        // This one registers with a lease of 30 ms and never heartbeats.
        await catalog.RegisterWorkerAsync(
            "build-03-cccc",
            "build-03",
            4444,
            new WorkerCapabilities(["local"], false),
            TimeSpan.FromMilliseconds(30)
        );
        var claimed = await QueueAndClaimAsync(catalog, "build-01-aaaa", TimeSpan.FromHours(1));
        await Task.Delay(60);
        await catalog.HeartbeatAsync("build-01-aaaa");
        await catalog.WorkerStoppedAsync("build-02-bbbb");

        var workers = await catalog.ListWorkersAsync(TimeSpan.FromDays(1));

        registered.Host.ShouldBe(HostIdentity.Current);
        var first = workers.Single(w => w.Id == "build-01-aaaa");
        first.Name.ShouldBe("build-01");
        first.Pid.ShouldBe(4242);
        first.Capabilities.Providers.ShouldBe(["aws", "local"]);
        first.Capabilities.Kvm.ShouldBeTrue();
        first.HeartbeatAt.ShouldBeGreaterThan(registered.HeartbeatAt);
        first.StoppedAt.ShouldBeNull();
        first.Lease.ShouldBe(TimeSpan.FromMinutes(1));
        workers
            .Select(w => (w.Id, w.State))
            .Order()
            .ShouldBe([
                ("build-01-aaaa", "running"),
                ("build-02-bbbb", "stopped"),
                ("build-03-cccc", "silent"),
            ]);
        first.Builds.ShouldBe([claimed.Id]);
        var second = workers.Single(w => w.Id == "build-02-bbbb");
        second.StoppedAt.ShouldNotBeNull();
        second.Builds.ShouldBeEmpty();
        // Workers silent for longer than asked are left out.
        await Task.Delay(50);
        (await catalog.ListWorkersAsync(TimeSpan.FromMilliseconds(20))).ShouldBeEmpty();
    }
}

/// <summary>The specs on a SQLite catalog.</summary>
public sealed class LeaseSpecsOnSqlite() : LeaseSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class LeaseSpecsOnPostgres() : LeaseSpecs(CatalogBackend.Postgres);
