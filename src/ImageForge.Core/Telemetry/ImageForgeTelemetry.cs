using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ImageForge.Core.Telemetry;

/// <summary>
/// The one place that names ImageForge's telemetry: the <see cref="ActivitySource"/> and <see cref="Meter"/> the
/// code that does the work reports to, their span and instrument names, and the attribute keys. The hosts
/// (<c>imageforge worker</c>, and the command line when an OTLP endpoint is set) subscribe to
/// <see cref="Name"/> with the OpenTelemetry SDK; with no subscriber, starting a span returns null and recording a
/// measurement does nothing, so telemetry off costs a null check.
/// </summary>
public static class ImageForgeTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "ImageForge";

    /// <summary>Where spans are started.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Where instruments are created.</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>Span names (low cardinality: what varies goes to attributes).</summary>
    public static class Spans
    {
        /// <summary>The root span of one build, from its start to its recorded end.</summary>
        public const string Build = "build";

        /// <summary>Publishing a build's end to the webhooks (so their deliveries continue its trace).</summary>
        public const string BuildPublish = "build.publish";

        /// <summary>Importing a build's disk into one target (<c>build: import</c>).</summary>
        public const string Import = "import";

        /// <summary>One evidence collector (compliance, SBOM, scans, gate, provenance signing).</summary>
        public const string Evidence = "evidence";

        /// <summary>One webhook delivery attempt.</summary>
        public const string WebhookDelivery = "webhook.deliver";

        /// <summary>A promotion of a version into a channel, from its rules to the channel's move.</summary>
        public const string Promotion = "promotion";

        /// <summary>One target and region of a promotion (publishing there).</summary>
        public const string PromotionStep = "promotion.step";

        /// <summary>A channel moved back.</summary>
        public const string Rollback = "rollback";

        /// <summary>A revocation, now or scheduled, with its providers' deprecations.</summary>
        public const string Revocation = "revocation";

        /// <summary>One target's deprecation of a revoked version's images.</summary>
        public const string RevocationStep = "revocation.step";
    }

    /// <summary>Attribute keys of spans, metrics and log records.</summary>
    public static class Attributes
    {
        public const string BuildId = "imageforge.build.id";
        public const string Image = "imageforge.image";
        public const string Version = "imageforge.version";
        public const string Target = "imageforge.target";
        public const string Region = "imageforge.region";
        public const string Trigger = "imageforge.trigger";
        public const string Stage = "imageforge.stage";
        public const string Step = "imageforge.step";
        public const string Outcome = "imageforge.outcome";
        public const string Collector = "imageforge.collector";
        public const string EventType = "imageforge.event.type";
        public const string LogStream = "imageforge.log.stream";
        public const string Channel = "imageforge.channel";
        public const string Gate = "imageforge.gate";
        public const string Rule = "imageforge.gate.rule";
        public const string Severity = "imageforge.severity";
    }

    /// <summary>Instrument names (units are given where they are created).</summary>
    public static class Metrics
    {
        public const string BuildsStarted = "imageforge.builds.started";
        public const string BuildsEnded = "imageforge.builds.ended";
        public const string BuildDuration = "imageforge.build.duration";
        public const string StageDuration = "imageforge.build.stage.duration";
        public const string QueueDepth = "imageforge.queue.depth";
        public const string QueueWait = "imageforge.queue.wait";
        public const string WebhookAttempts = "imageforge.webhook.attempts";
        public const string GateDecisions = "imageforge.gate.decisions";
        public const string GateRulesNotMet = "imageforge.gate.rules_not_met";
        public const string PromotionSteps = "imageforge.promotion.steps";
        public const string ScheduleFirings = "imageforge.schedule.firings";
        public const string PromotedFindings = "imageforge.findings.promoted";
    }

    /// <summary>Builds opened, by image, target and trigger.</summary>
    public static readonly Counter<long> BuildsStarted = Meter.CreateCounter<long>(
        Metrics.BuildsStarted,
        "{build}",
        "Builds started"
    );

    /// <summary>Builds recorded as ended, by image, target, trigger and outcome (the build status).</summary>
    public static readonly Counter<long> BuildsEnded = Meter.CreateCounter<long>(
        Metrics.BuildsEnded,
        "{build}",
        "Builds ended, by outcome"
    );

    /// <summary>How long builds took from their start to their recorded end.</summary>
    public static readonly Histogram<double> BuildDuration = Meter.CreateHistogram<double>(
        Metrics.BuildDuration,
        "s",
        "Build duration"
    );

    /// <summary>How long each stage of the target build took (prepare, packer, bootstrap, harden, ...).</summary>
    public static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>(
        Metrics.StageDuration,
        "s",
        "Duration of one stage of a build"
    );

    /// <summary>How long a queued build waited until the worker claimed it.</summary>
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(
        Metrics.QueueWait,
        "s",
        "Time from queueing a build to its start"
    );

    /// <summary>Webhook delivery attempts, by event type and outcome (delivered, failed).</summary>
    public static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>(
        Metrics.WebhookAttempts,
        "{attempt}",
        "Webhook delivery attempts by outcome"
    );

    /// <summary>Gate decisions, by image, target and outcome (pass, warn, fail).</summary>
    public static readonly Counter<long> GateDecisions = Meter.CreateCounter<long>(
        Metrics.GateDecisions,
        "{decision}",
        "Gate decisions by outcome"
    );

    /// <summary>Gate rules not met, by gate, rule and outcome (warn, fail): which rule rejects versions.</summary>
    public static readonly Counter<long> GateRulesNotMet = Meter.CreateCounter<long>(
        Metrics.GateRulesNotMet,
        "{rule}",
        "Gate rules not met, by gate and rule"
    );

    /// <summary>Promotion steps run, by target, region and outcome (succeeded, failed).</summary>
    public static readonly Counter<long> PromotionSteps = Meter.CreateCounter<long>(
        Metrics.PromotionSteps,
        "{step}",
        "Promotion steps by outcome"
    );

    /// <summary>Schedule firings recorded, by image, target and outcome (queued, skipped, misfired, invalid).</summary>
    public static readonly Counter<long> ScheduleFirings = Meter.CreateCounter<long>(
        Metrics.ScheduleFirings,
        "{firing}",
        "Schedule firings by outcome, skips and misfires included"
    );

    /// <summary>
    /// Runs a promotion operation (promotion, rollback, revocation) on <paramref name="image"/> in a span of its own;
    /// <paramref name="ended"/> tags the span with what came of it (the span is null when nobody listens). An
    /// exception ends the span as an error, with the exception's type and never its message.
    /// </summary>
    public static async Task<T> TraceAsync<T>(
        string name,
        string image,
        string? version,
        string? channel,
        Func<Task<T>> run,
        Action<Activity?, T> ended
    )
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(ended);
        using var span = Source.StartActivity(name, ActivityKind.Internal);
        span?.SetTag(Attributes.Image, image);
        span?.SetTag(Attributes.Version, version);
        span?.SetTag(Attributes.Channel, channel);
        try
        {
            var result = await run();
            ended(span, result);
            return result;
        }
        catch (Exception e)
        {
            span?.SetTag(Attributes.Outcome, "error");
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }
    }

    /// <summary>Starts the span of one step of an operation: a target, and a region when the step has one.</summary>
    public static Activity? StartStep(string name, string target, string? region)
    {
        var span = Source.StartActivity(name, ActivityKind.Internal);
        span?.SetTag(Attributes.Target, target);
        span?.SetTag(Attributes.Region, region);
        return span;
    }

    /// <summary>
    /// Ends a step's span with its outcome (<c>succeeded</c>, or <c>failed</c> with an error status) and returns that
    /// outcome's name, which the step's counter and audit event use too.
    /// </summary>
    public static string StepEnded(Activity? span, bool succeeded)
    {
        var outcome = succeeded ? "succeeded" : "failed";
        span?.SetTag(Attributes.Outcome, outcome);
        if (!succeeded)
        {
            span?.SetStatus(ActivityStatusCode.Error);
        }
        return outcome;
    }

    /// <summary>The W3C <c>traceparent</c> of an activity, or null when there is none or it is not W3C.</summary>
    public static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;

    /// <summary>The context a recorded <c>traceparent</c> names (remote), or default when it names none.</summary>
    public static ActivityContext ParentFrom(string? traceParent) =>
        traceParent is not null
        && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context)
            ? context
            : default;
}
