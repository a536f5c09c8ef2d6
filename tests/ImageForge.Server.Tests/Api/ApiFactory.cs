using System.Net.Http.Headers;
using System.Security.Cryptography;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server.Api;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// The worker's HTTP API on a test server: a real <see cref="Catalog"/> in a temporary data directory, the
/// repository as content root, a hand-moved clock, and recording fakes for the build queue and the webhook events.
/// Use it as a class fixture (<c>IClassFixture&lt;ApiFactory&gt;</c>); tests of one class share its catalog, so each
/// test uses its own image names. <see cref="ClientFor"/> gives a client with a fresh token of a role.
/// Subclass and override <see cref="ConfigureServices"/> to register more (or replace) services.
/// </summary>
/// <remarks>
/// The factory's entry point is this test assembly (ImageForge.Server is a library, and WebApplicationFactory wants
/// an assembly with an entry point and a deps file); the host itself is built by <see cref="CreateHostBuilder"/>.
/// </remarks>
public class ApiFactory : WebApplicationFactory<ApiFactory>
{
    /// <summary>Where <see cref="Time"/> starts.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    /// <summary>An API over a copy of <paramref name="original"/>: a backup restored into a new data directory.</summary>
    public static ApiFactory RestoredFrom(string original) => new(original);

    private readonly TempDirectory _dataDirectory = new("imageforge-api");
    private int _tokens;
    private bool _disposed;

    /// <summary>An API over a fresh data directory (the one public constructor xUnit needs for a class fixture).</summary>
    public ApiFactory()
        : this(null) { }

    /// <param name="restoredFrom">A data directory whose copy this API serves (a backup restored here).</param>
    protected ApiFactory(string? restoredFrom)
    {
        if (restoredFrom is not null)
        {
            DirectoryTrees.Copy(restoredFrom, _dataDirectory.Path);
        }

        Data = new DataPaths(_dataDirectory.Path);
        Builds.Time = Time;
        // Opened before the host exists: the host's services are registered from these instances.
        Catalog = Catalog.OpenAsync(_dataDirectory.Path, Time).GetAwaiter().GetResult();
    }

    public ManualTimeProvider Time { get; } = new(Start);

    public Catalog Catalog { get; }

    public DataPaths Data { get; }

    public HostPaths Paths => new(ContentPaths.UnderRoot(RepoPaths.Root), Data);

    public RecordingBuildRequests Builds { get; } = new();

    public RecordingWorkerEvents Events { get; } = new();

    /// <summary>The fake Packer the tests build beside themselves (it prints "Packer v1.6.6").</summary>
    public static string FakePacker => Path.Combine(AppContext.BaseDirectory, "fakepacker");

    /// <summary>A client whose requests carry a new token of <paramref name="role"/> (actor <c>&lt;role&gt;-N</c> unless given).</summary>
    public HttpClient ClientFor(string role, string? actor = null) =>
        ClientWithSecret(CreateToken(role, actor).Secret);

    /// <summary>Stores a new token of <paramref name="role"/> and returns its secret and its row.</summary>
    public (string Secret, ApiToken Token) CreateToken(string role, string? actor = null)
    {
        var secret = ApiTokens.Generate();
        var token = ((ITokenStore)Catalog)
            .CreateTokenAsync(
                actor ?? $"{role}-{Interlocked.Increment(ref _tokens)}",
                role,
                ApiTokens.Hash(secret),
                Time.GetUtcNow()
            )
            .GetAwaiter()
            .GetResult();
        return (secret, token);
    }

    /// <summary>A client sending <c>Authorization: Bearer <paramref name="secret"/></c>.</summary>
    public HttpClient ClientWithSecret(string secret)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer",
            secret
        );
        return client;
    }

    /// <summary>Opens a running build of <paramref name="image"/> on the local target, with these log lines.</summary>
    public async Task<BuildRecord> StartBuildAsync(string image, params string[] logLines)
    {
        var build = await Catalog.StartBuildAsync(
            new NewBuild(
                image,
                "local",
                BuildTrigger.Manual,
                "alice",
                null,
                "sha256:" + new string('a', 64)
            ),
            Environment.ProcessId
        );
        await AppendLogAsync(build.Id, logLines);
        return build;
    }

    /// <summary>Appends stdout lines to a build's log.</summary>
    public Task AppendLogAsync(string buildId, params string[] lines) =>
        lines.Length == 0
            ? Task.CompletedTask
            : Catalog.AppendLogAsync(
                buildId,
                [.. lines.Select(text => (Time.GetUtcNow(), "stdout", text))]
            );

    /// <summary>
    /// Records a built version of <paramref name="image"/>: one rootfs artifact and one evidence file per
    /// (kind, media type, content), written below the data directory.
    /// </summary>
    public async Task<ImageVersion> AddVersionAsync(
        string image,
        params (string Kind, string MediaType, string Content)[] evidence
    )
    {
        var build = await StartBuildAsync(image);
        var directory = Directory.CreateDirectory(Data.ArtifactsFor(image, build.Id)).FullName;
        var rootfs = await WriteAsync(directory, "rootfs.tar.zst", "not really a tarball");
        var documents = new List<EvidenceDocument>();
        foreach (var (kind, mediaType, content) in evidence)
        {
            var file = await WriteAsync(directory, kind + ".json", content);
            documents.Add(
                new EvidenceDocument
                {
                    Kind = kind,
                    Location = file.Path,
                    Sha256 = file.Sha256,
                    SizeBytes = file.Size,
                    MediaType = mediaType,
                }
            );
        }

        return await Catalog.CompleteBuildAsync(
            build.Id,
            [
                new Artifact
                {
                    Target = "local",
                    Region = "local",
                    Kind = "rootfs-tar-zst",
                    Location = rootfs.Path,
                    Sha256 = rootfs.Sha256,
                    SizeBytes = rootfs.Size,
                },
            ],
            documents,
            VersionStatus.Built,
            Time.GetUtcNow()
        );
    }

    /// <summary>Registers more services, after the API's and the fixture's own (later registrations win).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    protected override IHostBuilder CreateHostBuilder() =>
        // A bare host: no appsettings, no environment variables, no file watchers on the repository.
        new HostBuilder()
            .UseContentRoot(RepoPaths.Root)
            .ConfigureWebHost(web =>
                web.UseContentRoot(RepoPaths.Root)
                    .ConfigureServices(services =>
                    {
                        services.AddApiOverRepository(Catalog, Paths, Time, Events);
                        services.AddSingleton<IBuildRequests>(Builds);
                        services.Configure<ApiHealthOptions>(o => o.PackerExecutable = FakePacker);
                        ConfigureServices(services);
                    })
                    .Configure(app =>
                    {
                        app.UseImageForgeApi();
                        app.UseEndpoints(endpoints => endpoints.MapImageForgeApi());
                    })
            );

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        // Runs after WebApplicationFactory guessed a content root from its manifest: the repository wins.
        builder.UseContentRoot(RepoPaths.Root);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (!_disposed)
        {
            _disposed = true;
            await Catalog.DisposeAsync();
            _dataDirectory.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private static async Task<(string Path, string Sha256, long Size)> WriteAsync(
        string directory,
        string name,
        string content
    )
    {
        var path = Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, content);
        var bytes = await File.ReadAllBytesAsync(path);
        return (path, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
    }
}
