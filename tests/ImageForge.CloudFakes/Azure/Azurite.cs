using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;

namespace ImageForge.CloudFakes.Azure;

/// <summary>
/// Azurite's Blob service (the real Azure Storage emulator, pinned in eng/azurite and installed by eng/prereqs.sh) on
/// 127.0.0.1 with a free port, in-memory, telemetry off. Started through the product's <see cref="ProcessRunner"/>
/// (its own process group); disposing stops the whole group and returns once it is gone, and eng/azurite/watchdog.js
/// ends it should this process die without disposing (a crashed or abandoned test). Also the
/// <see cref="IVhdBlobs"/> the ARM fake checks source VHDs in.
/// </summary>
public sealed class Azurite : IVhdBlobs, IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, documented: not a secret).</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The development account's well-known key.</summary>
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    // Blobs up to this size are hashed whole when the ARM fake looks at them as a version's source.
    private const long HashedSourceLimit = 64L << 20;

    private readonly System.Collections.Concurrent.ConcurrentQueue<(
        Uri Blob,
        string? Sha256
    )> _sources = new();

    private readonly CancellationTokenSource _stop;
    private readonly Task _run;
    private readonly TempDirectory _workspace;

    private Azurite(
        Uri endpoint,
        int processGroup,
        CancellationTokenSource stop,
        Task run,
        TempDirectory workspace
    )
    {
        BlobEndpoint = endpoint;
        ProcessGroupId = processGroup;
        _stop = stop;
        _run = run;
        _workspace = workspace;
    }

    /// <summary>The account's Blob endpoint, <c>http://127.0.0.1:PORT/devstoreaccount1</c>.</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>Azurite's process group (gone once disposed).</summary>
    public int ProcessGroupId { get; }

    /// <summary>
    /// Every page blob the ARM fake was given as a version's source VHD, in order, with the sha256 of its bytes as
    /// Azurite held them (null for blobs over 64 MiB, which are not read whole): what Azure would have imported.
    /// </summary>
    public IReadOnlyList<(Uri Blob, string? Sha256)> Sources => [.. _sources];

    /// <summary>The account's shared key credential.</summary>
    public static StorageSharedKeyCredential Credential { get; } = new(AccountName, AccountKey);

    /// <summary>The ARM id a gallery image version names this account by.</summary>
    public static string StorageAccountId(string subscriptionId, string resourceGroup) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Storage/storageAccounts/{AccountName}";

    /// <summary>A client for the account (over plain http to 127.0.0.1, as Azurite serves it).</summary>
    public BlobServiceClient CreateServiceClient(BlobClientOptions? options = null) =>
        new(BlobEndpoint, Credential, options);

    /// <summary>Starts Azurite and waits until it answers HTTP.</summary>
    /// <exception cref="InvalidOperationException">Not installed, or it did not come up.</exception>
    public static async Task<Azurite> StartAsync(CancellationToken cancellationToken = default)
    {
        var script = Path.Combine(
            RepoPaths.Root,
            "eng",
            "azurite",
            "node_modules",
            "azurite",
            "dist",
            "src",
            "blob",
            "main.js"
        );
        if (!File.Exists(script))
        {
            throw new InvalidOperationException("Azurite is not installed: run eng/prereqs.sh");
        }

        var failures = new List<string>();
        // A free port can be taken between the probe and Azurite's bind: try a few.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var started = await TryStartAsync(script, FreePort(), cancellationToken);
            if (started.Azurite is { } azurite)
            {
                return azurite;
            }

            failures.Add(started.Failure!);
        }

        throw new InvalidOperationException(
            "Azurite did not start:\n" + string.Join("\n---\n", failures)
        );
    }

    private static async Task<(Azurite? Azurite, string? Failure)> TryStartAsync(
        string script,
        int port,
        CancellationToken cancellationToken
    )
    {
        var workspace = new TempDirectory("imageforge-azurite");
        var spec = new ProcessSpec("node")
            .WithArguments(
                "--require",
                Path.Combine(RepoPaths.Root, "eng", "azurite", "watchdog.js"),
                script,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                port.ToString(CultureInfo.InvariantCulture),
                "--skipApiVersionCheck",
                "--inMemoryPersistence",
                "--extentMemoryLimit",
                "512",
                "--disableTelemetry",
                "--silent"
            )
            // In memory, so nothing is written; its working directory is a scratch folder all the same.
            .WithWorkingDirectory(workspace.Path)
            .WithEnvironment(
                "IMAGEFORGE_AZURITE_OWNER_PID",
                Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
            )
            .WithGracePeriod(TimeSpan.FromSeconds(5));
        var output = new List<string>();
        var group = new TaskCompletionSource<int>(
            TaskCreationOptions.RunContinuationsAsynchronously
        );
        var stop = new CancellationTokenSource();
        var run = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (
                        var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                            spec,
                            stop.Token
                        )
                    )
                    {
                        switch (e)
                        {
                            case ProcessStarted s:
                                group.TrySetResult(s.ProcessGroup);
                                break;
                            case OutputLine { Text: var text }:
                                lock (output)
                                    output.Add(text);
                                break;
                            case ErrorLine { Text: var text }:
                                lock (output)
                                    output.Add(text);
                                break;
                            default:
                                break;
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopped by DisposeAsync: the runner returns only once the whole group is gone.
                }
                finally
                {
                    group.TrySetResult(0);
                }
            },
            CancellationToken.None
        );

        var endpoint = new Uri($"http://127.0.0.1:{port}/{AccountName}");
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = TimeProvider.System.GetUtcNow() + StartTimeout;
        while (TimeProvider.System.GetUtcNow() < deadline && !run.IsCompleted)
        {
            try
            {
                // Any HTTP answer (Azurite says 400 or 403 to an unsigned request) means it serves.
                using var response = await probe.GetAsync(endpoint, cancellationToken);
                return (new Azurite(endpoint, await group.Task, stop, run, workspace), null);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The probe's own timeout.
            }
        }

        await stop.CancelAsync();
        await run;
        stop.Dispose();
        workspace.Dispose();
        lock (output)
        {
            return (null, $"port {port}: " + string.Join('\n', output));
        }
    }

    /// <summary>Stops Azurite: SIGTERM to its group, SIGKILL after the grace period; returns once the group is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
        _workspace.Dispose();
    }

    /// <inheritdoc />
    public async Task<VhdBlobFacts?> DescribeAsync(
        Uri blob,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (!blob.AbsoluteUri.StartsWith(BlobEndpoint.AbsoluteUri + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var client = new BlobClient(blob, Credential);
        BlobProperties properties;
        try
        {
            properties = (
                await client.GetPropertiesAsync(cancellationToken: cancellationToken)
            ).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        var length = properties.ContentLength;
        if (properties.BlobType != BlobType.Page || length < FixedVhd.FooterSize)
        {
            return new VhdBlobFacts(
                AccountName,
                properties.BlobType == BlobType.Page,
                length,
                "The blob is too small to be a VHD."
            );
        }

        var tail = await client.DownloadContentAsync(
            new BlobDownloadOptions
            {
                Range = new HttpRange(length - FixedVhd.FooterSize, FixedVhd.FooterSize),
            },
            cancellationToken
        );
        string? sha256 = null;
        if (length <= HashedSourceLimit)
        {
            var whole = await client.DownloadContentAsync(cancellationToken);
            sha256 = Convert.ToHexStringLower(
                System.Security.Cryptography.SHA256.HashData(whole.Value.Content.ToArray())
            );
        }
        _sources.Enqueue((blob, sha256));
        return new VhdBlobFacts(
            AccountName,
            true,
            length,
            FixedVhd.Problem(tail.Value.Content.ToArray(), length)
        );
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
