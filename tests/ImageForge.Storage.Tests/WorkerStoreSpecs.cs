using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class WorkerStoreSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2025, 3, 4, 9, 0, 0, 123, TimeSpan.Zero);
    private static readonly Dictionary<string, int> NoLimits = [];

    // A worker claiming with a lease long enough that no spec here sees it run out.
    internal static Claimant Claim(int pid) =>
        new($"spec-worker-{pid}", pid, TimeSpan.FromHours(1));

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static DateTimeOffset At(int minutes) => Nine.AddMinutes(minutes);

    // Claims every delivery due at the time for an hour, as one dispatcher would; the claims by delivery id.
    private static async Task<Dictionary<string, WebhookClaim>> ClaimAllAsync(
        Catalog catalog,
        DateTimeOffset now
    ) =>
        (
            await catalog.ClaimDueAsync(now, 100, "spec-dispatcher", TimeSpan.FromHours(1))
        ).ToDictionary(d => d.Id, d => d.Claim!);

    private static BuildRequest Request(
        string image,
        string target = "local",
        string? key = null,
        bool coalesce = false
    ) => new(Builds.For(image, target), key, coalesce);

    private async Task<List<Catalog>> OpenManyAsync(int count)
    {
        var catalogs = new List<Catalog>();
        for (var i = 0; i < count; i++)
        {
            catalogs.Add(await _data.OpenAsync());
        }

        return catalogs;
    }

    // Starts every call at once on the thread pool, released together.
    private static async Task<T[]> RaceAsync<T>(IEnumerable<Func<Task<T>>> calls)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = calls
            .Select(call =>
                Task.Run(async () =>
                {
                    await gate.Task;
                    return await call();
                })
            )
            .ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Queueing_a_build_records_a_queued_row_that_lists_but_is_not_running()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var queued = await catalog.EnqueueAsync(Request("web"), At(0));

        // Assert
        queued.Joined.ShouldBeFalse();
        queued.Build.ShouldBe(
            new BuildRecord
            {
                Id = "1",
                Image = "web",
                Target = "local",
                Trigger = BuildTrigger.Manual,
                Requester = "alice",
                Reason = "testing",
                Fingerprint = "sha256:web",
                StartedAt = At(0),
                Status = BuildStatus.Queued,
                QueuedAt = At(0),
            }
        );
        (await catalog.GetBuildAsync("1")).ShouldBe(queued.Build);
        (await catalog.ListBuildsAsync()).ShouldBe([queued.Build]);
        (await catalog.ListQueuedAsync()).ShouldBe([queued.Build]);
        (await catalog.ListRunningBuildsAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_claimed_build_keeps_the_traceparent_and_the_time_it_was_queued()
    {
        // Arrange
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var catalog = await _data.OpenAsync();
        await catalog.EnqueueAsync(
            new BuildRequest(
                Builds.For("web", "local") with
                {
                    TraceParent = traceParent,
                },
                null,
                false
            ),
            At(0)
        );

        // Act
        var claimed = await catalog.ClaimNextAsync(NoLimits, Claim(7), At(3));

        // Assert
        claimed.ShouldNotBeNull();
        claimed.TraceParent.ShouldBe(traceParent);
        claimed.QueuedAt.ShouldBe(At(0));
        claimed.StartedAt.ShouldBe(At(3));
    }

    [Fact]
    public async Task A_second_request_with_the_same_idempotency_key_returns_the_first_build()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var first = await catalog.EnqueueAsync(Request("web", key: "retry-me"), At(0));
        await catalog.ClaimNextAsync(NoLimits, Claim(7), At(1));

        // Act: the retry comes after the build started, and even names another image.
        var second = await catalog.EnqueueAsync(Request("db", key: "retry-me"), At(2));
        var other = await catalog.EnqueueAsync(Request("web", key: "another"), At(3));

        // Assert
        second.Joined.ShouldBeTrue();
        second.Build.Id.ShouldBe(first.Build.Id);
        second.Build.Status.ShouldBe(BuildStatus.Running);
        other.Joined.ShouldBeFalse();
        other.Build.Id.ShouldNotBe(first.Build.Id);
        (await catalog.ListBuildsAsync()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_request_that_joined_a_queued_build_gets_that_build_again_when_retried_after_it_started()
    {
        // Arrange: the second request coalesces into the first one's queued build.
        var catalog = await _data.OpenAsync();
        var first = await catalog.EnqueueAsync(Request("web", key: "alice"), At(0));
        var joined = await catalog.EnqueueAsync(Request("web", key: "bob", coalesce: true), At(1));
        await catalog.ClaimNextAsync(NoLimits, Claim(7), At(2));

        // Act: bob's client timed out and retries once the build runs (it would not coalesce any more).
        var retried = await catalog.EnqueueAsync(Request("web", key: "bob", coalesce: true), At(3));

        // Assert
        joined.Build.Id.ShouldBe(first.Build.Id);
        retried.Joined.ShouldBeTrue();
        retried.Build.Id.ShouldBe(first.Build.Id);
        (await catalog.ListBuildsAsync()).Count.ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Twenty_requests_with_one_idempotency_key_from_separate_catalogs_at_once_queue_one_build()
    {
        // Arrange: each catalog instance stands for a separate process.
        var catalogs = await OpenManyAsync(20);

        // Act
        var results = await RaceAsync(
            catalogs.Select(c =>
                (Func<Task<QueuedBuild>>)(
                    () => c.EnqueueAsync(Request("web", key: "one-key"), At(0))
                )
            )
        );

        // Assert
        results.Select(r => r.Build.Id).Distinct().Count().ShouldBe(1);
        results.Count(r => !r.Joined).ShouldBe(1);
        (await catalogs[0].ListQueuedAsync()).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_coalescing_request_joins_the_queued_build_of_its_image_and_target_only()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var queued = await catalog.EnqueueAsync(Request("web"), At(0));

        // Act
        var joined = await catalog.EnqueueAsync(Request("web", coalesce: true), At(1));
        var otherTarget = await catalog.EnqueueAsync(Request("web", "aws", coalesce: true), At(2));
        var otherImage = await catalog.EnqueueAsync(Request("db", coalesce: true), At(3));
        var notCoalescing = await catalog.EnqueueAsync(Request("web"), At(4));

        // Assert
        joined.Joined.ShouldBeTrue();
        joined.Build.ShouldBe(queued.Build);
        otherTarget.Joined.ShouldBeFalse();
        otherImage.Joined.ShouldBeFalse();
        notCoalescing.Joined.ShouldBeFalse();
        (await catalog.ListQueuedAsync()).Select(b => b.Id).ShouldBe(["1", "2", "3", "4"]);
    }

    [Fact]
    public async Task A_coalescing_request_does_not_join_a_build_that_is_already_running()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var first = await catalog.EnqueueAsync(Request("web"), At(0));
        await catalog.ClaimNextAsync(NoLimits, Claim(7), At(1));

        // Act
        var second = await catalog.EnqueueAsync(Request("web", coalesce: true), At(2));

        // Assert
        second.Joined.ShouldBeFalse();
        second.Build.Id.ShouldNotBe(first.Build.Id);
        second.Build.Status.ShouldBe(BuildStatus.Queued);
    }

    [Fact]
    public async Task Claiming_takes_the_oldest_queued_build_and_marks_it_running_for_its_owner()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var oldest = await catalog.EnqueueAsync(Request("web"), At(0));
        await catalog.EnqueueAsync(Request("db", "aws"), At(1));

        // Act
        var before = TimeProvider.System.GetUtcNow();
        var claimed = await catalog.ClaimNextAsync(NoLimits, Claim(4242), At(5));

        // Assert: under the worker's lease, whose expiry the database's clock set (an hour from its now).
        claimed.ShouldBe(
            oldest.Build with
            {
                Status = BuildStatus.Running,
                OwnerPid = 4242,
                OwnerHost = HostIdentity.Current,
                StartedAt = At(5),
                LeaseWorker = "spec-worker-4242",
                LeaseEpoch = 1,
                Attempts = 1,
                LeaseExpiresAt = claimed!.LeaseExpiresAt,
            }
        );
        claimed.LeaseExpiresAt!.Value.ShouldBeInRange(
            before.AddHours(1).AddSeconds(-1),
            TimeProvider.System.GetUtcNow().AddHours(1).AddSeconds(1)
        );
        (await catalog.GetBuildAsync(oldest.Build.Id)).ShouldBe(claimed);
        (await catalog.ListRunningBuildsAsync()).ShouldBe([claimed!]);
        (await catalog.ListQueuedAsync()).Select(b => b.Image).ShouldBe(["db"]);
    }

    [Fact]
    public async Task Claiming_respects_each_target_limit_counting_every_running_build_and_defaults_to_one()
    {
        // Arrange: one aws build already runs outside the queue (a CLI build on the same catalog).
        var catalog = await _data.OpenAsync();
        var limits = new Dictionary<string, int> { ["local"] = 1, ["aws"] = 2 };
        await catalog.StartBuildAsync(Builds.For("cli", "aws"), ownerPid: 1);
        var local1 = await catalog.EnqueueAsync(Request("l1", "local"), At(0));
        var local2 = await catalog.EnqueueAsync(Request("l2", "local"), At(1));
        var aws1 = await catalog.EnqueueAsync(Request("a1", "aws"), At(2));
        await catalog.EnqueueAsync(Request("a2", "aws"), At(3));
        var gcp1 = await catalog.EnqueueAsync(Request("g1", "gcp"), At(4));
        await catalog.EnqueueAsync(Request("g2", "gcp"), At(5));

        // Act
        var claims = new List<BuildRecord?>();
        for (var i = 0; i < 4; i++)
        {
            claims.Add(await catalog.ClaimNextAsync(limits, Claim(9), At(10)));
        }

        await catalog.EndBuildAsync(local1.Build.Id, BuildStatus.Failed, "boom", At(11));
        var afterLocalEnded = await catalog.ClaimNextAsync(limits, Claim(9), At(12));

        // Assert: l1 (local free), a1 (aws had 1 of 2), g1 (gcp not listed: 1), then nothing fits.
        claims.Select(c => c?.Id).ShouldBe([local1.Build.Id, aws1.Build.Id, gcp1.Build.Id, null]);
        afterLocalEnded!.Id.ShouldBe(local2.Build.Id);
        (await catalog.ListQueuedAsync()).Select(b => b.Image).ShouldBe(["a2", "g2"]);
    }

    [Fact]
    public async Task A_multi_cloud_build_counts_against_the_limit_of_the_target_that_builds_its_disk()
    {
        // Arrange: a disk imported into three clouds runs; the local limit is 2.
        var catalog = await _data.OpenAsync();
        var limits = new Dictionary<string, int> { ["local"] = 2 };
        await catalog.StartBuildAsync(Builds.For("mc", "local,aws,azure,gcp"), ownerPid: 1);
        var second = await catalog.EnqueueAsync(Request("mc2", "local,aws"), At(0));
        await catalog.EnqueueAsync(Request("plain", "local"), At(1));

        // Act
        var first = await catalog.ClaimNextAsync(limits, Claim(9), At(2));
        var third = await catalog.ClaimNextAsync(limits, Claim(9), At(3));

        // Assert: mc and mc2 fill local's two slots; the plain local build waits.
        first!.Id.ShouldBe(second.Build.Id);
        first.Target.ShouldBe("local,aws");
        third.ShouldBeNull();
        (await catalog.ListQueuedAsync()).Select(b => b.Image).ShouldBe(["plain"]);
    }

    [Fact]
    public async Task A_target_with_limit_zero_never_starts_and_does_not_hold_up_other_targets()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.EnqueueAsync(Request("web", "aws"), At(0));
        var local = await catalog.EnqueueAsync(Request("web", "local"), At(1));

        // Act
        var claimed = await catalog.ClaimNextAsync(
            new Dictionary<string, int> { ["aws"] = 0 },
            Claim(3),
            At(2)
        );
        var next = await catalog.ClaimNextAsync(
            new Dictionary<string, int> { ["aws"] = 0 },
            Claim(3),
            At(2)
        );

        // Assert
        claimed!.Id.ShouldBe(local.Build.Id);
        next.ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_claimers_on_separate_catalogs_never_claim_the_same_build()
    {
        // Arrange
        var catalogs = await OpenManyAsync(2);
        var queued = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var target = (i % 3) switch
            {
                0 => "local",
                1 => "aws",
                _ => "gcp",
            };
            queued.Add(
                (await catalogs[0].EnqueueAsync(Request($"img{i}", target), At(i))).Build.Id
            );
        }

        var limits = new Dictionary<string, int>
        {
            ["local"] = 100,
            ["aws"] = 100,
            ["gcp"] = 100,
        };

        // Act: each claims until nothing is left.
        var claimed = await RaceAsync(
            catalogs.Select(
                (c, n) =>
                    (Func<Task<List<string>>>)(
                        async () =>
                        {
                            var mine = new List<string>();
                            while (await c.ClaimNextAsync(limits, Claim(100 + n), At(90)) is { } b)
                            {
                                mine.Add(b.Id);
                            }

                            return mine;
                        }
                    )
            )
        );

        // Assert
        var all = claimed.SelectMany(c => c).ToList();
        all.Count.ShouldBe(queued.Count);
        all.Order().ShouldBe(queued.Order());
        (await catalogs[0].ListQueuedAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_claimers_racing_round_after_round_for_one_slot_start_exactly_one_build_each_round()
    {
        // Arrange
        var catalogs = await OpenManyAsync(2);
        var limits = new Dictionary<string, int> { ["local"] = 1 };
        var started = new List<string>();

        for (var round = 0; round < 25; round++)
        {
            await catalogs[0].EnqueueAsync(Request($"a{round}"), At(round));
            await catalogs[1].EnqueueAsync(Request($"b{round}"), At(round));

            // Act
            var claims = await RaceAsync(
                catalogs.Select(
                    (c, n) =>
                        (Func<Task<BuildRecord?>>)(
                            () => c.ClaimNextAsync(limits, Claim(100 + n), At(round))
                        )
                )
            );

            // Assert
            claims.Count(c => c is not null).ShouldBe(1);
            var winner = claims.Single(c => c is not null)!;
            started.Add(winner.Id);
            await catalogs[0].EndBuildAsync(winner.Id, BuildStatus.Failed, "round over", At(round));
        }

        started.Distinct().Count().ShouldBe(started.Count);
    }

    [Fact]
    public async Task Cancelling_a_queued_build_ends_it_cancelled_and_it_never_runs()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var running = await catalog.EnqueueAsync(Request("db"), At(0));
        await catalog.ClaimNextAsync(NoLimits, Claim(5), At(1));
        var queued = await catalog.EnqueueAsync(Request("web", "aws"), At(2));

        // Act
        var cancelled = await catalog.CancelQueuedAsync(queued.Build.Id, "not needed", At(3));
        var again = await catalog.CancelQueuedAsync(queued.Build.Id, "twice", At(4));
        var runningOne = await catalog.CancelQueuedAsync(running.Build.Id, "too late", At(4));

        // Assert
        cancelled.ShouldBeTrue();
        again.ShouldBeFalse();
        runningOne.ShouldBeFalse();
        (await catalog.CancelQueuedAsync("999", "none", At(4))).ShouldBeFalse();
        (await catalog.CancelQueuedAsync("nope", "none", At(4))).ShouldBeFalse();
        (await catalog.GetBuildAsync(queued.Build.Id)).ShouldBe(
            queued.Build with
            {
                Status = BuildStatus.Cancelled,
                Message = "not needed",
                EndedAt = At(3),
            }
        );
        (await catalog.GetBuildAsync(running.Build.Id))!.Status.ShouldBe(BuildStatus.Running);
        (await catalog.ClaimNextAsync(NoLimits, Claim(5), At(5))).ShouldBeNull();
        (await catalog.ListQueuedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_skipped_scheduled_build_is_recorded_as_ended_with_its_reason_and_never_runs()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = new NewBuild(
            "web",
            "local",
            BuildTrigger.Schedule,
            "schedule",
            null,
            "sha256:same"
        );

        // Act
        var skipped = await catalog.RecordSkippedAsync(
            build,
            "inputs unchanged since build 12",
            At(0)
        );

        // Assert
        skipped.ShouldBe(
            new BuildRecord
            {
                Id = skipped.Id,
                Image = "web",
                Target = "local",
                Trigger = BuildTrigger.Schedule,
                Requester = "schedule",
                Fingerprint = "sha256:same",
                StartedAt = At(0),
                EndedAt = At(0),
                Status = BuildStatus.Skipped,
                Message = "inputs unchanged since build 12",
            }
        );
        (await catalog.ListBuildsAsync("web")).ShouldBe([skipped]);
        (await catalog.ListQueuedAsync()).ShouldBeEmpty();
        (await catalog.ListRunningBuildsAsync()).ShouldBeEmpty();
        (await catalog.ClaimNextAsync(NoLimits, Claim(5), At(1))).ShouldBeNull();
    }

    [Fact]
    public async Task The_last_succeeded_build_is_the_newest_success_of_that_image_on_that_target()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", At(0));
        var newest = await catalog.BuildVersionAsync("web", At(10));
        var failed = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 3);
        await catalog.EndBuildAsync(failed.Id, BuildStatus.Failed, "boom", At(20));
        await catalog.RecordSkippedAsync(Builds.For("web"), "unchanged", At(30));
        var aws = await catalog.StartBuildAsync(Builds.For("web", "aws"), ownerPid: 3);
        await catalog.CompleteBuildAsync(aws.Id, [], [], VersionStatus.Built, At(40));

        // Act
        var last = await catalog.LastSucceededAsync("web", "local");

        // Assert
        last!.Id.ShouldBe(newest.BuildId);
        last.Status.ShouldBe(BuildStatus.Succeeded);
        (await catalog.LastSucceededAsync("web", "aws"))!.Id.ShouldBe(aws.Id);
        (await catalog.LastSucceededAsync("web", "gcp")).ShouldBeNull();
        (await catalog.LastSucceededAsync("db", "local")).ShouldBeNull();
    }

    [Fact]
    public async Task A_schedule_instant_is_recorded_once_per_image_and_target_and_the_newest_is_last()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.EnqueueAsync(Request("web"), At(0));
        var firing = new ScheduleFiring("web", "local", At(0), At(1), "queued", build.Build.Id, "");

        // Act
        var first = await catalog.TryRecordFiringAsync(firing);
        var again = await catalog.TryRecordFiringAsync(
            firing with
            {
                Outcome = "misfired",
                BuildId = null,
                Reason = "late",
            }
        );
        var otherTarget = await catalog.TryRecordFiringAsync(firing with { Target = "aws" });
        var earlier = firing with { ScheduledFor = At(-60), Outcome = "skipped", BuildId = null };
        var recordedEarlier = await catalog.TryRecordFiringAsync(earlier);

        // Assert
        first.ShouldBeTrue();
        again.ShouldBeFalse();
        otherTarget.ShouldBeTrue();
        recordedEarlier.ShouldBeTrue();
        (await catalog.LastFiringAsync("web", "local")).ShouldBe(firing);
        (await catalog.LastFiringAsync("db", "local")).ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task One_instant_fired_at_once_by_separate_catalogs_is_recorded_exactly_once()
    {
        // Arrange
        var catalogs = await OpenManyAsync(10);
        var firing = new ScheduleFiring("web", "local", At(0), At(0), "misfired", null, "late");

        // Act
        var recorded = await RaceAsync(
            catalogs.Select(c => (Func<Task<bool>>)(() => c.TryRecordFiringAsync(firing)))
        );

        // Assert
        recorded.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task A_new_advisory_set_queues_one_cve_build_and_the_same_set_queues_nothing_again()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var patch = new NewBuild(
            "web",
            "local",
            BuildTrigger.Cve,
            "cve-rescan",
            "CVE-1, DSA-2",
            "sha256:x"
        );

        // Act
        var first = await catalog.EnqueueOnceAsync(patch, ["CVE-1", "DSA-2"], At(0));
        var sameSet = await catalog.EnqueueOnceAsync(patch, ["DSA-2", "CVE-1", "CVE-1"], At(1));
        var grown = await catalog.EnqueueOnceAsync(patch, ["CVE-1", "CVE-3", "DSA-2"], At(2));
        var otherTarget = await catalog.EnqueueOnceAsync(
            patch with
            {
                Target = "aws",
            },
            ["CVE-1", "DSA-2"],
            At(3)
        );

        // Assert
        first.ShouldNotBeNull();
        first.Status.ShouldBe(BuildStatus.Queued);
        first.Trigger.ShouldBe(BuildTrigger.Cve);
        first.Reason.ShouldBe("CVE-1, DSA-2");
        sameSet.ShouldBeNull();
        grown.ShouldNotBeNull();
        otherTarget.ShouldNotBeNull();
        (await catalog.ListQueuedAsync())
            .Select(b => b.Id)
            .ShouldBe([first.Id, grown.Id, otherTarget.Id]);
    }

    [Fact]
    public async Task A_cve_build_and_its_advisory_set_are_written_together_or_not_at_all()
    {
        // Arrange: the set's row cannot be written.
        var catalog = await _data.OpenAsync();
        await _data.RefuseInsertsAsync("cve_rebuilds");

        var patch = Builds.For("web") with { Trigger = BuildTrigger.Cve };

        // Act
        await Should.ThrowAsync<CatalogException>(() =>
            catalog.EnqueueOnceAsync(patch, ["CVE-1"], At(0))
        );

        // Assert: no build without its set; once the set can be written, the same set queues.
        (await catalog.ListBuildsAsync()).ShouldBeEmpty();
        await _data.AllowInsertsAsync("cve_rebuilds");

        (await catalog.EnqueueOnceAsync(patch, ["CVE-1"], At(1))).ShouldNotBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task Scans_reporting_one_advisory_set_at_once_from_separate_catalogs_queue_exactly_one_build()
    {
        // Arrange
        var catalogs = await OpenManyAsync(10);
        var patch = Builds.For("web") with { Trigger = BuildTrigger.Cve };

        // Act
        var queued = await RaceAsync(
            catalogs.Select(c =>
                (Func<Task<BuildRecord?>>)(() => c.EnqueueOnceAsync(patch, ["CVE-9"], At(0)))
            )
        );

        // Assert
        queued.Count(b => b is not null).ShouldBe(1);
        (await catalogs[0].ListQueuedAsync()).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_token_is_stored_only_by_its_hash_and_is_found_until_it_is_revoked()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var hash = new string('a', 63) + "1";
        var other = new string('b', 64);

        // Act
        var created = await catalog.CreateTokenAsync("ci-bot", "builder", hash, At(0));
        var second = await catalog.CreateTokenAsync("alice", "admin", other, At(1));
        var found = await catalog.FindActiveTokenAsync(hash);
        var revoked = await catalog.RevokeTokenAsync(created.Id, At(2));
        var revokedAgain = await catalog.RevokeTokenAsync(created.Id, At(3));

        // Assert
        created.ShouldBe(new ApiToken(created.Id, "ci-bot", "builder", At(0), null));
        found.ShouldBe(created);
        revoked.ShouldBeTrue();
        revokedAgain.ShouldBeFalse();
        (await catalog.RevokeTokenAsync("404", At(3))).ShouldBeFalse();
        (await catalog.FindActiveTokenAsync(hash)).ShouldBeNull();
        (await catalog.FindActiveTokenAsync(other)).ShouldBe(second);
        (await catalog.FindActiveTokenAsync(new string('c', 64))).ShouldBeNull();
        (await catalog.ListTokensAsync()).ShouldBe([created with { RevokedAt = At(2) }, second]);
        await using var db = await _data.RawAsync();
        (
            await Raw.ScalarAsync<string>(
                db,
                "SELECT secret_sha256 FROM api_tokens WHERE actor = 'ci-bot'"
            )
        ).ShouldBe(hash);
    }

    [Theory]
    [InlineData("builder", "not-a-hash-but-the-secret-itself")]
    [InlineData("builder", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("root", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_token_whose_secret_is_not_a_sha256_or_whose_role_is_unknown_is_refused(
        string role,
        string secretSha256
    )
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        await Should.ThrowAsync<ArgumentException>(() =>
            catalog.CreateTokenAsync("ci-bot", role, secretSha256, At(0))
        );

        // Assert
        (await catalog.ListTokensAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_event_gets_one_pending_delivery_per_url_due_at_once_and_adding_it_again_adds_nothing()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        string[] urls =
        [
            "https://a.example/hook",
            "https://b.example/hook",
            "https://a.example/hook",
        ];

        // Act
        var added = await catalog.AddAsync(
            "ev-1",
            "build.finished",
            """{"id":"ev-1"}""",
            urls,
            At(0)
        );
        var again = await catalog.AddAsync(
            "ev-1",
            "build.finished",
            """{"id":"ev-1"}""",
            urls,
            At(5)
        );

        // Assert
        added.Select(d => d.Url).ShouldBe(["https://a.example/hook", "https://b.example/hook"]);
        added.ShouldAllBe(d =>
            d.State == "pending"
            && d.Attempts == 0
            && d.EventId == "ev-1"
            && d.EventType == "build.finished"
            && d.Payload == """{"id":"ev-1"}"""
            && d.CreatedAt == At(0)
            && d.NextAttemptAt == At(0)
            && d.DeliveredAt == null
            && d.LastStatusCode == null
            && d.LastError == null
        );
        again.ShouldBe(added);
        (await catalog.ListAsync(100)).Count.ShouldBe(2);
        (await catalog.DueAsync(At(0), 10)).Select(d => d.Id).ShouldBe(added.Select(d => d.Id));
    }

    [Fact]
    public async Task Only_pending_deliveries_that_are_due_are_returned_oldest_first_up_to_the_limit()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var d = new List<WebhookDelivery>();
        for (var i = 0; i < 5; i++)
        {
            d.Add(
                (await catalog.AddAsync($"ev-{i}", "promoted", "{}", ["https://h.example"], At(i)))[
                    0
                ]
            );
        }

        var claims = await ClaimAllAsync(catalog, At(10));
        await catalog.RecordAttemptAsync(claims[d[0].Id], true, 204, null, At(10), null);
        await catalog.RecordAttemptAsync(claims[d[1].Id], false, 500, "HTTP 500", At(10), At(30));
        await catalog.RecordAttemptAsync(claims[d[2].Id], false, null, "refused", At(10), null);

        // Act
        var dueNow = await catalog.DueAsync(At(10), 10);
        var dueLater = await catalog.DueAsync(At(30), 10);
        var limited = await catalog.DueAsync(At(30), 2);
        var notYet = await catalog.DueAsync(At(3).AddMilliseconds(-1), 10);

        // Assert
        dueNow.Select(x => x.Id).ShouldBe([d[3].Id, d[4].Id]);
        dueLater.Select(x => x.Id).ShouldBe([d[1].Id, d[3].Id, d[4].Id]);
        limited.Select(x => x.Id).ShouldBe([d[1].Id, d[3].Id]);
        notYet.ShouldBeEmpty();
    }

    [Fact]
    public async Task Each_attempt_is_counted_and_leaves_the_delivery_pending_delivered_or_failed()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var added = await catalog.AddAsync(
            "ev-1",
            "revoked",
            "{}",
            ["https://ok.example", "https://down.example"],
            At(0)
        );
        var ok = added[0].Id;
        var down = added[1].Id;

        // Act
        var first = await ClaimAllAsync(catalog, At(1));
        await catalog.RecordAttemptAsync(first[ok], false, 503, "HTTP 503", At(1), At(2));
        await catalog.RecordAttemptAsync(
            first[down],
            false,
            null,
            "connection refused",
            At(1),
            At(2)
        );
        var second = await ClaimAllAsync(catalog, At(2));
        await catalog.RecordAttemptAsync(second[ok], true, 200, null, At(2), null);
        await catalog.RecordAttemptAsync(second[down], false, null, "timed out", At(2), null);

        // Assert
        var log = (await catalog.ListAsync(10)).ToDictionary(x => x.Id);
        log[ok]
            .History.ShouldBe([
                new WebhookAttempt(1, At(1), 503, "HTTP 503"),
                new WebhookAttempt(2, At(2), 200, null),
            ]);
        log[down]
            .History.ShouldBe([
                new WebhookAttempt(1, At(1), null, "connection refused"),
                new WebhookAttempt(2, At(2), null, "timed out"),
            ]);
        log[ok]
            .ShouldBe(
                added[0] with
                {
                    History = log[ok].History,
                    State = "delivered",
                    Attempts = 2,
                    LastStatusCode = 200,
                    LastError = null,
                    NextAttemptAt = null,
                    DeliveredAt = At(2),
                    ClaimedBy = "spec-dispatcher",
                }
            );
        log[down]
            .ShouldBe(
                added[1] with
                {
                    History = log[down].History,
                    State = "failed",
                    Attempts = 2,
                    LastStatusCode = null,
                    LastError = "timed out",
                    NextAttemptAt = null,
                    ClaimedBy = "spec-dispatcher",
                }
            );
        await Should.ThrowAsync<CatalogException>(() =>
            catalog.RecordAttemptAsync(second[ok], false, 500, "again", At(3), At(4))
        );
        await Should.ThrowAsync<CatalogException>(() =>
            catalog.RecordAttemptAsync(new WebhookClaim("999", 1), true, 200, null, At(3), null)
        );
        await Should.ThrowAsync<ArgumentException>(() =>
            catalog.RecordAttemptAsync(second[down], true, 200, null, At(3), At(4))
        );
        (await catalog.ListAsync(10)).Single(x => x.Id == ok).Attempts.ShouldBe(2);
    }

    [Fact]
    public async Task The_delivery_log_lists_newest_first_up_to_the_limit()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.AddAsync("ev-1", "promoted", "{}", ["https://h.example"], At(0));
        await catalog.AddAsync("ev-2", "promoted", "{}", ["https://h.example"], At(1));
        await catalog.AddAsync("ev-3", "promoted", "{}", ["https://h.example"], At(2));

        // Act
        var log = await catalog.ListAsync(2);

        // Assert
        log.Select(x => x.EventId).ShouldBe(["ev-3", "ev-2"]);
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class WorkerStoreSpecsOnSqlite() : WorkerStoreSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class WorkerStoreSpecsOnPostgres() : WorkerStoreSpecs(CatalogBackend.Postgres);
