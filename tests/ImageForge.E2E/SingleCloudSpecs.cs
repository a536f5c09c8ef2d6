using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Azure.Storage.Blobs;
using ImageForge.CloudFakes.Azure;
using ImageForge.CloudFakes.Gcp;
using ImageForge.Providers.Local;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.E2E;

/// <summary>
/// The three shipped single-cloud definitions (debian-11-cis-aws, -azure, -gcp), their accounts and names replaced by
/// the fakes', each built for real (Packer, mmdebstrap, hardening, scans, the disk and its boot test, as shipped) and
/// imported into its cloud's fake, then verified. One data directory for the three: the first build bootstraps the
/// base, the other two take it from the cache. Each spec asserts what its cloud's issue asks to be shown.
/// </summary>
public sealed class SingleCloudFixture : IAsyncLifetime, IDisposable
{
    public static readonly string[] Images =
    [
        "debian-11-cis-aws",
        "debian-11-cis-azure",
        "debian-11-cis-gcp",
    ];

    private readonly TempDirectory _content = new("imageforge-e2e-single-cloud");
    private readonly long _started = TimeProvider.System.GetTimestamp();

    public TempDirectory Data { get; } = new("imageforge-e2e-single-cloud-data");

    public ThreeClouds Clouds { get; private set; } = null!;

    /// <summary>What the ARM fake found in each source blob when it made a gallery version of it.</summary>
    public HashingBlobs Blobs { get; private set; } = null!;

    public IReadOnlyDictionary<string, CliResult> Built { get; private set; } = null!;

    public IReadOnlyDictionary<string, CliResult> Verified { get; private set; } = null!;

    /// <summary>How long each image's build took.</summary>
    public IReadOnlyDictionary<string, TimeSpan> BuildTimes { get; private set; } = null!;

    /// <summary>From the fixture's creation to the end of the three builds and verifications.</summary>
    public TimeSpan Elapsed { get; private set; }

    public string Content { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Clouds = await ThreeClouds.StartAsync(azurite => Blobs = new HashingBlobs(azurite));
        Content = TestContent.Copy(_content.Path);
        foreach (var image in Images)
        {
            TestContent.Edit(
                Content,
                Path.Combine("templates", "images", $"{image}.yaml"),
                TestContent.PointAtFakes
            );
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(40));
        var built = new Dictionary<string, CliResult>(StringComparer.Ordinal);
        var verified = new Dictionary<string, CliResult>(StringComparer.Ordinal);
        var times = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var image in Images)
        {
            var started = TimeProvider.System.GetTimestamp();
            built[image] = await RunAsync(timeout.Token, "build", image, "--output", "json");
            times[image] = TimeProvider.System.GetElapsedTime(started);
            verified[image] = await RunAsync(timeout.Token, "verify", image);
        }

        (Built, Verified, BuildTimes) = (built, verified, times);
        Elapsed = TimeProvider.System.GetElapsedTime(_started);
    }

    public async Task DisposeAsync() => await Clouds.DisposeAsync();

    public void Dispose()
    {
        Data.Dispose();
        _content.Dispose();
    }

    public Task<CliResult> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        CliRunner.RunAsync(
            Content,
            Clouds.Variables,
            Clouds.Providers(new LocalProvider()),
            cancellationToken,
            [.. args, "--data-dir", Data.Path]
        );

    /// <summary>The version a build recorded (its JSON), after asserting the build and its verify passed.</summary>
    public JsonElement Version(string image)
    {
        Built[image].ExitCode.ShouldBe(0, Built[image].ToString());
        Verified[image].ExitCode.ShouldBe(0, Verified[image].ToString());
        using var json = JsonDocument.Parse(Built[image].Out);
        return json.RootElement.GetProperty("version").Clone();
    }

    /// <summary>The signed statement of the image's only version.</summary>
    public async Task<SignedStatement> StatementAsync(string image)
    {
        var shown = await RunAsync(
            CancellationToken.None,
            "images",
            "show",
            image,
            "--output",
            "json"
        );
        shown.ExitCode.ShouldBe(0, shown.ToString());
        return SignedStatement.OfNewestVersion(shown.Out);
    }
}

