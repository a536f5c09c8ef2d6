using System.Diagnostics;
using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public sealed class LockingSpecs : IDisposable
{
    private readonly TempDataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact(Timeout = 30_000)]
    public async Task A_write_waits_for_another_process_to_finish_its_write()
    {
        // Arrange
        var catalog = await _data.OpenAsync(busyTimeout: TimeSpan.FromSeconds(10));
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await using var other = await Raw.OpenAsync(_data.DatabasePath);
        await Raw.ExecuteAsync(other, "BEGIN IMMEDIATE");

        // Act
        var cancel = Task.Run(() => catalog.RequestCancelAsync(build.Id));
        await Task.Delay(300);
        var waited = !cancel.IsCompleted;
        await Raw.ExecuteAsync(other, "COMMIT");
        var accepted = await cancel;

        // Assert
        waited.ShouldBeTrue();
        accepted.ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_write_kept_waiting_past_the_busy_timeout_fails_with_a_message_naming_the_catalog()
    {
        // Arrange
        var catalog = await _data.OpenAsync(busyTimeout: TimeSpan.FromMilliseconds(200));
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await using var other = await Raw.OpenAsync(_data.DatabasePath);
        await Raw.ExecuteAsync(other, "BEGIN IMMEDIATE");

        // Act
        var refused = await Should.ThrowAsync<CatalogException>(() =>
            catalog.EndBuildAsync(build.Id, BuildStatus.Failed, "boom", _data.Time.GetUtcNow())
        );

        // Assert
        refused.Message.ShouldContain("stayed locked by another process");
        refused.Message.ShouldContain(_data.DatabasePath);
        await Raw.ExecuteAsync(other, "ROLLBACK");
        (await catalog.GetBuildAsync(build.Id))!.Status.ShouldBe(BuildStatus.Running);
    }

    [Fact(Timeout = 30_000)]
    public async Task Readers_are_not_held_up_by_a_write_in_progress_and_see_only_committed_data()
    {
        // Arrange
        var catalog = await _data.OpenAsync(busyTimeout: TimeSpan.FromSeconds(10));
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await using var other = await Raw.OpenAsync(_data.DatabasePath);
        await Raw.ExecuteAsync(other, "BEGIN IMMEDIATE");
        await Raw.ExecuteAsync(other, "UPDATE builds SET cancel_requested = 1");

        // Act
        var watch = Stopwatch.StartNew();
        var read = await catalog.GetBuildAsync(build.Id);
        var listed = await catalog.ListBuildsAsync();
        watch.Stop();

        // Assert
        read!.CancelRequested.ShouldBeFalse();
        listed.Count.ShouldBe(1);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        await Raw.ExecuteAsync(other, "ROLLBACK");
    }
}
