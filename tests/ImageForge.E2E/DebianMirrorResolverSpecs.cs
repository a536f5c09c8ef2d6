using ImageForge.Core.Definitions;
using ImageForge.Providers.Local;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// The local target's input resolution against the real deb.debian.org (the unit suite serves its mirror in-process:
/// unit specs reach no address outside loopback). The real archive's InRelease and Packages.gz parse, hold bullseye's
/// glibc among tens of thousands of packages, and an unchanged archive is answered from the cache.
/// </summary>
public sealed class DebianMirrorResolverSpecs : IDisposable
{
    private readonly TempDirectory _cache = new("imageforge-e2e-mirror-cache");

    public void Dispose() => _cache.Dispose();

    [Fact(Timeout = 180_000)]
    public async Task The_real_debian_mirror_resolves_and_is_cached()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var resolver = new DebianMirrorResolver(http, _cache.Path);
        var target = new TargetSpec
        {
            Provider = "local",
            BaseImage = "bullseye",
            Regions = [],
            Options = new Dictionary<string, string>
            {
                ["mirror"] = "http://deb.debian.org/debian",
                ["security_mirror"] = "http://deb.debian.org/debian-security",
                ["security_updates"] = "true",
            },
            Secrets = new Dictionary<string, string>(),
        };
        string[] packages = ["libc6", "openssh-server", "libssl1.1", "imageforge-no-such-package"];

        var first = await resolver.ResolveAsync(target, packages);
        var started = TimeProvider.System.GetTimestamp();
        var second = await resolver.ResolveAsync(target, packages);

        first.Select(e => e.Name).ShouldBe(["base:bullseye", "packages"]);
        first.ShouldAllBe(e => e.Digest.StartsWith("sha256:") && e.Digest.Length == 71);
        // The archive may publish between the two calls; the cache then simply holds a second index.
        var indexes = Directory.EnumerateFiles(_cache.Path, "*.index").ToList();
        indexes.Count.ShouldBeInRange(2, 4);
        // The parsed indexes hold bullseye's glibc (2.31-13+deb11uN) and thousands of other packages.
        indexes.ShouldContain(f => File.ReadLines(f).Any(l => l.StartsWith("libc6 2.31-13")));
        indexes.Sum(f => File.ReadLines(f).Count()).ShouldBeGreaterThan(50_000);
        if (second.SequenceEqual(first))
        {
            TimeProvider.System.GetElapsedTime(started).ShouldBeLessThan(TimeSpan.FromSeconds(30));
        }
    }
}
