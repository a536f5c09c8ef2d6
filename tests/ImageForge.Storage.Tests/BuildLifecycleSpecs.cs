using ImageForge.Core.Builds;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class BuildLifecycleSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Finished = new(2025, 3, 4, 11, 0, 0, 789, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Starting_a_build_records_it_running_under_the_next_number_at_the_clock_time()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var first = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 100);
        var second = await catalog.StartBuildAsync(Builds.For("db"), ownerPid: 200);

        // Assert
        first.Id.ShouldBe("1");
        second.Id.ShouldBe("2");
        first.ShouldBe(
            new BuildRecord
            {
                Id = "1",
                Image = "web",
                Target = "local",
                Trigger = BuildTrigger.Manual,
                Requester = "alice",
                Reason = "testing",
                Fingerprint = "sha256:web",
                StartedAt = _data.Time.GetUtcNow(),
                Status = BuildStatus.Running,
                OwnerPid = 100,
                OwnerHost = HostIdentity.Current,
            }
        );
        (await catalog.GetBuildAsync("1")).ShouldBe(first);
    }

    [Fact]
    public async Task A_build_keeps_every_field_from_start_through_logs_to_a_version_with_artifacts()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var started = await catalog.StartBuildAsync(
            new NewBuild("web", "aws", BuildTrigger.BaseUpdate, "bob", null, "sha256:f00d"),
            ownerPid: 4242
        );
        await catalog.SetToolProcessGroupAsync(started.Id, 777);
        var running = await catalog.GetBuildAsync(started.Id);
        await catalog.AppendLogAsync(
            started.Id,
            [
                (_data.Time.GetUtcNow(), "stdout", "==> amazon-ebs: Creating temporary keypair"),
                (
                    _data.Time.GetUtcNow().AddMilliseconds(5),
                    "stderr",
                    "warning: ünïcödé and 'quotes'"
                ),
            ]
        );
        await catalog.AppendLogAsync(
            started.Id,
            [(_data.Time.GetUtcNow().AddSeconds(1), "step", "build | done")]
        );
        Artifact[] artifacts =
        [
            new()
            {
                Target = "aws",
                Region = "eu-west-1",
                Kind = "ami",
                Location = "ami-0123456789abcdef0",
            },
            new()
            {
                Target = "aws",
                Region = "us-east-1",
                Kind = "ami",
                Location = "ami-0fedcba9876543210",
            },
            new()
            {
                Target = "aws",
                Region = "eu-west-1",
                Kind = "package-inventory",
                Location = "/data/artifacts/web/1/packages.json",
                Sha256 = new string('e', 64),
                SizeBytes = 5_000_000_000,
            },
        ];

        // Act
        var version = await catalog.CompleteBuildAsync(
            started.Id,
            artifacts,
            [],
            VersionStatus.Built,
            Finished
        );

        // Assert
        running.ShouldBe(started with { ToolProcessGroup = 777 });
        var expected = new ImageVersion
        {
            Image = "web",
            Version = "2025.03.04.1",
            BuildId = started.Id,
            CreatedAt = Finished,
            Status = VersionStatus.Built,
            Fingerprint = "sha256:f00d",
            Artifacts = artifacts,
        };
        version.ShouldBeVersion(expected);
        (await catalog.GetVersionAsync("web", "2025.03.04.1")).ShouldBeVersion(expected);
        (await catalog.ListVersionsAsync("web")).Single().ShouldBeVersion(expected);
        (await catalog.GetBuildAsync(started.Id)).ShouldBe(
            started with
            {
                Status = BuildStatus.Succeeded,
                EndedAt = Finished,
                Version = "2025.03.04.1",
                OwnerPid = null,
                OwnerHost = null,
                ToolProcessGroup = null,
            }
        );
        (await catalog.ReadLogAsync(started.Id)).ShouldBe([
            new LogLine(
                1,
                _data.Time.GetUtcNow(),
                "stdout",
                "==> amazon-ebs: Creating temporary keypair"
            ),
            new LogLine(
                2,
                _data.Time.GetUtcNow().AddMilliseconds(5),
                "stderr",
                "warning: ünïcödé and 'quotes'"
            ),
            new LogLine(3, _data.Time.GetUtcNow().AddSeconds(1), "step", "build | done"),
        ]);
    }

    [Fact]
    public async Task Times_are_stored_as_UTC_ISO_8601_text_to_the_millisecond_and_read_back_at_offset_zero()
    {
        // Arrange
        var local = new DateTimeOffset(2025, 3, 4, 1, 30, 0, 123, TimeSpan.FromHours(2)).AddTicks(
            4567
        );
        var catalog = await _data.OpenAsync(new ManualTimeProvider(local));

        // Act
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var read = await catalog.GetBuildAsync(build.Id);

        // Assert
        await using var db = await _data.RawAsync();
        (await Raw.ScalarAsync<string>(db, "SELECT started_at FROM builds")).ShouldBe(
            "2025-03-03T23:30:00.123Z"
        );
        read!.StartedAt.ShouldBe(new DateTimeOffset(2025, 3, 3, 23, 30, 0, 123, TimeSpan.Zero));
        read.StartedAt.Offset.ShouldBe(TimeSpan.Zero);
        build.StartedAt.ShouldBe(read.StartedAt);
    }

    [Fact]
    public async Task Enumerations_are_stored_as_lower_case_words()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(
            Builds.For("web") with
            {
                Trigger = BuildTrigger.BaseUpdate,
            },
            ownerPid: 1
        );

        // Act
        await catalog.EndBuildAsync(build.Id, BuildStatus.Interrupted, "owner died", Finished);

        // Assert
        await using var db = await _data.RawAsync();
        (
            await Raw.ScalarAsync<string>(db, "SELECT \"trigger\" || ' ' || status FROM builds")
        ).ShouldBe("base-update interrupted");
    }

    [Fact]
    public async Task Log_sequence_numbers_continue_across_batches_and_count_per_build()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var web = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var db = await catalog.StartBuildAsync(Builds.For("db"), ownerPid: 1);
        var now = _data.Time.GetUtcNow();

        // Act
        await catalog.AppendLogAsync(web.Id, [(now, "stdout", "w1"), (now, "stdout", "w2")]);
        await catalog.AppendLogAsync(db.Id, [(now, "stdout", "d1")]);
        await catalog.AppendLogAsync(web.Id, []);
        await catalog.AppendLogAsync(
            web.Id,
            [(now, "stdout", "w3"), (now, "stderr", "w4"), (now, "stdout", "w5")]
        );

        // Assert
        (await catalog.ReadLogAsync(web.Id))
            .Select(l => (l.Sequence, l.Text))
            .ShouldBe([(1L, "w1"), (2, "w2"), (3, "w3"), (4, "w4"), (5, "w5")]);
        (await catalog.ReadLogAsync(db.Id))
            .Select(l => (l.Sequence, l.Text))
            .ShouldBe([(1L, "d1")]);
        (await catalog.ReadLogAsync(web.Id, afterSequence: 2, limit: 2))
            .Select(l => l.Text)
            .ShouldBe(["w3", "w4"]);
        (await catalog.ReadLogAsync(web.Id, afterSequence: 5)).ShouldBeEmpty();
        (await catalog.ReadLogAsync("999")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Appending_log_lines_to_a_build_that_does_not_exist_is_refused()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var refused = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.AppendLogAsync("41", [(_data.Time.GetUtcNow(), "stdout", "lost")])
        );

        // Assert
        refused.Status.ShouldBeNull();
        refused.Message.ShouldContain("no such build");
    }

    [Theory]
    [InlineData(BuildStatus.Failed, "packer exited with code 1")]
    [InlineData(BuildStatus.Cancelled, "cancelled on request (builds cancel)")]
    [InlineData(BuildStatus.Interrupted, "its imageforge process ended while it ran")]
    public async Task A_build_that_ends_without_success_records_why_and_no_version(
        BuildStatus status,
        string message
    )
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.SetToolProcessGroupAsync(build.Id, 55);

        // Act
        await catalog.EndBuildAsync(build.Id, status, message, Finished);

        // Assert
        (await catalog.GetBuildAsync(build.Id)).ShouldBe(
            build with
            {
                Status = status,
                Message = message,
                EndedAt = Finished,
                OwnerPid = null,
                OwnerHost = null,
            }
        );
        (await catalog.ListVersionsAsync("web")).ShouldBeEmpty();
        (await catalog.ListImagesAsync()).ShouldBe([new ImageSummary("web", 0, null, null)]);
    }

    [Fact]
    public async Task Completing_a_build_that_has_already_ended_is_refused_and_records_nothing()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var failed = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.EndBuildAsync(failed.Id, BuildStatus.Failed, "boom", Finished);

        // Act
        var refused = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.CompleteBuildAsync(
                failed.Id,
                [Builds.Tarball("web")],
                [],
                VersionStatus.Built,
                Finished
            )
        );

        // Assert
        refused.BuildId.ShouldBe(failed.Id);
        refused.Status.ShouldBe(BuildStatus.Failed);
        refused.Message.ShouldContain("it is failed, not running");
        refused.ExitCode.ShouldBe(3);
        (await catalog.ListVersionsAsync("web")).ShouldBeEmpty();
        (await catalog.GetBuildAsync(failed.Id))!.Status.ShouldBe(BuildStatus.Failed);
    }

    [Fact]
    public async Task Completing_a_build_twice_is_refused_and_keeps_the_first_version()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.CompleteBuildAsync(
            build.Id,
            [Builds.Tarball("web")],
            [],
            VersionStatus.Built,
            Finished
        );

        // Act
        var refused = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.CompleteBuildAsync(
                build.Id,
                [Builds.Tarball("web")],
                [],
                VersionStatus.Built,
                Finished
            )
        );

        // Assert
        refused.Status.ShouldBe(BuildStatus.Succeeded);
        (await catalog.ListVersionsAsync("web")).Select(v => v.Version).ShouldBe(["2025.03.04.1"]);
        (await catalog.ListImagesAsync()).ShouldBe([
            new ImageSummary("web", 1, "2025.03.04.1", Finished),
        ]);
    }

    [Fact]
    public async Task Ending_a_build_that_has_already_ended_is_refused_and_keeps_the_first_ending()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.EndBuildAsync(
            build.Id,
            BuildStatus.Cancelled,
            "cancelled by the user",
            Finished
        );

        // Act
        var refused = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.EndBuildAsync(
                build.Id,
                BuildStatus.Interrupted,
                "owner died",
                Finished.AddMinutes(1)
            )
        );

        // Assert
        refused.Status.ShouldBe(BuildStatus.Cancelled);
        var stored = await catalog.GetBuildAsync(build.Id);
        stored!.Status.ShouldBe(BuildStatus.Cancelled);
        stored.Message.ShouldBe("cancelled by the user");
        stored.EndedAt.ShouldBe(Finished);
    }

    [Theory]
    [InlineData("999")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("")]
    public async Task Changing_a_build_that_does_not_exist_is_refused_and_reading_it_finds_nothing(
        string id
    )
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var complete = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.CompleteBuildAsync(id, [], [], VersionStatus.Built, Finished)
        );
        var end = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.EndBuildAsync(id, BuildStatus.Failed, "x", Finished)
        );
        var tool = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.SetToolProcessGroupAsync(id, 5)
        );

        // Assert
        new[] { complete, end, tool }.ShouldAllBe(e => e.Status == null && e.BuildId == id);
        (await catalog.GetBuildAsync(id)).ShouldBeNull();
        (await catalog.RequestCancelAsync(id)).ShouldBeFalse();
    }

    [Theory]
    [InlineData(BuildStatus.Succeeded)]
    [InlineData(BuildStatus.Running)]
    [InlineData(BuildStatus.Queued)]
    public async Task Ending_a_build_as_anything_but_a_failure_is_a_programming_error(
        BuildStatus status
    )
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);

        // Act
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() =>
            catalog.EndBuildAsync(build.Id, status, "", Finished)
        );

        // Assert
        (await catalog.GetBuildAsync(build.Id))!.Status.ShouldBe(BuildStatus.Running);
    }

    [Fact]
    public async Task The_tool_process_group_is_recorded_only_while_running_but_may_be_cleared_at_any_time()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.SetToolProcessGroupAsync(build.Id, 321);
        await catalog.SetToolProcessGroupAsync(build.Id, null);
        var cleared = await catalog.GetBuildAsync(build.Id);
        await catalog.EndBuildAsync(build.Id, BuildStatus.Failed, "boom", Finished);

        // Act
        var refused = await Should.ThrowAsync<BuildNotRunningException>(() =>
            catalog.SetToolProcessGroupAsync(build.Id, 322)
        );
        await catalog.SetToolProcessGroupAsync(build.Id, null);

        // Assert
        cleared!.ToolProcessGroup.ShouldBeNull();
        refused.Status.ShouldBe(BuildStatus.Failed);
        (await catalog.GetBuildAsync(build.Id))!.ToolProcessGroup.ShouldBeNull();
    }

    [Fact]
    public async Task A_cancel_request_made_through_one_catalog_is_seen_at_once_through_another()
    {
        // Arrange
        var owner = await _data.OpenAsync();
        var otherShell = await _data.OpenAsync();
        var build = await owner.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var before = await owner.GetBuildAsync(build.Id);

        // Act
        var accepted = await otherShell.RequestCancelAsync(build.Id);

        // Assert
        before!.CancelRequested.ShouldBeFalse();
        accepted.ShouldBeTrue();
        (await owner.GetBuildAsync(build.Id))!.CancelRequested.ShouldBeTrue();
    }

    [Fact]
    public async Task A_cancel_request_for_a_build_that_has_ended_is_declined_and_not_recorded()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.BuildVersionAsync("web", Finished);

        // Act
        var accepted = await catalog.RequestCancelAsync(build.BuildId);

        // Assert
        accepted.ShouldBeFalse();
        (await catalog.GetBuildAsync(build.BuildId))!.CancelRequested.ShouldBeFalse();
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class BuildLifecycleSpecsOnSqlite() : BuildLifecycleSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class BuildLifecycleSpecsOnPostgres() : BuildLifecycleSpecs(CatalogBackend.Postgres);
