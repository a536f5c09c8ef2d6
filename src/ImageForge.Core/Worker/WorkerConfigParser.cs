using System.Globalization;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ImageForge.Core.Worker;

/// <summary>
/// Reads <c>worker.yaml</c> (docs/worker.md, "Configuration"). Every problem is reported with file:line, the field
/// path and what is expected; unknown keys are errors. A file that is absent, empty or only comments gives
/// <see cref="WorkerConfig.Default"/>.
/// </summary>
public static class WorkerConfigParser
{
    /// <summary>The webhook event types an endpoint may subscribe to (the worker's <c>WorkerEventTypes.All</c>).</summary>
    public static IReadOnlyList<string> EventTypes { get; } =
    [
        "build.finished",
        "gate.failed",
        "promoted",
        "rolled_back",
        "revoked",
        "policy.denied",
        "anomaly.raised",
    ];

    private const long MaxFileBytes = 256 * 1024;
    private const string DurationExpectation = "a duration like 30s, 10m, 6h or 1d";

    private static readonly IReadOnlyList<string> RootKeys =
    [
        "queue",
        "shutdown",
        "shutdown_timeout",
        "schedules",
        "cve_rescan",
        "webhooks",
        "database",
        "artifacts",
        "name",
    ];
    private static readonly IReadOnlyList<string> QueueKeys =
    [
        "limits",
        "lease",
        "max_attempts",
        "capacity",
        "providers",
    ];
    private static readonly IReadOnlyList<string> ScheduleKeys = ["misfire_grace"];
    private static readonly IReadOnlyList<string> CveRescanKeys = ["interval"];
    private static readonly IReadOnlyList<string> WebhookKeys = ["max_attempts", "endpoints"];
    private static readonly IReadOnlyList<string> EndpointKeys = ["url", "events", "secret_env"];
    private static readonly IReadOnlyList<string> ShutdownModes = ["cancel", "finish"];

