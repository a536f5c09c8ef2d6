using System.Collections.Concurrent;
using ImageForge.Core.Builds;
using ImageForge.TestUtils;
using Shouldly;

namespace ImageForge.Storage.Tests;

/// <summary>A fresh data directory per test, deleted afterwards, and helpers to fill its catalog.</summary>
public sealed class TempDataDirectory : IDisposable
{
    private readonly ConcurrentBag<SqliteCatalog> _opened = [];

    public TempDataDirectory()
    {
        Path = System.IO.Path.Combine(
            System.IO.Path.GetTempPath(),
            "imageforge-storage-tests",
            Guid.NewGuid().ToString("N")
        );
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, SqliteCatalog.FileName);

    public ManualTimeProvider Time { get; } =
        new(new DateTimeOffset(2025, 3, 4, 10, 20, 30, 456, TimeSpan.Zero));

    /// <summary>Opens a catalog on this directory; each call is a separate instance, like another process.</summary>
    public async Task<SqliteCatalog> OpenAsync(
        TimeProvider? time = null,
        TimeSpan? busyTimeout = null
    )
    {
        var catalog = await SqliteCatalog.OpenAsync(
            Path,
            time ?? Time,
            busyTimeout ?? SqliteCatalog.DefaultBusyTimeout,
            CancellationToken.None
        );
        _opened.Add(catalog);
        return catalog;
    }

    public void Dispose()
    {
        foreach (var catalog in _opened)
        {
            catalog.Dispose();
        }

        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

internal static class Builds
{
    public static NewBuild For(string image, string target = "local") =>
        new(image, target, BuildTrigger.Manual, "alice", "testing", $"sha256:{image}");

    public static Artifact Tarball(string image, string sha256 = "ab12") =>
        new()
        {
            Target = "local",
            Region = "local",
            Kind = "rootfs-tar-zst",
            Location = $"/data/artifacts/{image}/rootfs.tar.zst",
            Sha256 = sha256,
            SizeBytes = 123_456_789_012,
        };

    /// <summary>Starts and completes one build of <paramref name="image"/>, returning its version.</summary>
    public static async Task<ImageVersion> BuildVersionAsync(
        this ICatalog catalog,
        string image,
        DateTimeOffset at,
        IReadOnlyList<Artifact>? artifacts = null
    )
    {
        var build = await catalog.StartBuildAsync(For(image), ownerPid: 4242);
        return await catalog.CompleteBuildAsync(
            build.Id,
            artifacts ?? [Tarball(image)],
            [],
            VersionStatus.Built,
            at
        );
    }

    /// <summary>Versions are records holding a list, which records compare by reference; compare the list by items.</summary>
    public static void ShouldBeVersion(this ImageVersion? actual, ImageVersion expected)
    {
        actual.ShouldNotBeNull();
        (actual with { Artifacts = NoArtifacts, Evidence = NoEvidence }).ShouldBe(
            expected with
            {
                Artifacts = NoArtifacts,
                Evidence = NoEvidence,
            }
        );
        actual.Artifacts.ShouldBe(expected.Artifacts);
        actual.Evidence.ShouldBe(expected.Evidence);
    }

    private static readonly Artifact[] NoArtifacts = [];
    private static readonly EvidenceDocument[] NoEvidence = [];
}
