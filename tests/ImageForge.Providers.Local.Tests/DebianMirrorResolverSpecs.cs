using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>
/// The local target's input resolution against an apt mirror served in-process over HTTP (InRelease for the main
/// archive, a plain Release for the security archive); the real deb.debian.org is the E2E suite's
/// (tests/ImageForge.E2E/DebianMirrorResolverSpecs.cs): unit specs reach no address outside loopback.
/// </summary>
public sealed class DebianMirrorResolverSpecs : IDisposable
{
    private static readonly string[] Requested = ["libc6", "libssl1.1", "openssh-server"];

    private readonly TempDirectory _cache = new("imageforge-mirror-cache");
    private readonly FakeMirror _mirror = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly FakeHttpServer _server;

    public DebianMirrorResolverSpecs()
    {
        _server = new FakeHttpServer(_mirror.Answer);
    }

    public void Dispose()
    {
        // The server's loop runs on the thread pool, so waiting here cannot deadlock.
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _http.Dispose();
        _cache.Dispose();
    }

    private TargetSpec Target(bool securityUpdates = true, string? mirror = null) =>
        new()
        {
            Provider = "local",
            BaseImage = "bullseye",
            Regions = [],
            Options = new Dictionary<string, string>
            {
                ["mirror"] = mirror ?? new Uri(_server.Url, "debian/").ToString(),
                ["security_mirror"] = new Uri(_server.Url, "debian-security").ToString(),
                ["security_updates"] = securityUpdates ? "true" : "false",
            },
            Secrets = new Dictionary<string, string>(),
        };

    private DebianMirrorResolver Resolver(string? cache = null) => new(_http, cache ?? _cache.Path);

    private Task<IReadOnlyList<(string Name, string Digest)>> ResolveAsync(
        TargetSpec? target = null,
        string? cache = null
    ) => Resolver(cache).ResolveAsync(target ?? Target(), Requested);

    private int PackagesDownloads =>
        _server.Requests.Count(r => r.Path.EndsWith("/Packages.gz", StringComparison.Ordinal));