    /// <summary>
    /// Reads the file at <paramref name="path"/>. A missing file is an error (the user named it with
    /// <c>--config</c>); use <see cref="LoadOrDefault"/> for the optional <c>worker.yaml</c> of the content root.
    /// Throws <see cref="InvalidInputException"/> carrying every problem. <paramref name="providers"/> are the
    /// provider names <c>queue.limits</c> may name.
    /// </summary>
    public static WorkerConfig Load(string path, IReadOnlyList<string> providers)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException([
                new InputProblem(
                    path,
                    0,
                    YamlTreeReader.DocumentField,
                    "the worker configuration file does not exist; check the --config path (or leave --config out to use worker.yaml in the content root, if any)"
                ),
            ]);
        }
        return Parse(ReadText(path), path, providers);
    }

    /// <summary>Reads the file at <paramref name="path"/> when it exists, else returns the defaults.</summary>
    public static WorkerConfig LoadOrDefault(string path, IReadOnlyList<string> providers) =>
        File.Exists(path) ? Parse(ReadText(path), path, providers) : WorkerConfig.Default;

    /// <summary>
    /// Parses the text of a worker configuration named <paramref name="file"/> in problems. Throws
    /// <see cref="InvalidInputException"/> carrying every problem.
    /// </summary>
    public static WorkerConfig Parse(string text, string file, IReadOnlyList<string> providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        if (HasNoDocument(text))
        {
            return WorkerConfig.Default;
        }

        var problems = new List<InputProblem>();
        var sink = new ProblemSink(file, problems);
        var root = YamlTreeReader.Read(text, sink);
        var config = root is null ? null : Read(root, sink, providers);
        if (problems.Count > 0 || config is null)
        {
            throw new InvalidInputException(problems);
        }
        return config;
    }

    private static string ReadText(string path)
    {
        var read = TextInput.ReadUtf8(path, MaxFileBytes, "a worker configuration is a few lines");
        return read.Text
            ?? throw new InvalidInputException([
                new InputProblem(path, read.Line, YamlTreeReader.DocumentField, read.Problem!),
            ]);
    }

    private static InvalidInputException Problem(string path, string message) =>
        new([new InputProblem(path, 0, YamlTreeReader.DocumentField, message)]);

    /// <summary>True for text with no YAML document at all (empty, blank or only comments).</summary>
    private static bool HasNoDocument(string text)
    {
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            return parser.Accept<StreamEnd>(out _);
        }
        catch (YamlException)
        {
            // Reported with its line by the tree reader.
            return false;
        }
    }

    private static WorkerConfig? Read(
        YNode root,
        ProblemSink problems,
        IReadOnlyList<string> providers
    )
    {
        var map = MappingReader.Open(
            root,
            "",
            "a mapping of worker settings (" + string.Join(", ", RootKeys) + ")",
            problems,
            RootKeys
        );
        if (map is null)
        {
            return null;
        }

        var defaults = WorkerConfig.Default;
        var (limits, lease, maxAttempts, capacity, claims) = ReadQueue(map, providers);
        var shutdown = ReadShutdown(map);
        var shutdownTimeout = ReadDuration(
            map,
            "shutdown_timeout",
            defaults.ShutdownTimeout,
            allowZero: false
        );
        var misfireGrace = ReadSection(
            map,
            "schedules",
            "a mapping with misfire_grace",
            ScheduleKeys,
            section =>
                ReadDuration(section, "misfire_grace", defaults.MisfireGrace, allowZero: true)
        );
        var cveInterval = ReadSection(
            map,
            "cve_rescan",
            "a mapping with interval",
            CveRescanKeys,
            section =>
                ReadDuration(section, "interval", defaults.CveRescanInterval, allowZero: false)
        );
        var webhooks = ReadWebhooks(map);
        var database = ReadDatabase(map);
        var artifacts = ReadArtifacts(map);

        return new WorkerConfig
        {
            Database = database,
            Artifacts = artifacts,
            Name = map.OptionalScalar(
                "name",
                "the worker's name as imageforge workers lists it, e.g. build-01"
            ),
            QueueLimits = limits,
            Lease = lease ?? defaults.Lease,
            MaxAttempts = maxAttempts ?? defaults.MaxAttempts,
            Capacity = capacity,
            Providers = claims,
            Shutdown = shutdown ?? defaults.Shutdown,
            ShutdownTimeout = shutdownTimeout ?? defaults.ShutdownTimeout,
            MisfireGrace = misfireGrace ?? defaults.MisfireGrace,
            CveRescanInterval = cveInterval ?? defaults.CveRescanInterval,
            Webhooks = webhooks,
        };
    }

    /// <summary>Opens an optional sub-mapping and reads it; the default (null) when it is absent or malformed.</summary>
    private static T? ReadSection<T>(
        MappingReader map,
        string key,
        string expectation,
        IReadOnlyList<string> keys,
        Func<MappingReader, T?> read
    )
        where T : struct
    {
        var node = map.Get(key);
        if (node is null)
        {
            return null;
        }
        var section = MappingReader.Open(node, map.PathOf(key), expectation, map.Problems, keys);
        return section is null ? null : read(section);
    }

    private static (
        Dictionary<string, int> Limits,
        TimeSpan? Lease,
        int? MaxAttempts,
        int? Capacity,
        IReadOnlyList<string>? Providers
    ) ReadQueue(MappingReader map, IReadOnlyList<string> providers)
    {
        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        var queueNode = map.Get("queue");
        if (queueNode is null)
        {
            return (limits, null, null, null, null);
        }
        var queue = MappingReader.Open(
            queueNode,
            "queue",
            "a mapping with limits, lease and max_attempts, e.g. limits: { local: 1, aws: 4 }",
            map.Problems,
            QueueKeys
        );
        if (queue is null)
        {
            return (limits, null, null, null, null);
        }

        var lease = ReadDuration(queue, "lease", WorkerConfig.Default.Lease, allowZero: false);
        var maxAttempts = ReadCount(
            queue,
            "max_attempts",
            "a whole number of claims, 1 or more",
            min: 1
        );
        var capacity = ReadCount(
            queue,
            "capacity",
            "a whole number of builds this worker runs at once, 1 or more",
            min: 1
        );
        ReadLimits(queue, providers, limits);
        return (limits, lease, maxAttempts, capacity, ReadProviders(queue, providers));
    }

    private static void ReadLimits(
        MappingReader queue,
        IReadOnlyList<string> providers,
        Dictionary<string, int> limits
    )
    {
        var limitsNode = queue.Get("limits");
        if (limitsNode is null)
        {
            return;
        }
        var table = MappingReader.Open(
            limitsNode,
            queue.PathOf("limits"),
            "a mapping of provider to how many of its builds may run at once, e.g. { local: 1, aws: 4 }",
            queue.Problems,
            providers
        );
        if (table is null)
        {
            return;
        }
        foreach (var (key, _) in table.Entries)
        {
            if (!providers.Contains(key.Value, StringComparer.Ordinal))
            {
                continue; // reported as an unknown key when the mapping was opened
            }
            var count = ReadCount(table, key.Value, "a whole number of builds, 1 or more", min: 1);
            if (count is not null)
            {
                limits[key.Value] = count.Value;
            }
        }
    }

    private static string? ReadDatabase(MappingReader map)
    {
        var text = map.OptionalScalar(
            "database",
            "a PostgreSQL connection string without the password, e.g. Host=db.example.com;Username=imageforge;Database=imageforge"
        );
        if (text is not null && Patterns.ConnectionStringPassword().IsMatch(text))
        {
            // Do not echo the value: it holds the password.
            map.Problems.Add(
                map.LineOf("database"),
                "database",
                "the connection string holds a password, and worker.yaml is no place for secrets: remove it and give it in PGPASSWORD or ~/.pgpass (or give the whole connection string in IMAGEFORGE_DATABASE instead), then rotate it"
            );
            return null;
        }

        return text;
    }

    private static string? ReadArtifacts(MappingReader map)
    {
        var text = map.OptionalScalar(
            "artifacts",
            "the absolute path of the artifact store every worker shares, e.g. /shared/imageforge"
        );
        if (text is not null && !Path.IsPathFullyQualified(text))
        {
            map.Problems.Add(
                map.LineOf("artifacts"),
                "artifacts",
                $"'{text}' is not an absolute path; give the shared directory's full path, e.g. /shared/imageforge"
            );
            return null;
        }

        return text;
    }

    private static ShutdownMode? ReadShutdown(MappingReader map)
    {
        var text = map.OptionalScalar("shutdown", "cancel or finish");
        switch (text)
        {
            case null:
                return null;
            case "cancel":
                return ShutdownMode.Cancel;
            case "finish":
                return ShutdownMode.Finish;
            default:
                map.Problems.Add(
                    map.LineOf("shutdown"),
                    "shutdown",
                    MappingReader.UnknownMessage("value", text, ShutdownModes)
                );
                return null;
        }
    }

    private static WebhookSettings ReadWebhooks(MappingReader map)
    {
        var node = map.Get("webhooks");
        if (node is null)
        {
            return WebhookSettings.Default;
        }
        var webhooks = MappingReader.Open(
            node,
            "webhooks",
            "a mapping with max_attempts and endpoints",
            map.Problems,
            WebhookKeys
        );
        if (webhooks is null)
        {
            return WebhookSettings.Default;
        }

        var maxAttempts = webhooks.Get("max_attempts") is null
            ? WebhookSettings.DefaultMaxAttempts
            : ReadCount(webhooks, "max_attempts", "a whole number of attempts, 1 or more", min: 1)
                ?? WebhookSettings.DefaultMaxAttempts;

        var endpoints = new List<WebhookEndpoint>();
        var endpointsNode = webhooks.Get("endpoints");
        var items = endpointsNode is null
            ? null
            : Schema.List(
                endpointsNode,
                webhooks.PathOf("endpoints"),
                "endpoints, each with url, events and secret_env",
                map.Problems
            );
        var urls = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (item, path) in items ?? [])
        {
            var endpoint = ReadEndpoint(item, path, map.Problems);
            if (endpoint is null)
            {
                continue;
            }
            if (urls.TryGetValue(endpoint.Url.AbsoluteUri, out var firstLine))
            {
                map.Problems.Add(
                    item.Line,
                    path + ".url",
                    $"the URL '{endpoint.Url}' is already an endpoint (line {firstLine}); list it once with every event it takes"
                );
                continue;
            }
            urls[endpoint.Url.AbsoluteUri] = item.Line;
            endpoints.Add(endpoint);
        }
        return new WebhookSettings(maxAttempts, endpoints);
    }

    private static WebhookEndpoint? ReadEndpoint(YNode node, string path, ProblemSink problems)
    {
        var endpoint = MappingReader.Open(
            node,
            path,
            "an endpoint mapping with url, events and secret_env",
            problems,
            EndpointKeys
        );
        if (endpoint is null)
        {
            return null;
        }

        var url = ReadUrl(endpoint);
        var events = ReadEvents(endpoint);
        var secretEnv = ReadSecretEnv(endpoint);
        return url is null || events is null || secretEnv is null
            ? null
            : new WebhookEndpoint(url, events, secretEnv);
    }

    private static Uri? ReadUrl(MappingReader endpoint)
    {
        const string expectation =
            "an absolute http or https URL, e.g. https://hooks.example.com/imageforge";
        var text = endpoint.RequireScalar("url", expectation);
        if (text is null)
        {
            return null;
        }
        if (
            !Uri.TryCreate(text, UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        )
        {
            endpoint.Problems.Add(
                endpoint.LineOf("url"),
                endpoint.PathOf("url"),
                $"expected {expectation}, found '{text}'"
            );
            return null;
        }
        if (url.UserInfo.Length > 0)
        {
            // The URL is stored in the delivery log and shown by `webhooks log`: no credentials in it.
            endpoint.Problems.Add(
                endpoint.LineOf("url"),
                endpoint.PathOf("url"),
                "the URL carries a user name or password, which would be stored in the delivery log; remove it and let the receiver check the X-ImageForge-Signature header (secret from secret_env)"
            );
            return null;
        }
        return url;
    }

    // queue.providers: the providers whose builds this worker claims (a subset of those it can build).
    private static List<string>? ReadProviders(MappingReader queue, IReadOnlyList<string> providers)
    {
        var node = queue.Get("providers");
        return node is null
            ? null
            : ReadKnownNames(
                queue,
                "providers",
                node,
                providers,
                "provider",
                "a provider",
                $"the list is empty: name the providers whose builds this worker takes ({string.Join(", ", providers)}), or remove the key for all"
            );
    }

    private static List<string>? ReadEvents(MappingReader endpoint)
    {
        var expectation = "a list of event types: " + string.Join(", ", EventTypes);
        var node = endpoint.Require("events", expectation);
        return node is null
            ? null
            : ReadKnownNames(
                endpoint,
                "events",
                node,
                EventTypes,
                "event type",
                "an event type",
                $"the list is empty: expected at least one event type ({string.Join(", ", EventTypes)}), or remove the endpoint"
            );
    }

    // A non-empty list of names, each one of `known` and none twice; null (with the problems) otherwise.
    private static List<string>? ReadKnownNames(
        MappingReader map,
        string key,
        YNode node,
        IReadOnlyList<string> known,
        string noun,
        string itemExpectation,
        string whenEmpty
    )
    {
        var items = Schema.ScalarList(
            node,
            map.PathOf(key),
            $"{noun}s ({string.Join(", ", known)})",
            itemExpectation,
            map.Problems
        );
        if (items is null)
        {
            return null;
        }
        var before = map.Problems.Count;
        if (items.Count == 0)
        {
            map.Problems.Add(map.LineOf(key), map.PathOf(key), whenEmpty);
        }
        foreach (var (value, line, path) in items)
        {
            if (!known.Contains(value, StringComparer.Ordinal))
            {
                map.Problems.Add(line, path, MappingReader.UnknownMessage(noun, value, known));
            }
        }
        Schema.ReportRepeats(items, noun, map.Problems);
        return map.Problems.Count == before ? [.. items.Select(i => i.Value)] : null;
    }

    private static string? ReadSecretEnv(MappingReader endpoint)
    {
        const string expectation =
            "the NAME of the environment variable holding the signing secret, e.g. IMAGEFORGE_WEBHOOK_SECRET (never the secret itself)";
        var text = endpoint.RequireScalar("secret_env", expectation);
        if (text is null)
        {
            return null;
        }
        if (!Patterns.EnvironmentVariable().IsMatch(text))
        {
            // Do not echo the value: someone may have pasted the secret itself here.
            endpoint.Problems.Add(
                endpoint.LineOf("secret_env"),
                endpoint.PathOf("secret_env"),
                $"expected {expectation}: upper-case letters, digits and '_', not starting with a digit. If you pasted the secret here, remove it from the file and rotate it"
            );
            return null;
        }
        return text;
    }

    private static int? ReadCount(MappingReader map, string key, string expectation, int min)
    {
        var text = map.OptionalScalar(key, expectation);
        if (text is null)
        {
            return null;
        }
        if (
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value >= min
        )
        {
            return value;
        }
        map.Problems.Add(
            map.LineOf(key),
            map.PathOf(key),
            $"expected {expectation}, found '{text}'"
        );
        return null;
    }

    private static TimeSpan? ReadDuration(
        MappingReader map,
        string key,
        TimeSpan byDefault,
        bool allowZero
    )
    {
        var expectation = allowZero ? DurationExpectation : DurationExpectation + ", above 0";
        var text = map.OptionalScalar(key, expectation);
        if (text is null)
        {
            return byDefault;
        }
        if (
            !Durations.TryParse(text, out var duration) || (duration == TimeSpan.Zero && !allowZero)
        )
        {
            map.Problems.Add(
                map.LineOf(key),
                map.PathOf(key),
                $"expected {expectation}, found '{text}'"
            );
            return null;
        }
        return duration;
    }
}
