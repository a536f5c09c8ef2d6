using System.Collections.Concurrent;
using System.Diagnostics;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Builds;

/// <summary>
/// A request to build one image (by its definition's name) on one target (a provider; null when the definition has
/// exactly one target).
/// </summary>
public sealed record BuildCommand(
    string Image,
    string? Target,
    BuildTrigger Trigger,
    string Requester,
    string? Reason
);

/// <summary>How a build ended: the build row as recorded, and the version when it succeeded.</summary>
public sealed record BuildOutcome(BuildRecord Build, ImageVersion? Version)
{
    /// <summary>The W3C traceparent of the build's root span, when telemetry recorded one (its events continue it).</summary>
    public string? TraceParent { get; init; }
}

/// <summary>What the caller sees of a running build (the command line prints it; the worker streams it).</summary>
public interface IBuildObserver
{
    void Started(BuildRecord build);

    void Progress(string stage, string detail, TimeSpan elapsed);

    void Log(string stream, string text);

    /// <summary>Lines just stored in the build's log, exactly as stored (the worker exports them as log records).</summary>
    void Stored(IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines) { }
}

/// <summary>
/// Runs one build: checks the inputs, opens the build row, runs the target builder, and records the version, or
/// the failure or cancellation. Bad input throws <see cref="InvalidInputException"/> before anything is written;
/// every other ending is a recorded <see cref="BuildOutcome"/>.
/// </summary>
public sealed class BuildService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    private readonly ICatalog _catalog;
    private readonly ProviderRegistry _providers;
    private readonly IReadOnlyDictionary<string, ITargetBuilder> _builders;
    private readonly Dictionary<string, IImageImporter> _importers;
    private readonly IReadOnlyList<IEvidenceCollector> _collectors;
    private readonly DataPaths _data;
    private readonly TimeProvider _time;
    private readonly Func<string, string?> _environment;
    private readonly BuildSettings _settings;
    private readonly Audit.BuildAudit? _audit;
    private readonly Dictionary<string, IInputResolver> _resolvers;

    /// <summary>Creates the service over the catalog, the connected providers and the evidence collectors.</summary>
    /// <param name="catalog">Where builds, logs and versions are recorded.</param>
    /// <param name="providers">The providers' builders and input resolvers.</param>
    /// <param name="collectors">Evidence collectors, in the order they run after a target build.</param>
    /// <param name="data">The data directory (work, artifacts, caches).</param>
    /// <param name="time">The clock.</param>
    /// <param name="environment">Reads the environment variables secrets come from.</param>
    /// <param name="settings">Who owns the builds this service runs, and for how long they may run.</param>
    /// <param name="audit">Where builds are audited; null for none.</param>
    /// <param name="resolvers">Replaces the providers' input resolvers (tests that must not reach a mirror).</param>
    public BuildService(
        ICatalog catalog,
        ConnectedProviders providers,
        IEnumerable<IEvidenceCollector> collectors,
        DataPaths data,
        TimeProvider time,
        Func<string, string?> environment,
        BuildSettings settings,
        Audit.BuildAudit? audit = null,
        IEnumerable<IInputResolver>? resolvers = null
    )
    {
        ArgumentNullException.ThrowIfNull(providers);
        _providers = providers.Registry;
        _resolvers = (resolvers ?? providers.InputResolvers).ToDictionary(
            r => r.Provider,
            StringComparer.Ordinal
        );
        _catalog = catalog;
        _builders = providers.Builders.ToDictionary(b => b.Provider, StringComparer.Ordinal);
        _importers = providers.Importers.ToDictionary(i => i.Provider, StringComparer.Ordinal);
        _collectors = [.. collectors];
        _data = data;
        _time = time;
        _environment = environment;
        _settings = settings;
        _audit = audit;
    }

    /// <summary>
    /// Checks a build command against the definitions without running anything, and fingerprints its inputs (the
    /// definition, baseline, the provider's Packer templates and the hardening scripts).
    /// </summary>
    public PreparedBuild Prepare(BuildCommand command, ContentPaths content)
    {
        var checkedBuild = Check(command, content);
        return checkedBuild with
        {
            Fingerprint = InputFingerprint.Compute([
                ("definition", checkedBuild.Definition.SourceFile),
                ("baseline", checkedBuild.Baseline.SourceFile),
                ("templates", Path.Combine(content.PackerTemplates, checkedBuild.Target.Provider)),
                ("hardening", Path.Combine(content.Hardening, checkedBuild.Baseline.Hardening)),
                // Profiles run the shared rule library (hardening/lib): a change there changes the image too.
                ("hardening-lib", Path.Combine(content.Hardening, "lib")),
                .. checkedBuild.Imports.Select(i =>
                    (
                        $"templates-{i.Target.Provider}",
                        Path.Combine(content.PackerTemplates, i.Target.Provider)
                    )
                ),
            ]),
        };
    }

    /// <summary>
    /// Checks a queued build the worker has claimed against the definitions as they are now (they may have changed
    /// since it was queued); its fingerprint is the one computed when it was queued.
    /// </summary>
    public PreparedBuild PrepareClaimed(BuildRecord claimed, ContentPaths content)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        return Check(
            new BuildCommand(
                claimed.Image,
                claimed.Target,
                claimed.Trigger,
                claimed.Requester,
                claimed.Reason
            ),
            content
        ) with
        {
            Fingerprint = claimed.Fingerprint,
        };
    }

    private PreparedBuild Check(BuildCommand command, ContentPaths content)
    {
        var set = DefinitionLoader.Load(
            content,
            DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime),
            _providers
        );
        var definition = set.FindImage(command.Image);
        if (definition is null)
        {
            // An invalid definition is not in the set: show every problem, the wanted one is likely among them.
            var known =
                set.Images.Count == 0
                    ? ""
                    : $"; valid ones: {string.Join(", ", set.Images.Select(i => i.Name))}";
            var problems =
                set.Problems.Count == 0
                    ? ". Check the name, or point --definitions at the directory that holds it."
                    : ". These definitions have problems:"
                        + Environment.NewLine
                        + string.Join(Environment.NewLine, set.Problems);
            throw new InvalidInputException(
                $"no valid image definition named '{command.Image}' in {content.Definitions}{known}{problems}"
            );
        }

        var baseline = set.FindBaseline(definition.Baseline);
        var relevant = set
            .Problems.Where(p =>
                SameFile(p.File, definition.SourceFile)
                || (baseline is not null && SameFile(p.File, baseline.SourceFile))
            )
            .ToList();
        if (relevant.Count > 0 || baseline is null)
        {
            throw new InvalidInputException(
                relevant.Count > 0
                    ? relevant
                    :
                    [
                        new InputProblem(
                            definition.SourceFile,
                            1,
                            "baseline",
                            $"baseline '{definition.Baseline}' not found"
                        ),
                    ]
            );
        }

        var (target, imports) = BuildTargets.Select(definition, command.Target, _providers);
        if (!_builders.TryGetValue(target.Provider, out var builder))
        {
            throw new InvalidInputException(
                $"{definition.SourceFile}: target '{target.Provider}' is valid, but this version of ImageForge builds only "
                    + $"{string.Join(", ", _builders.Keys)}. Build with --target {string.Join("|", _builders.Keys)}."
            );
        }

        var unprepared = builder.Preflight(baseline, target, content).ToList();
        var importers = new List<PreparedImport>();
        foreach (var import in imports)
        {
            if (!_importers.TryGetValue(import.Provider, out var importer))
            {
                throw new InvalidInputException(
                    $"{definition.SourceFile}: target '{import.Provider}' (build: import) is valid, but this version of "
                        + $"ImageForge cannot import into {import.Provider} yet"
                );
            }

            unprepared.AddRange(importer.Preflight(import));
            importers.Add(new PreparedImport(import, importer, Secrets(definition, import)));
        }

        if (unprepared.Count > 0)
        {
            throw new InvalidInputException(string.Join(Environment.NewLine, unprepared));
        }

        return new PreparedBuild(
            command,
            definition,
            baseline,
            target,
            content,
            Secrets(definition, target),
            ""
        )
        {
            Imports = importers,
            RequiresKvm = _providers.Get(target.Provider).RequiresKvm(target),
        };
    }

    // The values of the target's secrets from the environment; every unset one is a problem naming its variable.
    private Dictionary<string, string> Secrets(ImageDefinition definition, TargetSpec target)
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<InputProblem>();
        foreach (var (variable, envName) in target.Secrets)
        {
            var value = _environment(envName);
            if (string.IsNullOrEmpty(value))
            {
                missing.Add(
                    new InputProblem(
                        definition.SourceFile,
                        1,
                        $"targets[{target.Provider}].secrets.{variable}",
                        $"environment variable {envName} is not set; export it with the secret's value before building"
                    )
                );
            }
            else
            {
                secrets[variable] = value;
            }
        }

        return missing.Count > 0 ? throw new InvalidInputException(missing) : secrets;
    }

    /// <summary>
    /// Prepares a build (see <see cref="Prepare"/>) and extends its fingerprint with what the target resolves now:
    /// the base image and the version the mirror would install of every package of the image's newest version and
    /// of its definition. When the target cannot resolve (mirror unreachable) the fingerprint says so, which never
    /// equals an earlier one: a scheduled build then runs rather than being skipped on a guess.
    /// </summary>
    public async Task<PreparedBuild> PrepareResolvedAsync(
        BuildCommand command,
        ContentPaths content,
        CancellationToken cancellationToken
    )
    {
        var prepared = Prepare(command, content);
        if (!_resolvers.TryGetValue(prepared.Target.Provider, out var resolver))
        {
            return prepared;
        }

        var packages = new SortedSet<string>(
            prepared.Definition.Packages.Add,
            StringComparer.Ordinal
        );
        var newest = await _catalog.ListVersionsAsync(
            prepared.Definition.Name,
            1,
            cancellationToken
        );
        if (newest.Count > 0)
        {
            try
            {
                packages.UnionWith(
                    Sbom.EvidenceFiles.ReadInventory(newest[0]).Packages.Select(p => p.Name)
                );
            }
            catch (InvalidInputException)
            {
                // A version whose files were collected: resolve the definition's packages only.
            }
        }

        IReadOnlyList<(string Name, string Digest)> resolved;
        try
        {
            resolved = await resolver.ResolveAsync(prepared.Target, packages, cancellationToken);
        }
        catch (ImageForgeException e)
        {
            resolved = [("unresolved", $"{_time.GetUtcNow():O} {e.Message}")];
        }

        return prepared with
        {
            Fingerprint = InputFingerprint.WithResolved(prepared.Fingerprint, resolved),
        };
    }

    /// <summary>Runs a prepared build to its end in a new build row and records the outcome.</summary>
    public Task<BuildOutcome> RunAsync(
        PreparedBuild prepared,
        IBuildObserver observer,
        CancellationToken cancellationToken = default
    ) => RunCoreAsync(prepared, observer, null, false, cancellationToken);

    /// <summary>
    /// Runs a queued build the worker has claimed (its row exists and is running) and records the outcome.
    /// </summary>
    public Task<BuildOutcome> RunClaimedAsync(
        PreparedBuild prepared,
        IBuildObserver observer,
        BuildRecord claimed,
        CancellationToken cancellationToken = default
    ) => RunCoreAsync(prepared, observer, claimed, false, cancellationToken);

    /// <summary>
    /// Takes up a build whose imports failed or were interrupted (<c>build --resume</c>): the same build and version,
    /// its disk from its output directory (re-hashed: what was signed must be what is imported), the import steps
    /// not done yet, then evidence and the version. Bad input when the build cannot be resumed.
    /// </summary>
    public async Task<BuildOutcome> ResumeAsync(
        string buildId,
        ContentPaths content,
        IBuildObserver observer,
        CancellationToken cancellationToken = default
    )
    {
        var ended =
            await _catalog.GetBuildAsync(buildId, cancellationToken)
            ?? throw new InvalidInputException(
                $"there is no build {buildId}; see 'imageforge builds list'"
            );
        var prepared = PrepareClaimed(ended, content);
        var resumed = await _catalog.ResumeBuildAsync(
            buildId,
            _settings.OwnerPid,
            cancellationToken
        );
        return await RunCoreAsync(prepared, observer, resumed, true, cancellationToken);
    }

    private async Task<BuildOutcome> RunCoreAsync(
        PreparedBuild prepared,
        IBuildObserver observer,
        BuildRecord? claimed,
        bool resume,
        CancellationToken cancellationToken
    )
    {
        var builder = _builders[prepared.Target.Provider];
        var build =
            claimed
            ?? await _catalog.StartBuildAsync(
                new NewBuild(
                    prepared.Definition.Name,
                    prepared.Targets,
                    prepared.Command.Trigger,
                    prepared.Command.Requester,
                    prepared.Command.Reason,
                    prepared.Fingerprint
                ),
                _settings.OwnerPid,
                CancellationToken.None
            );
        // A queued build continues the trace of the request that queued it.
        var tags = BuildTags(build);
        using var span = ImageForgeTelemetry.Source.StartActivity(
            ImageForgeTelemetry.Spans.Build,
            ActivityKind.Internal,
            ImageForgeTelemetry.ParentFrom(claimed?.TraceParent),
            tags
        );
        ImageForgeTelemetry.BuildsStarted.Add(1, tags);
        observer.Started(build);
        await (_audit?.StartedAsync(build, CancellationToken.None) ?? Task.CompletedTask);

        var sink = new Sink(this, build.Id, observer, tags);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopPump = new CancellationTokenSource();
        var pump = PumpAsync(sink, build.Id, cancel, stopPump.Token);
        var request = new TargetBuildRequest(
            build.Id,
            prepared.Definition,
            prepared.Baseline,
            prepared.Target,
            prepared.Content,
            _data.WorkFor(build.FilesKey),
            _data.ArtifactsFor(prepared.Definition.Name, build.FilesKey),
            _data.CacheFor(prepared.Target.Provider),
            prepared.Secrets
        )
        {
            Timeout = _settings.Timeout,
            ReserveVersionAsync = token =>
                _catalog.ReserveVersionAsync(build.Id, _time.GetUtcNow(), token),
            Flavours = DiskFlavour.For(prepared.Imports),
        };

        BuildStatus status;
        string message;
        TargetBuildResult? result = null;
        var versionStatus = VersionStatus.Built;
        var keepOutput = resume;
        try
        {
            var imports = new BuildImports(
                _catalog,
                build,
                prepared,
                sink,
                _time,
                _settings.Imports
            );
            if (resume)
            {
                result = await imports.ReadDiskBuildAsync(request.OutputDirectory, cancel.Token);
            }
            else
            {
                try
                {
                    sink.TrackStages = true;
                    result = await builder.BuildAsync(request, sink, cancel.Token);
                }
                finally
                {
                    sink.EndStage();
                }
            }

            if (prepared.Imports.Count > 0)
            {
                // From here on a failure keeps the version, the disk and the journal for --resume.
                keepOutput = true;
                result = await imports.RunAsync(
                    request.OutputDirectory,
                    result,
                    resume,
                    cancel.Token
                );
            }

            result = await CollectEvidenceAsync(
                prepared,
                build.Id,
                request,
                result,
                sink,
                cancel.Token
            );
            // On disk before the catalog names them: another worker may serve them from the shared store at once.
            _data.Store.Seal(request.OutputDirectory);
            versionStatus = VersionStatusFor(result.Evidence);
            status = BuildStatus.Succeeded;
            message = "";
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            status = BuildStatus.Cancelled;
            message = cancellationToken.IsCancellationRequested
                ? "cancelled by the user"
                : "cancelled on request (builds cancel)";
        }
        catch (ImageForgeException e)
        {
            status = BuildStatus.Failed;
            message = e.Message;
        }
        finally
        {
            await stopPump.CancelAsync();
            await pump;
            await sink.FlushAsync();
        }

        // The recording below must happen even when the caller has already cancelled.
        if (status == BuildStatus.Succeeded)
        {
            var version = await _catalog.CompleteBuildAsync(
                build.Id,
                result!.Artifacts,
                result.Evidence,
                versionStatus,
                _time.GetUtcNow(),
                _audit is null
                    ? null
                    : number =>
                        _audit.Completed(
                            build,
                            number,
                            versionStatus,
                            result.Artifacts,
                            result.Evidence
                        ),
                CancellationToken.None
            );
            if (_audit is not null)
            {
                await _audit.LineageAsync(prepared, version, CancellationToken.None);
            }

            return Ended(
                span,
                tags,
                new BuildOutcome(
                    (await _catalog.GetBuildAsync(build.Id, CancellationToken.None))!,
                    version
                )
            );
        }

        // A target build that succeeded before evidence failed has written output no version will point to; a build
        // that began importing keeps it for --resume.
        if (result is not null && !keepOutput && Directory.Exists(request.OutputDirectory))
        {
            Directory.Delete(request.OutputDirectory, recursive: true);
        }

        await _catalog.EndBuildAsync(
            build.Id,
            status,
            message,
            _time.GetUtcNow(),
            _audit?.Ended(build, status, message),
            CancellationToken.None
        );
        return Ended(
            span,
            tags,
            new BuildOutcome(
                (await _catalog.GetBuildAsync(build.Id, CancellationToken.None))!,
                null
            )
        );
    }

    private static TagList BuildTags(BuildRecord build) =>
        new()
        {
            { ImageForgeTelemetry.Attributes.BuildId, build.Id },
            { ImageForgeTelemetry.Attributes.Image, build.Image },
            { ImageForgeTelemetry.Attributes.Target, build.Target },
            { ImageForgeTelemetry.Attributes.Trigger, DbName(build.Trigger) },
        };

    // Metrics leave the build id out (one series per build would grow without bound); spans keep it.
    private static TagList MetricTags(TagList tags, params (string Key, string Value)[] more)
    {
        var metric = new TagList();
        foreach (var tag in tags)
        {
            if (tag.Key != ImageForgeTelemetry.Attributes.BuildId)
            {
                metric.Add(tag);
            }
        }

        foreach (var (key, value) in more)
        {
            metric.Add(key, value);
        }

        return metric;
    }

    private static string DbName<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private BuildOutcome Ended(Activity? span, TagList tags, BuildOutcome outcome)
    {
        var status = DbName(outcome.Build.Status);
        var metric = MetricTags(tags, (ImageForgeTelemetry.Attributes.Outcome, status));
        ImageForgeTelemetry.BuildsEnded.Add(1, metric);
        ImageForgeTelemetry.BuildDuration.Record(
            ((outcome.Build.EndedAt ?? _time.GetUtcNow()) - outcome.Build.StartedAt).TotalSeconds,
            metric
        );
        if (span is null)
        {
            return outcome;
        }

        span.SetTag(ImageForgeTelemetry.Attributes.Outcome, status);
        if (outcome.Version is not null)
        {
            span.SetTag(ImageForgeTelemetry.Attributes.Version, outcome.Version.Version);
        }

        if (outcome.Build.Status == BuildStatus.Failed)
        {
            // The message is what the stored build shows (Packer's error text, already redacted).
            span.SetStatus(ActivityStatusCode.Error, outcome.Build.Message);
        }

        return outcome with
        {
            TraceParent = ImageForgeTelemetry.TraceParentOf(span),
        };
    }

    // Evidence names its version, so the number is reserved first (and given back if the build then fails).
    private async Task<TargetBuildResult> CollectEvidenceAsync(
        PreparedBuild prepared,
        string buildId,
        TargetBuildRequest request,
        TargetBuildResult result,
        Sink sink,
        CancellationToken cancellationToken
    )
    {
        if (_collectors.Count == 0)
        {
            return result;
        }

        var version = await _catalog.ReserveVersionAsync(
            buildId,
            _time.GetUtcNow(),
            cancellationToken
        );
        var evidence = new List<EvidenceDocument>(result.Evidence);
        var directory = Path.Combine(request.OutputDirectory, "evidence");
        Directory.CreateDirectory(directory);
        foreach (var collector in _collectors)
        {
            var spanTags = sink.Tags;
            spanTags.Add(ImageForgeTelemetry.Attributes.Collector, collector.Name);
            spanTags.Add(ImageForgeTelemetry.Attributes.Version, version);
            using var span = ImageForgeTelemetry.Source.StartActivity(
                ImageForgeTelemetry.Spans.Evidence,
                ActivityKind.Internal,
                default(ActivityContext),
                spanTags
            );
            sink.Progress("evidence", $"{collector.Name} for {prepared.Definition.Name}@{version}");
            var context = new EvidenceContext(
                prepared.Definition,
                prepared.Baseline,
                prepared.Target,
                version,
                buildId,
                result.Artifacts,
                evidence,
                directory,
                _time.GetUtcNow()
            )
            {
                Tools = result.Tools,
                BaseImage = _providers
                    .Get(prepared.Target.Provider)
                    .BaseImage(prepared.Definition, prepared.Target),
            };
            evidence.AddRange(await collector.CollectAsync(context, sink, cancellationToken));
        }

        return result with
        {
            Evidence = evidence,
        };
    }

    // The build worked either way; a failing gate decision only marks the version rejected (it keeps its evidence).
    private static VersionStatus VersionStatusFor(IReadOnlyList<EvidenceDocument> evidence) =>
        Gates.GateDecision.Current(evidence)?.Decision.Decision == Gates.GateOutcome.Fail
            ? VersionStatus.Rejected
            : VersionStatus.Built;

    private static bool SameFile(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    // Flushes buffered log lines to the catalog and watches for a cancel request from another process.
    private async Task PumpAsync(
        Sink sink,
        string buildId,
        CancellationTokenSource cancel,
        CancellationToken stop
    )
    {
        using var timer = new PeriodicTimer(FlushInterval, _time);
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await sink.FlushAsync();
                if (++tick % 2 == 0 && !cancel.IsCancellationRequested)
                {
                    var current = await _catalog.GetBuildAsync(buildId, stop);
                    if (current?.CancelRequested == true)
                    {
                        await cancel.CancelAsync();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (LeaseLostException)
        {
            // The build is another worker's now: stop its tools; the recording that follows is refused the same way.
            await cancel.CancelAsync();
        }
    }

    private sealed class Sink(
        BuildService service,
        string buildId,
        IBuildObserver observer,
        TagList tags
    ) : ITargetBuildSink
    {
        private readonly ConcurrentQueue<(DateTimeOffset, string, string)> _pending = new();
        private readonly DateTimeOffset _started = service._time.GetUtcNow();
        private readonly Lock _stageLock = new();
        private readonly ActivityContext _root = Activity.Current?.Context ?? default;
        private (string Name, Activity? Span, long Started)? _stage;

        public TagList Tags => tags;

        // While the target builder runs its stages follow one another: each marker of a new stage ends the last.
        public bool TrackStages { get; set; }

        public void EndStage()
        {
            lock (_stageLock)
            {
                TrackStages = false;
                if (_stage is not { } open)
                {
                    return;
                }

                _stage = null;
                ImageForgeTelemetry.StageDuration.Record(
                    Stopwatch.GetElapsedTime(open.Started).TotalSeconds,
                    MetricTags(tags, (ImageForgeTelemetry.Attributes.Stage, open.Name))
                );
                open.Span?.Dispose();
            }
        }

        private void Stage(string stage)
        {
            if (!TrackStages || _stage?.Name == stage)
            {
                return;
            }

            lock (_stageLock)
            {
                if (!TrackStages || _stage?.Name == stage)
                {
                    return;
                }

                EndStage();
                TrackStages = true;
                // Started beside the build's span, not as the current activity: markers arrive on the tool's
                // output loop, and the span must not become the parent of whatever that loop does next.
                var previous = Activity.Current;
                var spanTags = tags;
                spanTags.Add(ImageForgeTelemetry.Attributes.Stage, stage);
                var span = ImageForgeTelemetry.Source.StartActivity(
                    stage,
                    ActivityKind.Internal,
                    _root,
                    spanTags
                );
                Activity.Current = previous;
                _stage = (stage, span, Stopwatch.GetTimestamp());
            }
        }

        public void Progress(string stage, string detail)
        {
            Stage(stage);
            observer.Progress(stage, detail, service._time.GetUtcNow() - _started);
            _pending.Enqueue((service._time.GetUtcNow(), "step", $"{stage} | {detail}"));
        }

        public void Log(string stream, string text)
        {
            observer.Log(stream, text);
            _pending.Enqueue((service._time.GetUtcNow(), stream, text));
        }

        public void ToolStarted(int processGroup) =>
            service
                ._catalog.SetToolProcessGroupAsync(buildId, processGroup)
                .GetAwaiter()
                .GetResult();

        // Called by the pump and once at the end, never at the same time, so lines keep their order.
        public async Task FlushAsync()
        {
            var batch = new List<(DateTimeOffset, string, string)>();
            while (_pending.TryDequeue(out var line))
            {
                batch.Add(line);
            }

            if (batch.Count > 0)
            {
                await service._catalog.AppendLogAsync(buildId, batch, CancellationToken.None);
                observer.Stored(batch);
            }
        }
    }
}

/// <summary>One target of a build that imports the build's disk (<c>build: import</c>), with its importer.</summary>
public sealed record PreparedImport(
    TargetSpec Target,
    IImageImporter Importer,
    IReadOnlyDictionary<string, string> Secrets
)
{
    // The secret values are part of the record for the importer; never print them.
    public override string ToString() =>
        $"PreparedImport {{ Target = {Target.Provider}, Secrets = [{string.Join(", ", Secrets.Keys)}] }}";
}

/// <summary>Who owns the builds a <see cref="BuildService"/> runs, and how long each may take.</summary>
/// <param name="OwnerPid">The process recorded as the builds' owner (a dead owner's builds are reaped).</param>
/// <param name="Timeout">The longest a target build may run before it is stopped and recorded as failed.</param>
public sealed record BuildSettings(int OwnerPid, TimeSpan Timeout)
{
    /// <summary>How many imports into each provider may run at once in this process (the worker's limits).</summary>
    public ImportSlots Imports { get; init; } = ImportSlots.Unlimited;
}

/// <summary>A build command checked against the definitions: everything needed to run it.</summary>
public sealed record PreparedBuild(
    BuildCommand Command,
    ImageDefinition Definition,
    Baseline Baseline,
    TargetSpec Target,
    ContentPaths Content,
    IReadOnlyDictionary<string, string> Secrets,
    string Fingerprint
)
{
    /// <summary>The targets this build imports its disk into (<c>build: import</c>), in definition order.</summary>
    public IReadOnlyList<PreparedImport> Imports { get; init; } = [];

    /// <summary>Its target must boot under KVM (<see cref="ProviderModule.RequiresKvm"/>): queued, only a worker with KVM claims it.</summary>
    public bool RequiresKvm { get; init; }

    /// <summary>The build's targets as the build row names them: the disk's target, then every import (local,aws).</summary>
    public string Targets =>
        string.Join(',', [Target.Provider, .. Imports.Select(i => i.Target.Provider)]);

    // The secret values are part of the record for the builder; never print them.
    public override string ToString() =>
        $"PreparedBuild {{ Image = {Definition.Name}, Target = {Target.Provider}, Fingerprint = {Fingerprint}, Secrets = [{string.Join(", ", Secrets.Keys)}] }}";
}