    private static string Sha256Of(string text) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact(Timeout = 30_000)]
    public async Task The_mirror_is_told_nothing_of_the_builds_trace()
    {
        // Arrange: a build's span is current and sampled, as in the worker with telemetry on.
        using var source = new ActivitySource("imageforge-spec-mirror");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) =>
                ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var client = LocalProvider.MirrorClient();
        using var plain = new HttpClient();

        // Act
        using (var span = source.StartActivity("build"))
        {
            span.ShouldNotBeNull();
            await new DebianMirrorResolver(client, _cache.Path).ResolveAsync(Target(), Requested);
            (await plain.GetAsync(new Uri(_server.Url, "debian/plain"))).Dispose();
        }

        // Assert: the product's client sent no trace header; a default client would have.
        var requests = _server.Requests;
        requests[^1]
            .Headers.Keys.ShouldContain(
                "traceparent",
                "a default client propagates: the spec can fail"
            );
        requests
            .SkipLast(1)
            .ShouldAllBe(r =>
                !r.Headers.ContainsKey("traceparent") && !r.Headers.ContainsKey("tracestate")
            );
        requests.Count.ShouldBeGreaterThan(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_digests_name_the_suites_and_the_candidate_of_each_requested_package()
    {
        _mirror.Set("bullseye", "libssl1.1", "1.1.1w-0+deb11u1");
        _mirror.Set("bullseye-security", "libssl1.1", "1.1.1w-0+deb11u2");
        // A lower version in the security suite does not win over the main suite's.
        _mirror.Set("bullseye-security", "libc6", "2.31-13+deb11u1");
        _mirror.Set("bullseye", "libc6", "2.31-13+deb11u11");

        var resolved = await ResolveAsync();

        resolved.ShouldBe([
            ("base:bullseye", Sha256Of("bullseye bullseye\nbullseye-security bullseye-security\n")),
            (
                "packages",
                Sha256Of(
                    // The boot packages and the kernel every local disk gets are resolved too (absent here).
                    "cloud-guest-utils=absent\ncloud-init=absent\ndbus=absent\nisc-dhcp-client=absent\n"
                        + "libc6=2.31-13+deb11u11\nlibssl1.1=1.1.1w-0+deb11u2\nlinux-image-cloud-amd64=absent\n"
                        + "openssh-server=1:8.4p1-5+deb11u3\nsystemd-sysv=absent\nudev=absent\n"
                )
            ),
        ]);
        _server
            .Requests.Select(r => r.Path)
            .ShouldBe(
                [
                    "/debian/dists/bullseye/InRelease",
                    "/debian/dists/bullseye/main/binary-amd64/Packages.gz",
                    "/debian-security/dists/bullseye-security/InRelease",
                    "/debian-security/dists/bullseye-security/Release",
                    "/debian-security/dists/bullseye-security/main/binary-amd64/Packages.gz",
                ],
                ignoreOrder: true
            );
    }

    [Fact(Timeout = 30_000)]
    public async Task The_same_mirror_gives_the_same_digests()
    {
        var first = await ResolveAsync();
        var second = await ResolveAsync(cache: Path.Combine(_cache.Path, "other"));

        second.ShouldBe(first);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_new_version_of_a_requested_package_changes_the_packages_digest_only()
    {
        var before = await ResolveAsync();

        _mirror.Set("bullseye-security", "openssh-server", "1:8.4p1-5+deb11u4");
        var after = await ResolveAsync();

        after[0].ShouldBe(before[0], "the suites did not change");
        after[1].Name.ShouldBe("packages");
        after[1].Digest.ShouldNotBe(before[1].Digest);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_new_kernel_on_the_mirror_changes_the_packages_digest_though_no_definition_names_it()
    {
        _mirror.Set("bullseye-security", "linux-image-cloud-amd64", "5.10.262-1");
        var before = await ResolveAsync();

        _mirror.Set("bullseye-security", "linux-image-cloud-amd64", "5.10.263-1");
        var after = await ResolveAsync();

        Requested.ShouldNotContain(LocalTargetBuilder.KernelPackage);
        after[1].Digest.ShouldNotBe(before[1].Digest);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_new_version_of_a_package_nobody_asked_for_changes_nothing()
    {
        var before = await ResolveAsync();

        _mirror.Set("bullseye-security", "curl", "7.74.0-1.3+deb11u15");
        _mirror.Set("bullseye", "zlib1g", "1:1.2.11.dfsg-2+deb11u3");
        var after = await ResolveAsync();

        after.ShouldBe(before);
        PackagesDownloads.ShouldBe(4, "both indexes changed, so both were downloaded again");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_package_no_suite_has_is_resolved_as_absent()
    {
        var resolver = Resolver();

        var without = await resolver.ResolveAsync(Target(), ["libc6"]);
        var withMissing = await resolver.ResolveAsync(Target(), ["libc6", "no-such-package"]);
        _mirror.Set("bullseye", "no-such-package", "1.0-1");
        var once = await resolver.ResolveAsync(Target(), ["libc6", "no-such-package"]);

        withMissing[1].Digest.ShouldNotBe(without[1].Digest);
        once[1].Digest.ShouldNotBe(withMissing[1].Digest, "absent and present differ");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unchanged_Release_means_the_index_is_not_downloaded_again()
    {
        var first = await ResolveAsync();
        PackagesDownloads.ShouldBe(2);

        var second = await ResolveAsync();
        // A new process (another resolver on the same cache directory) reuses the cache as well.
        var third = await ResolveAsync(cache: _cache.Path);

        PackagesDownloads.ShouldBe(2);
        second.ShouldBe(first);
        third.ShouldBe(first);
        _server
            .Requests.Count(r => r.Path.EndsWith("/InRelease", StringComparison.Ordinal))
            .ShouldBe(6);

        _mirror.Set("bullseye-security", "libssl1.1", "1.1.1w-0+deb11u3");
        await ResolveAsync();

        PackagesDownloads.ShouldBe(3, "only the security suite changed");
    }

    [Fact(Timeout = 30_000)]
    public async Task Resolutions_asked_for_at_the_same_time_share_one_download_of_each_index()
    {
        _mirror.PackagesDelay = TimeSpan.FromMilliseconds(500);
        var resolver = Resolver();

        var all = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(_ => resolver.ResolveAsync(Target(), Requested))
        );

        PackagesDownloads.ShouldBe(2, "one per suite, however many asked");
        all.ShouldAllBe(digests => digests.SequenceEqual(all[0]));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_Packages_file_that_does_not_match_its_Release_checksum_is_a_clear_error()
    {
        _mirror.CorruptSuite = "bullseye-security";

        var error = await Should.ThrowAsync<ToolFailedException>(() => ResolveAsync());

        error.Message.ShouldContain(
            new Uri(
                _server.Url,
                "debian-security/dists/bullseye-security/main/binary-amd64/Packages.gz"
            ).ToString()
        );
        error.Message.ShouldContain("sha256");
        error.Message.ShouldContain("dists/bullseye-security/Release lists");
        error.Message.ShouldContain("try again later");
        Directory.EnumerateFiles(_cache.Path).Count().ShouldBe(1, "only the good suite is cached");

        _mirror.CorruptSuite = null;
        var resolved = await ResolveAsync();

        resolved.Count.ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_mirror_that_answers_with_an_error_is_named_in_the_error()
    {
        _mirror.FailingPath = "/debian/dists/bullseye/main/binary-amd64/Packages.gz";

        var error = await Should.ThrowAsync<ToolFailedException>(() => ResolveAsync());

        error.Message.ShouldContain($"GET {new Uri(_server.Url, _mirror.FailingPath)}: 503");
        error.Message.ShouldContain("check options.mirror");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unreachable_mirror_is_an_error_naming_the_url()
    {
        var closed = new FakeHttpServer(_ => (200, "text/plain", ""));
        var url = new Uri(closed.Url, "debian").ToString();
        await closed.DisposeAsync();

        var error = await Should.ThrowAsync<ToolFailedException>(() =>
            ResolveAsync(Target(mirror: url))
        );

        error.Message.ShouldContain($"GET {url}/dists/bullseye/InRelease failed");
        error.Message.ShouldContain("reachable");
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_security_updates_only_the_main_suite_is_read()
    {
        var with = await ResolveAsync();
        var before = _server.Requests.Count;

        var without = await ResolveAsync(Target(securityUpdates: false));

        _server.Requests.Skip(before).ShouldAllBe(r => r.Path.StartsWith("/debian/"));
        without[0].Digest.ShouldBe(Sha256Of("bullseye bullseye\n"));
        without[0].Digest.ShouldNotBe(with[0].Digest);
        without[1].Digest.ShouldNotBe(with[1].Digest, "libssl1.1 has a security update");
    }

    /// <summary>
    /// A Debian archive with two suites served from /debian and /debian-security; packages and versions set per suite.
    /// </summary>
    private sealed class FakeMirror
    {
        private readonly Dictionary<string, SortedDictionary<string, string>> _suites = new()
        {
            ["bullseye"] = new(StringComparer.Ordinal)
            {
                ["libc6"] = "2.31-13+deb11u11",
                ["libssl1.1"] = "1.1.1w-0+deb11u1",
                ["openssh-server"] = "1:8.4p1-5+deb11u3",
                ["zlib1g"] = "1:1.2.11.dfsg-2+deb11u2",
            },
            ["bullseye-security"] = new(StringComparer.Ordinal)
            {
                ["libssl1.1"] = "1.1.1w-0+deb11u2",
                ["curl"] = "7.74.0-1.3+deb11u14",
            },
        };
        private readonly Lock _gate = new();

        /// <summary>A suite whose Packages.gz is served damaged (its Release still lists the good checksum).</summary>
        public string? CorruptSuite { get; set; }

        /// <summary>A path answered with 503.</summary>
        public string? FailingPath { get; set; }

        /// <summary>How long a Packages.gz takes to serve (a slow mirror).</summary>
        public TimeSpan PackagesDelay { get; set; }

        public void Set(string suite, string package, string version)
        {
            lock (_gate)
            {
                _suites[suite][package] = version;
            }
        }

        public FakeHttpResponse Answer(RecordedRequest request)
        {
            if (request.Path == FailingPath)
            {
                return new(503, "text/plain", Encoding.UTF8.GetBytes("maintenance"));
            }
            var (archive, suite, file) = Split(request.Path);
            if (suite is null || !_suites.ContainsKey(suite))
            {
                return FakeHttpResponse.NotFound;
            }
            var isSecurity = suite.EndsWith("-security", StringComparison.Ordinal);
            if (archive != (isSecurity ? "debian-security" : "debian"))
            {
                return FakeHttpResponse.NotFound;
            }
            var packages = PackagesGz(suite);
            var release = Release(suite, packages);
            switch (file)
            {
                // The security archive carries only the older Release, the main one only InRelease.
                case "InRelease" when !isSecurity:
                    return Text(Clearsign(release));
                case "Release" when isSecurity:
                    return Text(release);
                case "main/binary-amd64/Packages.gz":
                    Thread.Sleep(PackagesDelay);
                    if (CorruptSuite == suite)
                    {
                        packages = [.. packages];
                        packages[^5] ^= 0xff;
                    }
                    return new(200, "application/gzip", packages);
                default:
                    return FakeHttpResponse.NotFound;
            }
        }

        private static (string? Archive, string? Suite, string? File) Split(string path)
        {
            // /<archive>/dists/<suite>/<file...>
            var parts = path.Trim('/').Split('/', 4);
            return parts.Length == 4 && parts[1] == "dists"
                ? (parts[0], parts[2], parts[3])
                : (null, null, null);
        }

        private byte[] PackagesGz(string suite)
        {
            var text = new StringBuilder();
            lock (_gate)
            {
                foreach (var (name, version) in _suites[suite])
                {
                    text.Append(
                        $"Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
                            + $"Description: {name}\n multi-line description\n .\n more\n"
                            + $"Filename: pool/main/{name[0]}/{name}/{name}_{version}_amd64.deb\n\n"
                    );
                }
            }
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            {
                gzip.Write(Encoding.UTF8.GetBytes(text.ToString()));
            }
            return output.ToArray();
        }

        private static string Release(string suite, byte[] packagesGz) =>
            $"""
                Origin: Debian
                Suite: {(
                    suite.EndsWith("-security", StringComparison.Ordinal)
                        ? "oldoldstable-security"
                        : "oldoldstable"
                )}
                Codename: {suite}
                Architectures: amd64 arm64
                Components: main
                MD5Sum:
                 00000000000000000000000000000000 {packagesGz.Length} main/binary-amd64/Packages.gz
                SHA256:
                 {new string('0', 64)} 1234 main/binary-arm64/Packages.gz
                 {Convert.ToHexStringLower(
                    SHA256.HashData(packagesGz)
                )} {packagesGz.Length} main/binary-amd64/Packages.gz

                """;

        private static string Clearsign(string release) =>
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
            + release
            + "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n";

        private static FakeHttpResponse Text(string body) =>
            new(200, "text/plain", Encoding.UTF8.GetBytes(body));
    }
}
