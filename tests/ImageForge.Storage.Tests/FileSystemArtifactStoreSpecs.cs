using ImageForge.Core.Artifacts;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// The one resolver of artifact and evidence locations (docs/cluster.md): below the shared store relative to it,
/// below the data directory relative to that, anything else as given; a relative location leading outside its root is
/// refused; writes are atomic.
/// </summary>
public sealed class FileSystemArtifactStoreSpecs : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "imageforge-store-specs",
        Guid.NewGuid().ToString("N")
    );

    public FileSystemArtifactStoreSpecs() => Directory.CreateDirectory(_root);

    private string Data => Path.Combine(_root, "data");

    private string Shared => Path.Combine(_root, "shared");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Without_a_store_of_its_own_locations_below_the_data_directory_are_relative_to_it_as_before()
    {
        var store = new FileSystemArtifactStore(Data);
        var disk = Path.Combine(Data, "artifacts", "web", "1", "disk.raw");

        store.Root.ShouldBe(Data);
        store.DirectoryFor("web", "1").ShouldBe(Path.Combine(Data, "artifacts", "web", "1"));
        store.Store(disk).ShouldBe(new("artifacts/web/1/disk.raw", LocationRoot.DataDirectory));
        store.Resolve(new("artifacts/web/1/disk.raw", LocationRoot.DataDirectory)).ShouldBe(disk);
    }

    [Theory]
    [InlineData("/srv/images/outside.raw")]
    [InlineData("ami-0123456789abcdef0")]
    [InlineData("projects/p/global/images/web-1")]
    public void Paths_outside_both_roots_and_provider_ids_are_kept_as_given(string location)
    {
        var store = new FileSystemArtifactStore(Data, Shared);

        store.Store(location).ShouldBe(new(location, LocationRoot.AsGiven));
        store.Resolve(new(location, LocationRoot.AsGiven)).ShouldBe(location);
    }

    [Fact]
    public void With_a_shared_store_its_locations_are_relative_to_it_and_resolve_wherever_another_worker_mounts_it()
    {
        var here = new FileSystemArtifactStore(Data, Shared);
        var sbom = Path.Combine(Shared, "artifacts", "web", "1", "evidence", "sbom.json");

        var stored = here.Store(sbom);

        stored.ShouldBe(new("artifacts/web/1/evidence/sbom.json", LocationRoot.Store));
        here.DirectoryFor("web", "1-attempt2")
            .ShouldBe(Path.Combine(Shared, "artifacts", "web", "1-attempt2"));
        var elsewhere = new FileSystemArtifactStore(
            Path.Combine(_root, "other-data"),
            Path.Combine(_root, "mnt", "imageforge")
        );
        elsewhere
            .Resolve(stored)
            .ShouldBe(
                Path.Combine(_root, "mnt", "imageforge", "artifacts/web/1/evidence/sbom.json")
            );
        // Files a build of this worker left below its data directory (before the store) stay relative to that.
        here.Store(Path.Combine(Data, "artifacts", "web", "0", "disk.raw"))
            .ShouldBe(new("artifacts/web/0/disk.raw", LocationRoot.DataDirectory));
        // A sibling whose name starts like the store is not inside it.
        here.Store(Shared + "-old/disk.raw").Root.ShouldBe(LocationRoot.AsGiven);
    }

    [Theory]
    [InlineData("../data/catalog.db", LocationRoot.Store)]
    [InlineData("artifacts/../../etc/passwd", LocationRoot.Store)]
    [InlineData("/etc/passwd", LocationRoot.Store)]
    [InlineData("../../etc/shadow", LocationRoot.DataDirectory)]
    [InlineData("..", LocationRoot.Store)]
    [InlineData("", LocationRoot.DataDirectory)]
    public void A_stored_location_leading_outside_its_root_is_refused(
        string location,
        LocationRoot root
    )
    {
        var store = new FileSystemArtifactStore(Data, Shared);

        var refused = Should.Throw<ArtifactLocationException>(() =>
            store.Resolve(new(location, root))
        );

        refused.Message.ShouldContain($"'{location}' leads outside");
        refused.Message.ShouldContain(root == LocationRoot.Store ? Shared : Data);
    }

    [Fact]
    public void Deleting_removes_files_of_the_store_only()
    {
        var store = new FileSystemArtifactStore(Data, Shared);
        var disk = Path.Combine(Shared, "artifacts", "web", "1", "disk.raw");
        var foreign = Path.Combine(_root, "elsewhere.raw");
        Directory.CreateDirectory(Path.GetDirectoryName(disk)!);
        File.WriteAllText(disk, "disk");
        File.WriteAllText(foreign, "not ours");

        store.Delete(disk).ShouldBeTrue();
        store.Delete(disk).ShouldBeFalse();
        Should.Throw<ArtifactLocationException>(() => store.Delete(foreign));
        Should.Throw<ArtifactLocationException>(() =>
            store.Delete(Path.Combine(Shared, "..", "elsewhere.raw"))
        );

        File.Exists(disk).ShouldBeFalse();
        File.ReadAllText(foreign).ShouldBe("not ours");
    }

    [Fact]
    public async Task A_write_replaces_the_file_whole_and_leaves_no_partial_file()
    {
        var store = new FileSystemArtifactStore(Data, Shared);
        var path = Path.Combine(Shared, "artifacts", "web", "1", "evidence", "sbom.json");

        await store.WriteAsync(path, "first"u8.ToArray(), CancellationToken.None);
        await store.WriteAsync(path, "second"u8.ToArray(), CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() =>
            store.WriteAsync(path, "third"u8.ToArray(), cancelled.Token)
        );

        File.ReadAllText(path).ShouldBe("second");
        Directory.GetFiles(Path.GetDirectoryName(path)!).ShouldBe([path]);
    }

    [Fact]
    public async Task A_reader_on_the_store_sees_no_file_or_the_whole_file_never_a_part()
    {
        // Another worker polling the shared store while this one writes: with the bytes written in place it reads a
        // short file (the writer is "killed" at any point); written to a temporary name and renamed, it cannot.
        var store = new FileSystemArtifactStore(Data, Shared);
        var bytes = new byte[32 * 1024 * 1024];
        Random.Shared.NextBytes(bytes);
        var seen = new List<long>();
        for (var round = 0; round < 5; round++)
        {
            var path = Path.Combine(Shared, "artifacts", "web", $"{round}", "disk.raw");
            using var done = new CancellationTokenSource();
            var reader = Task.Run(() =>
            {
                while (!done.IsCancellationRequested)
                {
                    if (File.Exists(path))
                    {
                        seen.Add(new FileInfo(path).Length);
                        return;
                    }
                }
            });
            await store.WriteAsync(path, bytes, CancellationToken.None);
            await Task.Delay(50);
            await done.CancelAsync();
            await reader;
        }

        seen.ShouldNotBeEmpty();
        seen.ShouldAllBe(length => length == bytes.Length);
    }
}
