using System.Security.Cryptography;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Cloud.Storage.V1;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>
/// A started <see cref="GcpFake"/> with a service account the way the product meets one: a key file on disk
/// (<c>token_uri</c> = the fake), a <see cref="StorageClient"/> built from it with its base URI on the fake (uploads
/// included), and an authorized HttpClient for Compute Engine's REST API. Nothing reaches beyond 127.0.0.1.
/// </summary>
public sealed class GcpFakeFixture : IAsyncDisposable
{
    /// <summary>The project of the test service account.</summary>
    public const string ProjectId = "imageforge-test";

    /// <summary>The test service account.</summary>
    public const string ClientEmail = "imageforge-builder@imageforge-test.iam.gserviceaccount.com";

    /// <summary>The scope the product asks for Compute Engine.</summary>
    public const string ComputeScope = "https://www.googleapis.com/auth/compute";

    private readonly string _directory;

    private GcpFakeFixture(
        GcpFake fake,
        string directory,
        string keyFile,
        GoogleCredential credential,
        StorageClient storage
    )
    {
        Fake = fake;
        _directory = directory;
        KeyFile = keyFile;
        Credential = credential;
        Storage = storage;
    }

    /// <summary>The fake: its state, faults, counters and model problems.</summary>
    public GcpFake Fake { get; }

    /// <summary>The service-account key file (JSON) in a temporary directory.</summary>
    public string KeyFile { get; }

    /// <summary>The credential read from <see cref="KeyFile"/>, not yet scoped.</summary>
    public GoogleCredential Credential { get; }

    /// <summary>A Cloud Storage client wired to the fake.</summary>
    public StorageClient Storage { get; }

    /// <summary>Starts the fake, writes the key file and builds the clients.</summary>
    public static async Task<GcpFakeFixture> StartAsync(
        GcpFakeOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var fake = await GcpFake.StartAsync(options, cancellationToken);
        var directory = Path.Combine(
            Path.GetTempPath(),
            "imageforge-gcp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))
        );
        Directory.CreateDirectory(directory);
        var keyFile = Path.Combine(directory, "service-account.json");
        await File.WriteAllTextAsync(
            keyFile,
            fake.CreateServiceAccountKey(ClientEmail, ProjectId),
            cancellationToken
        );
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var credential = (
            await CredentialFactory.FromFileAsync<ServiceAccountCredential>(
                keyFile,
                cancellationToken
            )
        ).ToGoogleCredential();
        var storage = await new StorageClientBuilder
        {
            // Uploads go to "/upload/" + the service path on this base's host, so they reach the fake too.
            BaseUri = fake.StorageBaseUri.AbsoluteUri,
            GoogleCredential = credential,
        }.BuildAsync(cancellationToken);
        return new GcpFakeFixture(fake, directory, keyFile, credential, storage);
    }

    /// <summary>Creates a bucket in the fake.</summary>
    public void CreateBucket(string name, string location = "US") =>
        Fake.Storage.CreateBucket(name, location);

    /// <summary>
    /// An HttpClient that sends the service account's bearer token (refreshed on 401), based at Compute Engine's
    /// root (<c>.../compute/v1/</c>), as the product's Compute client is built. It retries nothing by itself.
    /// </summary>
    public HttpClient CreateComputeClient(string scope = ComputeScope)
    {
        var client = new HttpClientFactory().CreateHttpClient(
            new CreateHttpClientArgs
            {
                ApplicationName = "imageforge-tests",
                Initializers = { Credential.CreateScoped(scope) },
            }
        );
        client.BaseAddress = Fake.ComputeBaseUri;
        return client;
    }

    /// <summary>Fails with every recorded model problem unless there is none.</summary>
    public void AssertNoModelProblems()
    {
        var problems = Fake.Problems.All;
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                "The GCP fake saw requests that break the model:\n" + string.Join('\n', problems)
            );
        }
    }

    /// <summary>Stops the fake and deletes the key file.</summary>
    public async ValueTask DisposeAsync()
    {
        Storage.Dispose();
        await Fake.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