/// <summary>
/// Azurite as the ARM fake's blob store, which also hashes every source blob the first time a gallery version is made
/// from it: the upload blob is deleted once the version exists, so this is when its bytes can be compared.
/// </summary>
public sealed class HashingBlobs(Azurite azurite) : IVhdBlobs
{
    private readonly ConcurrentDictionary<string, string> _sha256 = new(StringComparer.Ordinal);

    /// <summary>The sha256 of each blob the ARM fake looked up, by its URI.</summary>
    public IReadOnlyDictionary<string, string> Sha256 => _sha256;

    public async Task<VhdBlobFacts?> DescribeAsync(
        Uri blob,
        CancellationToken cancellationToken = default
    )
    {
        var facts = await azurite.DescribeAsync(blob, cancellationToken);
        if (facts is not null && !_sha256.ContainsKey(blob.AbsoluteUri))
        {
            var download = await new BlobClient(blob, Azurite.Credential).DownloadStreamingAsync(
                cancellationToken: cancellationToken
            );
            await using var content = download.Value.Content;
            _sha256[blob.AbsoluteUri] = Convert.ToHexStringLower(
                await SHA256.HashDataAsync(content, cancellationToken)
            );
        }

        return facts;
    }
}

public sealed class SingleCloudSpecs(SingleCloudFixture fixture, ITestOutputHelper output)
    : IClassFixture<SingleCloudFixture>
{
    [Fact]
    public void The_three_builds_share_one_base_and_each_is_verified()
    {
        output.WriteLine(
            $"spec class wall time so far: {fixture.Elapsed.TotalSeconds:F0} s; builds: "
                + string.Join(
                    ", ",
                    fixture.BuildTimes.Select(b => $"{b.Key} {b.Value.TotalSeconds:F0} s")
                )
        );
        var hits = SingleCloudFixture.Images.Count(image =>
            fixture.Built[image].Error.Contains("cache hit, using base", StringComparison.Ordinal)
        );
        hits.ShouldBe(2, "only the first build bootstraps");
        foreach (var image in SingleCloudFixture.Images)
        {
            fixture.Version(image);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task The_aws_image_is_one_tagged_uefi_imdsv2_ami_per_region_bound_to_the_disk_in_the_provenance()
    {
        const string Image = "debian-11-cis-aws";
        var version = fixture.Version(Image);
        var artifacts = Artifacts(version);
        var raw = artifacts.Single(a => a.Kind == LocalTargetBuilder.DiskRawKind);
        var amis = artifacts.Where(a => a.Target == "aws").ToList();
        amis.Select(a => a.Region)
            .Order(StringComparer.Ordinal)
            .ShouldBe([ThreeClouds.AwsHome, ThreeClouds.AwsOther]);
        var statement = await fixture.StatementAsync(Image);
        foreach (var ami in amis)
        {
            ami.Kind.ShouldBe("ami");
            ami.SourceSha256.ShouldBe(raw.Sha256);
            statement.SourceOf("aws", ami.Region, ami.Location).ShouldBe(raw.Sha256);

            using var ec2 = fixture.Clouds.Aws.Ec2(ami.Region);
            var images = await ec2.DescribeImagesAsync(
                new DescribeImagesRequest { Owners = ["self"] }
            );
            var image = images.Images.ShouldHaveSingleItem($"one AMI in {ami.Region}");
            image.ImageId.ShouldBe(ami.Location);
            image.State.ShouldBe(ImageState.Available);
            image.BootMode.ShouldBe(BootModeValues.Uefi);
            image.ImdsSupport.ShouldBe(ImdsSupportValues.V20);
            var tags = image.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            tags["imageforge:image"].ShouldBe(Image);
            tags["imageforge:version"].ShouldBe(version.GetProperty("version").GetString());
            tags["imageforge:disk-sha256"].ShouldBe(raw.Sha256);
        }

        fixture.Clouds.Aws.AssertNoModelProblems();
    }

    [Fact(Timeout = 120_000)]
    public async Task The_azure_blob_holds_the_vhd_and_the_gallery_version_is_in_two_regions_excluded_from_latest()
    {
        const string Image = "debian-11-cis-azure";
        var version = fixture.Version(Image);
        var artifacts = Artifacts(version);
        var vhd = artifacts.Single(a => a.Kind == LocalTargetBuilder.DiskVhdKind);
        File.Exists(vhd.Location).ShouldBeTrue();

        // The blob the gallery version was made from held exactly the VHD's bytes.
        fixture.Blobs.Sha256.Values.ShouldBe([vhd.Sha256!]);

        var galleryVersion = fixture.Clouds.Arm.State.Versions.ShouldHaveSingleItem();
        galleryVersion.ProvisioningState.ShouldBe("Succeeded");
        galleryVersion
            .Replication.Select(r => (r.Region, r.State))
            .OrderBy(r => r.Region, StringComparer.Ordinal)
            .ShouldBe([("northeurope", "Completed"), ("westeurope", "Completed")]);
        galleryVersion.Properties["publishingProfile"]!["excludeFromLatest"]!
            .GetValue<bool>()
            .ShouldBeTrue("a version is not for consumers until it is promoted");

        var images = artifacts.Where(a => a.Target == "azure").ToList();
        images
            .Select(a => a.Region)
            .Order(StringComparer.Ordinal)
            .ShouldBe(["northeurope", "westeurope"]);
        var statement = await fixture.StatementAsync(Image);
        foreach (var image in images)
        {
            image.Location.ShouldBe(galleryVersion.Id, StringCompareShould.IgnoreCase);
            statement.SourceOf("azure", image.Region, image.Location).ShouldBe(vhd.Sha256);
        }

        fixture.Clouds.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 300_000)]
    public async Task The_gcp_upload_matches_its_crc32c_and_the_image_has_its_features_labels_and_self_link()
    {
        const string Image = "debian-11-cis-gcp";
        var version = fixture.Version(Image);
        var artifacts = Artifacts(version);
        var archive = artifacts.Single(a => a.Kind == LocalTargetBuilder.DiskTarGzKind);
        var gce = artifacts.Single(a => a.Target == "gcp");
        gce.Region.ShouldBe("global");
        var statement = await fixture.StatementAsync(Image);
        statement.SourceOf("gcp", "global", gce.Location).ShouldBe(archive.Sha256);
        var annotations = statement.ImageSubject("gcp", "global", gce.Location).Annotations!.Value;
        var crc32c = Crc32C.Base64(Crc32C.Compute(await File.ReadAllBytesAsync(archive.Location)));
        annotations.GetProperty("crc32c").GetString().ShouldBe(crc32c);

        using var compute = fixture.Clouds.Gcp.CreateComputeClient();
        var name = annotations.GetProperty("name").GetString()!;
        var image = await compute.GetFromJsonAsync<JsonElement>(
            $"projects/{ThreeClouds.GcpProject}/global/images/{name}"
        );
        image.GetProperty("selfLink").GetString().ShouldBe(gce.Location);
        image.GetProperty("status").GetString().ShouldBe("READY");
        image
            .GetProperty("guestOsFeatures")
            .EnumerateArray()
            .Select(f => f.GetProperty("type").GetString())
            .Order(StringComparer.Ordinal)
            .ShouldBe(["GVNIC", "UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE"]);
        var labels = image.GetProperty("labels");
        labels.GetProperty("image").GetString().ShouldBe(Image);
        labels
            .GetProperty("version")
            .GetString()
            .ShouldBe(version.GetProperty("version").GetString()!.Replace('.', '-'));
        image.TryGetProperty("family", out _).ShouldBeFalse("no family before promotion");

        fixture.Clouds.Gcp.AssertNoModelProblems();
    }

    private static List<ArtifactRow> Artifacts(JsonElement version) =>
        [
            .. version
                .GetProperty("artifacts")
                .EnumerateArray()
                .Select(a => new ArtifactRow(
                    a.GetProperty("target").GetString()!,
                    a.GetProperty("region").GetString()!,
                    a.GetProperty("kind").GetString()!,
                    a.GetProperty("path").GetString()!,
                    a.GetProperty("sha256").GetString(),
                    a.GetProperty("source_sha256").GetString()
                )),
        ];

    private sealed record ArtifactRow(
        string Target,
        string Region,
        string Kind,
        string Location,
        string? Sha256,
        string? SourceSha256
    );
}
