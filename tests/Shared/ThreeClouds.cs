using Amazon.S3.Model;
using ImageForge.CloudFakes.Aws;
using ImageForge.CloudFakes.Azure;
using ImageForge.CloudFakes.Gcp;
using ImageForge.Core.Providers;
using ImageForge.Providers.Aws;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;

namespace ImageForge.TestSupport;

/// <summary>
/// The three clouds' fakes at once (the AWS fake, Azurite with the ARM fake and its gallery, the GCP fake with its
/// bucket), and the real provider modules connected to them the way a host connects them: AWS and GCP through the
/// host's environment (<see cref="Variables"/>), Azure through its connection (endpoint, test credential).
/// </summary>
public sealed class ThreeClouds : IAsyncDisposable
{
    public const string AwsHome = "eu-west-1";
    public const string AwsOther = "us-east-1";
    public const string AwsBucket = "imageforge-import";
    public const string AzureResourceGroup = "imageforge-images";
    public const string AzureGallery = "imageforge";
    public const string GcpBucket = "imageforge-uploads";
    public const string GcpProject = GcpFakeFixture.ProjectId;

    /// <summary>Where <see cref="CloudTargets"/> puts a version's images (target/region), in ordinal order.</summary>
    public static readonly string[] Places =
    [
        "aws/eu-west-1",
        "aws/us-east-1",
        "azure/northeurope",
        "azure/westeurope",
        "gcp/global",
    ];

    private ThreeClouds(AwsFakeFixture aws, Azurite azurite, ArmFake arm, GcpFakeFixture gcp)
    {
        Aws = aws;
        Azurite = azurite;
        Arm = arm;
        Gcp = gcp;
    }

    public AwsFakeFixture Aws { get; }

    public Azurite Azurite { get; }

    public ArmFake Arm { get; }

    public GcpFakeFixture Gcp { get; }

    /// <summary>What the host's environment gives the AWS and GCP modules; nothing reaches the process environment.</summary>
    public IReadOnlyDictionary<string, string> Variables =>
        new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = Aws.Fake.Url.ToString(),
            ["AWS_ACCESS_KEY_ID"] = AwsFake.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = AwsFake.SecretAccessKey,
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["GOOGLE_APPLICATION_CREDENTIALS"] = Gcp.KeyFile,
        };

    /// <param name="blobs">
    /// Where the ARM fake looks source VHDs up: Azurite itself by default, or a wrapper of it (a spec recording what
    /// the blobs held when the gallery version was made from them).
    /// </param>
    public static async Task<ThreeClouds> StartAsync(Func<Azurite, IVhdBlobs>? blobs = null)
    {
        var aws = await AwsFakeFixture.StartAsync(new AwsFakeOptions());
        await aws.S3(AwsHome)
            .PutBucketAsync(
                new PutBucketRequest { BucketName = AwsBucket, BucketRegionName = AwsHome }
            );
        var azurite = await Azurite.StartAsync();
        var arm = await ArmFake.StartAsync(
            new ArmFakeOptions { Blobs = blobs?.Invoke(azurite) ?? azurite, RetryAfterSeconds = 0 }
        );
        arm.State.AddGallery(
            ArmFake.DefaultSubscriptionId,
            AzureResourceGroup,
            AzureGallery,
            "westeurope"
        );
        var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(GcpBucket, "EU");
        return new ThreeClouds(aws, azurite, arm, gcp);
    }

    /// <summary>The three cloud modules on the fakes, after <paramref name="others"/> (the module making the disk).</summary>
    public ProviderRegistry Providers(params ProviderModule[] others) =>
        new([
            .. others,
            new AwsProvider(
                new AwsProviderOptions
                {
                    PollInterval = TimeSpan.FromMilliseconds(5),
                    WaitTimeout = TimeSpan.FromSeconds(30),
                    MaxErrorRetry = 3,
                }
            ),
            new AzureProvider(
                new AzureConnection
                {
                    Credential = new TestTokenCredential("imageforge-test-token"),
                    ArmOptions = () => Arm.CreateClientOptions(),
                    Blobs = _ => Azurite.CreateServiceClient(),
                    PollInterval = TimeSpan.Zero,
                    OperationPollInterval = TimeSpan.FromMilliseconds(20),
                    PageChunkBytes = 1 << 20,
                }
            ),
            new GcpProvider(
                new GcpSettings
                {
                    StorageBaseUri = Gcp.Fake.StorageBaseUri,
                    ComputeBaseUri = Gcp.Fake.ComputeBaseUri,
                    RetryDelay = TimeSpan.FromMilliseconds(20),
                    Retries = 4,
                    UploadChunkSize = 2 * 256 * 1024,
                }
            ),
        ]);

    /// <summary>
    /// The targets of a definition importing into all three: two AWS regions, two Azure regions, one GCP location,
    /// each cloud's names set to the fakes'. <paramref name="image"/> names the gallery image definition and the GCP
    /// family.
    /// </summary>
    public static string CloudTargets(string image) =>
        AwsTarget() + "\n" + AzureTarget(image) + "\n" + GcpTarget(image);

    /// <summary>An aws import target in two regions (YAML, indented as a definition's targets).</summary>
    public static string AwsTarget() =>
        $$"""
              - provider: aws
                build: import
                base_image: debian-11-amd64-*
                regions: [{{AwsHome}}, {{AwsOther}}]
                options:
                  source_ami_owner: "136693071363"
                  import_bucket: {{AwsBucket}}
                  encrypt: false
            """;

    /// <summary>An azure import target in two regions, into the gallery image definition <paramref name="image"/>.</summary>
    public static string AzureTarget(string image) =>
        $$"""
              - provider: azure
                build: import
                base_image: Debian:debian-11:11-gen2:latest
                regions: [westeurope, northeurope]
                options:
                  subscription_id: {{ArmFake.DefaultSubscriptionId}}
                  resource_group: {{AzureResourceGroup}}
                  gallery: {{AzureGallery}}
                  image_definition: {{image}}
                  publisher: imageforge
                  offer: debian
                  sku: 11-gen2
                  storage_account: {{Azurite.AccountName}}
                  storage_container: vhds
                  replica_count: 1
                  storage_account_type: Standard_LRS
                channels:
                  prod: { latest: true }
            """;

    /// <summary>A gcp import target whose prod channel is the family <c>&lt;image&gt;-prod</c>.</summary>
    public static string GcpTarget(string image) =>
        $$"""
              - provider: gcp
                build: import
                base_image: debian-11
                regions: [europe-west1]
                options:
                  project_id: {{GcpProject}}
                  bucket: {{GcpBucket}}
                channels:
                  prod: { family: {{image}}-prod }
            """;

    public async ValueTask DisposeAsync()
    {
        await Gcp.DisposeAsync();
        await Arm.DisposeAsync();
        await Azurite.DisposeAsync();
        await Aws.DisposeAsync();
    }
}
