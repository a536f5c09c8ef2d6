using ImageForge.Core.Worker;
using ImageForge.Server.Webhooks;
using ImageForge.Storage;
using ImageForge.TestUtils;

namespace ImageForge.Server.Tests.Webhooks;

/// <summary>A real catalog (the delivery log) in a temp directory, a hand-moved clock and a fake environment.</summary>
internal sealed class WebhookFixture : IAsyncDisposable
{
    public const string SecretEnv = "IMAGEFORGE_TEST_HOOK_SECRET";
    public const string Secret = "wh-secret-7f3c9a1e-never-in-the-log";

    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private WebhookFixture(TempDirectory directory, Catalog catalog)
    {
        Directory = directory;
        Catalog = catalog;
    }

    public TempDirectory Directory { get; }

    public Catalog Catalog { get; }

    public ManualTimeProvider Clock { get; } = new(Start);

    public Dictionary<string, string> Environment { get; } = new() { [SecretEnv] = Secret };

    public ListLogger<WebhookDispatcher> Logger { get; } = new();

    public static async Task<WebhookFixture> CreateAsync()
    {
        var directory = new TempDirectory("imageforge-webhooks");
        var catalog = await Catalog.OpenAsync(directory.Path, TimeProvider.System);
        return new WebhookFixture(directory, catalog);
    }

    public static WebhookSettings Settings(int maxAttempts, params Uri[] urls) =>
        new(
            maxAttempts,
            [.. urls.Select(u => new WebhookEndpoint(u, WorkerEventTypes.All, SecretEnv))]
        );

    public WebhookPublisher Publisher(WebhookSettings settings) => new(Catalog, settings, Clock);

    public WebhookDispatcher Dispatcher(
        WebhookSettings settings,
        TimeSpan? attemptTimeout = null
    ) =>
        new(
            Catalog,
            settings,
            Clock,
            name => Environment.TryGetValue(name, out var value) ? value : null,
            Logger,
            attemptTimeout
        );

    public async Task<WebhookDelivery> OnlyDeliveryAsync() =>
        (await Catalog.ListAsync(10)).Single();

    public async ValueTask DisposeAsync()
    {
        await Catalog.DisposeAsync();
        Directory.Dispose();
    }
}
