using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Facts;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.Server.Api;
using ImageForge.Server.Queue;
using ImageForge.Server.Scheduling;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// One worker and one browser for a test class: the API and the dashboard on a real loopback port (Kestrel), over a
/// real <see cref="Catalog"/> in a temporary data directory with the repository's definitions, the real build
/// requests (queue and cancel through the catalog, no runner), and Debian's chromium driven by Playwright.
/// Tests of a class share the catalog: each records its own versions.
/// </summary>
public sealed class DashboardWorker : WebApplicationFactory<DashboardWorker>, IAsyncLifetime
{
    /// <summary>Where the clock starts.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The one browser on this machine; never downloaded.</summary>
    public const string Chromium = "/usr/bin/chromium";

    private readonly TempDirectory _data = new("imageforge-dashboard");
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private int _tokens;

    public DashboardWorker()
    {
        Data = new DataPaths(_data.Path);
        Catalog = Catalog.OpenAsync(_data.Path, Time).GetAwaiter().GetResult();
    }

    public ManualTimeProvider Time { get; } = new(Start);

    public Catalog Catalog { get; }

    public DataPaths Data { get; }

    public HostPaths Paths => new(ContentPaths.UnderRoot(RepoPaths.Root), Data);

    public RecordingEvents Events { get; } = new();

    /// <summary>The worker's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        UseKestrel(0);
        StartServer();
        var address = Services
            .GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        Address = new Uri(
            address
                .Replace("[::]", "127.0.0.1", StringComparison.Ordinal)
                .Replace("localhost", "127.0.0.1", StringComparison.Ordinal)
        );
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(
            new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args =
                [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    // The browser looks up no name outside this machine (its autofill, sign-in and update hosts,
                    // even with the switches above): the pages are on 127.0.0.1, every other name is not found.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                ],
            }
        );
    }

    /// <summary>Stores a new token of <paramref name="role"/> and returns its secret.</summary>
    public async Task<string> TokenAsync(string role, string? actor = null)
    {
        var secret = ApiTokens.Generate();
        await ((ITokenStore)Catalog).CreateTokenAsync(
            actor ?? $"{role}-{Interlocked.Increment(ref _tokens)}",
            role,
            ApiTokens.Hash(secret),
            Time.GetUtcNow()
        );
        return secret;
    }

    /// <summary>
    /// A fresh browser context (its own cookies) with a page signed in with a new token of <paramref name="role"/>;
    /// with <paramref name="javaScript"/> false the browser runs no script at all.
    /// </summary>
    public async Task<IPage> SignedInAsync(
        string role,
        string? actor = null,
        bool javaScript = true
    )
    {
        var context = await Browser.NewContextAsync(
            new BrowserNewContextOptions
            {
                BaseURL = Address.ToString(),
                AcceptDownloads = true,
                JavaScriptEnabled = javaScript,
            }
        );
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/");
        await page.GetByLabel("API token").FillAsync(await TokenAsync(role, actor));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Arrival.AtAsync(page, "**/ui/");
        return page;
    }

    /// <summary>
    /// A form posted from <paramref name="page"/>'s session outside its forms, with the antiforgery token of the
    /// page's first form (the sign-out form has one): a forgery that has everything but the role.
    /// </summary>
    public static async Task<IAPIResponse> ForgedPostAsync(
        IPage page,
        string path,
        params (string Name, string Value)[] fields
    )
    {
        var token = await page.Locator("input[name='__RequestVerificationToken']")
            .First.GetAttributeAsync("value");
        var form = page.APIRequest.CreateFormData().Set("__RequestVerificationToken", token!);
        foreach (var (name, value) in fields)
        {
            form = form.Set(name, value);
        }

        return await page.APIRequest.PostAsync(path, new() { Form = form });
    }

    /// <summary>
    /// A signed version of debian-11-cis, recorded as the pipeline records one (SignedVersions), with
    /// <paramref name="moreEvidence"/> (file name, kind, text) signed with the rest.
    /// </summary>
    public Task<ImageVersion> RecordVersionAsync(
        params (string File, string Kind, string Text)[] moreEvidence
    )
    {
        Time.Advance(TimeSpan.FromMinutes(1));
        return SignedVersions.RecordAsync(Data.Root, Time, moreEvidence: moreEvidence);
    }

    /// <summary>
    /// A signed version with a package inventory added as evidence (a re-scan's way), so two versions have packages to
    /// diff: each (name, version) pair is one package on amd64.
    /// </summary>
    public async Task<ImageVersion> RecordVersionWithPackagesAsync(
        params (string Name, string Version)[] packages
    )
    {
        var version = await RecordVersionAsync();
        await AddEvidenceAsync(
            version,
            (
                "packages.tsv",
                "package-inventory",
                string.Join(
                    '\n',
                    [
                        "name\tversion\tarchitecture",
                        .. packages.Select(p => $"{p.Name}\t{p.Version}\tamd64"),
                    ]
                ) + "\n"
            )
        );
        return (await Catalog.GetVersionAsync(version.Image, version.Version))!;
    }

    /// <summary>
    /// Evidence (file name, kind, text) added to a recorded version a minute later, as a re-scan or a re-gate adds
    /// it: after the signature, so listed as not signed, which is no failure.
    /// </summary>
    public async Task AddEvidenceAsync(
        ImageVersion version,
        params (string File, string Kind, string Text)[] documents
    )
    {
        Time.Advance(TimeSpan.FromMinutes(1));
        var directory = Path.GetDirectoryName(version.Evidence[0].Location)!;
        var evidence = new List<EvidenceDocument>();
        foreach (var (file, kind, text) in documents)
        {
            var path = Path.Combine(directory, file);
            await File.WriteAllTextAsync(path, text);
            evidence.Add(
                new EvidenceDocument
                {
                    Kind = kind,
                    Location = path,
                    Sha256 = Convert.ToHexStringLower(
                        System.Security.Cryptography.SHA256.HashData(
                            await File.ReadAllBytesAsync(path)
                        )
                    ),
                    MediaType =
                        kind == "package-inventory"
                            ? "text/tab-separated-values"
                            : "application/json",
                }
            );
        }
        await Catalog.AddEvidenceAsync(version.Image, version.Version, evidence, Time.GetUtcNow());
    }

    /// <summary>A version's facts with only its base's key and an empty base, as a local build records its base.</summary>
    public static FactSnapshot BaseOnly(string version, string key) =>
        new(
            version,
            new Dictionary<string, IReadOnlySet<string>>(),
            new Dictionary<string, double>()
        )
        {
            BaseKey = key,
            Base = new FactSnapshot(
                version,
                new Dictionary<string, IReadOnlySet<string>>(),
                new Dictionary<string, double>()
            ),
        };

    /// <summary>A vulnerability findings document (file name, kind, text) with one high finding of openssl per advisory.</summary>
    public static (string File, string Kind, string Text) Findings(
        string file,
        params string[] advisories
    ) =>
        (
            file,
            EvidenceFiles.VulnerabilityFindings,
            System.Text.Encoding.UTF8.GetString(
                new FindingsDocument
                {
                    Image = "debian-11-cis",
                    Version = "any",
                    ScannedAt = Start,
                    Sources = [],
                    Summary = new Dictionary<string, int> { ["high"] = advisories.Length },
                    Findings =
                    [
                        .. advisories.Select(a => new FindingEntry(
                            a,
                            [],
                            "openssl",
                            null,
                            "1.1.1n-0+deb11u1",
                            null,
                            Severity.High,
                            null,
                            null,
                            "debian-security-tracker",
                            null,
                            null
                        )),
                    ],
                    Suppressed = [],
                    ExpiredSuppressions = [],
                    Problems = [],
                }.ToJson()
            )
        );

    /// <summary>The worker's own promotion operations, as an actor (to arrange channels).</summary>
    public PromotionOperationsFor Operations => new(Services.GetRequiredService<Pipeline>());

    protected override IHostBuilder CreateHostBuilder() =>
        new HostBuilder()
            .UseContentRoot(RepoPaths.Root)
            .ConfigureWebHost(web =>
                web.UseContentRoot(RepoPaths.Root)
                    .ConfigureServices(services =>
                    {
                        services.AddApiOverRepository(Catalog, Paths, Time, Events);
                        services.AddSingleton<QueueSignal>();
                        services.AddSingleton<IBuildRequests, BuildRequests>();
                        services.AddSingleton<ScheduledBuilds>();
                        services.AddImageForgeDashboard(Data.Root);
                    })
                    .Configure(app =>
                    {
                        app.UseImageForgeApi();
                        app.UseImageForgeDashboard();
                        app.UseEndpoints(endpoints =>
                        {
                            endpoints.MapImageForgeApi();
                            endpoints.MapImageForgeDashboard();
                        });
                    })
            );

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.UseContentRoot(RepoPaths.Root);

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await base.DisposeAsync();
        await Catalog.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>Promotion operations with a named actor, to arrange a channel before the browser looks at it.</summary>
