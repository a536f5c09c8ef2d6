using ImageForge.Application;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Server.Queue;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Microsoft.Extensions.Options;

namespace ImageForge.Server.Api;

/// <summary>What <c>GET /health</c> checks, and for how long an answer is reused.</summary>
public sealed class ApiHealthOptions
{
    /// <summary>The Packer executable (a path, or a name on the search path); default <c>$IMAGEFORGE_PACKER</c>, else <c>packer</c>.</summary>
    public string PackerExecutable { get; set; } =
        Environment.GetEnvironmentVariable("IMAGEFORGE_PACKER") is { Length: > 0 } packer
            ? packer
            : "packer";

    /// <summary>Directories searched for the tools, separated by ':'; default <c>$PATH</c>.</summary>
    public string SearchPath { get; set; } = Environment.GetEnvironmentVariable("PATH") ?? "";

    /// <summary>
    /// Whether /health asks each cloud the valid definitions target (default true). A host whose definitions target
    /// clouds it must not call (the API's specs over the repository's content) turns it off.
    /// </summary>
    public bool CheckClouds { get; set; } = true;

    /// <summary>How long one probe's answer is served before the tools are looked at again (default 60 s).</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Finds the tools every registered provider's builds run (<see cref="ProviderModule.HealthTools"/>) on the search
/// path (plus the sbin directories, where mkfs lives) and asks Packer its version through the Toolchain's
/// <see cref="PackerClient"/>, and asks each cloud provider the valid definitions target whether it answers and takes
/// the host's credentials there (<see cref="IAccessProbe"/>); the answer is cached, so a monitoring system polling
/// /health does not start a process or call a cloud per request.
/// </summary>
internal sealed class HealthProbe(
    IOptions<ApiHealthOptions> options,
    TimeProvider time,
    ProviderRegistry providers,
    Pipeline? pipeline = null,
    CatalogHealthMonitor? writes = null,
    Storage.Catalog? catalog = null
) : IDisposable
{
    /// <summary>The tools the providers' builds need, in the order /health lists them (Packer always first).</summary>
    public IReadOnlyList<string> ToolNames { get; } =
    [
        .. new[] { "packer" }
            .Concat(providers.Modules.SelectMany(m => m.HealthTools))
            .Distinct(StringComparer.Ordinal),
    ];

    private static readonly string[] SbinDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    // A cloud that does not answer in this time is reported as not answering: /health must answer regardless.
    private static readonly TimeSpan AccessTimeout = TimeSpan.FromSeconds(10);

    // `packer version` answers at once; a hang is a broken install, and /health must answer regardless.
    private static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (HealthReport Report, DateTimeOffset At)? _cached;

    public async Task<HealthReport> GetAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } cached && time.GetUtcNow() - cached.At < options.Value.CacheFor)
            {
                return cached.Report;
            }

            var report = await ProbeAsync(cancellationToken);
            _cached = (report, time.GetUtcNow());
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<HealthReport> ProbeAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var tools = new Dictionary<string, ToolHealth>(StringComparer.Ordinal);
        foreach (var name in ToolNames)
        {
            var path = Find(
                name == "packer" ? settings.PackerExecutable : name,
                settings.SearchPath
            );
            tools[name] = new ToolHealth(path is not null, path);
        }

        var packer = tools["packer"].Path is { } packerPath
            ? await PackerVersionAsync(packerPath, cancellationToken)
            : new PackerHealth(false, null);
        var clouds = await ProvidersAsync(cancellationToken);
        var store = CatalogWrites();
        var ok =
            packer.Available
            && tools.Values.All(t => t.Available)
            && clouds.Values.All(p => p.Available)
            && store.Available;
        return new HealthReport(ok ? "ok" : "degraded", packer, tools, clouds, store);
    }

    private CatalogHealth CatalogWrites()
    {
        if (writes?.Last is not { } last)
        {
            return new CatalogHealth(true, catalog?.Location, null, null, null);
        }

        var problem =
            last.Problem
            ?? (
                last.Healthy
                    ? null
                    : $"the worker's last write waited {last.Took.TotalSeconds:0} s for the catalog's writer lock "
                        + $"(more than {CatalogHealthMonitor.SlowWrite.TotalSeconds:0} s): another session holds it"
            );
        return new CatalogHealth(
            problem is null,
            catalog?.Location,
            last.At,
            Math.Round(last.Took.TotalSeconds, 3),
            problem
        );
    }

    // Every provider with an access probe and a valid definition targeting it, asked at once; a probe that does not
    // answer within the timeout is reported as such (the other providers' answers still count).
    private async Task<IReadOnlyDictionary<string, ProviderHealth>> ProvidersAsync(
        CancellationToken cancellationToken
    )
    {
        if (pipeline is null || !options.Value.CheckClouds)
        {
            return new Dictionary<string, ProviderHealth>(StringComparer.Ordinal);
        }

        var targets = pipeline
            .LoadDefinitions()
            .Images.SelectMany(d => d.Targets)
            .GroupBy(t => t.Provider, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var probes = pipeline
            .Connected.AccessProbes.Where(p => targets.ContainsKey(p.Key))
            .ToList();
        var answers = await Task.WhenAll(
            probes.Select(async p =>
            {
                using var timeout = new CancellationTokenSource(AccessTimeout, time);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(
                    cancellationToken,
                    timeout.Token
                );
                IReadOnlyList<AccessCheck> checks;
                try
                {
                    checks = await p.Value.CheckAsync(targets[p.Key], stop.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    checks =
                    [
                        new AccessCheck(
                            "*",
                            false,
                            $"no answer within {AccessTimeout.TotalSeconds:0} s"
                        ),
                    ];
                }

                return (p.Key, new ProviderHealth(checks.All(c => c.Ok), checks));
            })
        );
        return answers.ToDictionary(a => a.Key, a => a.Item2, StringComparer.Ordinal);
    }

    private async Task<PackerHealth> PackerVersionAsync(
        string packerPath,
        CancellationToken cancellationToken
    )
    {
        using var timeout = new CancellationTokenSource(VersionTimeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(
            cancellationToken,
            timeout.Token
        );
        try
        {
            var info = await new PackerClient(new ProcessRunner(time), packerPath).GetVersionAsync(
                stop.Token
            );
            return new PackerHealth(true, info.Version.ToString());
        }
        catch (Exception e)
            when (e is ImageForgeException or IOException or System.ComponentModel.Win32Exception
                || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            )
        {
            return new PackerHealth(false, null);
        }
    }

    /// <summary>The executable's full path: a path is taken as is, a name is searched for; null when absent.</summary>
    internal static string? Find(string executable, string searchPath)
    {
        if (executable.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(executable) ? Path.GetFullPath(executable) : null;
        }

        return searchPath
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(SbinDirectories)
            .Select(directory => Path.Combine(directory, executable))
            .FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            return File.Exists(path)
                && (
                    File.GetUnixFileMode(path)
                    & (
                        UnixFileMode.UserExecute
                        | UnixFileMode.GroupExecute
                        | UnixFileMode.OtherExecute
                    )
                ) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