public sealed class PromotionOperationsFor(Pipeline pipeline)
{
    public async Task PromoteAsync(ImageVersion version, string channel)
    {
        var view = await new ImageForge.Application.Operations.PromotionOperations(
            pipeline
        ).PromoteAsync(
            new ImageForge.Core.Promotion.Actor("arranger", ImageForge.Core.Promotion.Role.Admin),
            new ImageForge.Application.Operations.PromoteInput(
                version.Image,
                version.Version,
                channel,
                false,
                null
            )
        );
        if (view.Status != ImageForge.Application.Operations.PromotionStatuses.Promoted)
        {
            throw new InvalidOperationException(
                $"arranging {version.Version} in {channel}: {view.Status}: {string.Join("; ", view.Refusals)} {string.Join("; ", view.Steps.Select(s => s.Detail))}"
            );
        }
    }
}

/// <summary>The webhook events the worker published.</summary>
public sealed class RecordingEvents : IWorkerEvents
{
    private readonly List<string> _types = [];

    public IReadOnlyList<string> Types
    {
        get
        {
            lock (_types)
            {
                return [.. _types];
            }
        }
    }

    public Task PublishAsync(string eventType, object data, CancellationToken cancellationToken)
    {
        lock (_types)
        {
            _types.Add(eventType);
        }

        return Task.CompletedTask;
    }
}
