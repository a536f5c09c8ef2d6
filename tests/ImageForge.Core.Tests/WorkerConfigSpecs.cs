using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests;

public sealed class WorkerConfigSpecs
{
    private const string File = "/etc/imageforge/worker.yaml";

    /// <summary>The example of docs/worker.md, "Configuration: worker.yaml", as the user copies it.</summary>
    private static string DocumentedExample()
    {
        var doc = System.IO.File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "worker.md"));
        var section = doc[
            doc.IndexOf("## Configuration: `worker.yaml`", StringComparison.Ordinal)..
        ];
        var start = section.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        var end = section.IndexOf("```", start, StringComparison.Ordinal);
        return section[start..end];
    }

    private static IReadOnlyList<InputProblem> ProblemsOf(string yaml) =>
        Should
            .Throw<InvalidInputException>(() =>
                WorkerConfigParser.Parse(yaml, File, TestProviders.Names)
            )
            .Problems;

    private static InputProblem ShouldHaveProblem(
        string yaml,
        int line,
        string field,
        params string[] messageParts
    )
    {
        var problems = ProblemsOf(yaml);
        var all = string.Join(Environment.NewLine, problems);
        var matching = problems.Where(p => p.Field == field).ToList();
        matching.Count.ShouldBe(
            1,
            $"expected one problem for '{field}'; problems:{Environment.NewLine}{all}"
        );
        var problem = matching[0];
        problem.File.ShouldBe(File);
        problem.Line.ShouldBe(line, $"line of {problem}");
        foreach (var part in messageParts)
        {
            problem.Message.ShouldContain(part, Case.Sensitive, $"message of {problem}");
        }
        return problem;
    }

    [Fact]
    public void The_documented_example_reads_into_every_setting()
    {
        var config = WorkerConfigParser.Parse(DocumentedExample(), File, TestProviders.Names);

        config.QueueLimits.ShouldBe(
            new Dictionary<string, int>
            {
                ["local"] = 1,
                ["aws"] = 4,
                ["azure"] = 4,
                ["gcp"] = 4,
            },
            ignoreOrder: true
        );
        config.Name.ShouldBe("build-01");
        config.Lease.ShouldBe(TimeSpan.FromSeconds(60));
        config.MaxAttempts.ShouldBe(3);
        config.Capacity.ShouldBe(4);
        config.Providers.ShouldBe(["local", "aws", "azure", "gcp"]);
        config.Shutdown.ShouldBe(ShutdownMode.Cancel);
        config.ShutdownTimeout.ShouldBe(TimeSpan.FromMinutes(30));
        config.MisfireGrace.ShouldBe(TimeSpan.FromHours(6));
        config.CveRescanInterval.ShouldBe(TimeSpan.FromHours(6));
        config.Webhooks.MaxAttempts.ShouldBe(8);
        var endpoint = config.Webhooks.Endpoints.ShouldHaveSingleItem();
        endpoint.Url.ShouldBe(new Uri("https://hooks.example.com/imageforge"));
        endpoint.Events.ShouldBe(WorkerConfigParser.EventTypes);
        endpoint.SecretEnv.ShouldBe("IMAGEFORGE_WEBHOOK_SECRET");
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("# everything commented out\n# shutdown: finish\n")]
    public void An_empty_file_gives_the_defaults(string yaml)
    {
        WorkerConfigParser.Parse(yaml, File, TestProviders.Names).ShouldBe(WorkerConfig.Default);
    }

    [Fact]
    public void Absent_fields_take_their_defaults()
    {
        var config = WorkerConfigParser.Parse("shutdown: finish\n", File, TestProviders.Names);

        config.Shutdown.ShouldBe(ShutdownMode.Finish);
        config.QueueLimits.ShouldBeEmpty();
        config.ShutdownTimeout.ShouldBe(TimeSpan.FromMinutes(30));
        config.MisfireGrace.ShouldBe(TimeSpan.FromHours(6));
        config.CveRescanInterval.ShouldBe(TimeSpan.FromHours(6));
        config.Webhooks.MaxAttempts.ShouldBe(8);
        config.Webhooks.Endpoints.ShouldBeEmpty();
    }

    [Fact]
    public void A_missing_optional_file_gives_the_defaults_and_a_missing_named_file_is_an_error()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("worker.yaml");

        WorkerConfigParser.LoadOrDefault(path, TestProviders.Names).ShouldBe(WorkerConfig.Default);
        var problem = Should
            .Throw<InvalidInputException>(() => WorkerConfigParser.Load(path, TestProviders.Names))
            .Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe(path);
        problem.Message.ShouldContain("does not exist");
    }

    [Fact]
    public void A_file_on_disk_is_read_with_its_path_in_problems()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("worker.yaml");
        System.IO.File.WriteAllText(path, "cve_rescan:\n  interval: 12h\nshutdown: later\n");

        WorkerConfigParser
            .Parse("cve_rescan:\n  interval: 12h\n", path, TestProviders.Names)
            .CveRescanInterval.ShouldBe(TimeSpan.FromHours(12));
        var problem = Should
            .Throw<InvalidInputException>(() =>
                WorkerConfigParser.LoadOrDefault(path, TestProviders.Names)
            )
            .Problems.ShouldHaveSingleItem();
        problem.ToString().ShouldStartWith($"{path}:3: shutdown: unknown value 'later'");
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("10m", 600)]
    [InlineData("6h", 21600)]
    [InlineData("1d", 86400)]
    public void Durations_take_seconds_minutes_hours_and_days(string text, int seconds)
    {
        var config = WorkerConfigParser.Parse(
            $"shutdown_timeout: {text}\n",
            File,
            TestProviders.Names
        );

        config.ShutdownTimeout.ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public void A_zero_misfire_grace_means_never_catch_up()
    {
        WorkerConfigParser
            .Parse("schedules:\n  misfire_grace: 0m\n", File, TestProviders.Names)
            .MisfireGrace.ShouldBe(TimeSpan.Zero);
    }

    [Theory]
    [InlineData(
        "shutdown_timeout: 30 minutes\n",
        1,
        "shutdown_timeout",
        "a duration like 30s, 10m, 6h or 1d"
    )]
    [InlineData("shutdown_timeout: 0s\n", 1, "shutdown_timeout", "above 0", "'0s'")]
    [InlineData("schedules:\n  misfire_grace: soon\n", 2, "schedules.misfire_grace", "a duration")]
    [InlineData("cve_rescan:\n  interval: 1w\n", 2, "cve_rescan.interval", "a duration", "'1w'")]
    [InlineData("cve_rescan:\n  interval: [6h]\n", 2, "cve_rescan.interval", "found a list")]
    [InlineData("shutdown: abort\n", 1, "shutdown", "unknown value 'abort'", "cancel, finish")]
    [InlineData("shutdown: finsh\n", 1, "shutdown", "did you mean 'finish'?")]
    [InlineData("queue:\n  limits: { local: 0 }\n", 2, "queue.limits.local", "1 or more", "'0'")]
    [InlineData("queue:\n  limits: { aws: two }\n", 2, "queue.limits.aws", "a whole number")]
    [InlineData(
        "queue:\n  limits: { gpc: 2 }\n",
        2,
        "queue.limits.gpc",
        "unknown key 'gpc'",
        "did you mean 'gcp'?"
    )]
    [InlineData("queue:\n  limits: 4\n", 2, "queue.limits", "a mapping of provider")]
    [InlineData("queue:\n  lease: 0s\n", 2, "queue.lease", "above 0", "'0s'")]
    [InlineData("queue:\n  lease: forever\n", 2, "queue.lease", "a duration")]
    [InlineData("queue:\n  max_attempts: 0\n", 2, "queue.max_attempts", "1 or more", "'0'")]
    [InlineData("name: [a, b]\n", 1, "name", "found a list")]
    [InlineData("queue:\n  capacity: 0\n", 2, "queue.capacity", "1 or more")]
    [InlineData(
        "queue:\n  providers: [gpc]\n",
        2,
        "queue.providers[0]",
        "unknown provider 'gpc'",
        "did you mean 'gcp'?"
    )]
    [InlineData("queue:\n  providers: []\n", 2, "queue.providers", "the list is empty")]
    [InlineData("queue:\n  limit: { aws: 2 }\n", 2, "queue.limit", "unknown key 'limit'")]
    [InlineData("webhooks:\n  max_attempts: 0\n", 2, "webhooks.max_attempts", "1 or more")]
    [InlineData("webhooks:\n  retries: 3\n", 2, "webhooks.retries", "unknown key", "max_attempts")]
    [InlineData(
        "webhook:\n  max_attempts: 3\n",
        1,
        "webhook",
        "unknown key 'webhook'",
        "did you mean 'webhooks'?"
    )]
    [InlineData("shutdown: cancel\nshutdown: finish\n", 2, "shutdown", "duplicate key", "line 1")]
    [InlineData("- queue\n", 1, "(file)", "expected a mapping of worker settings")]
    [InlineData("queue: [\n", 2, "(file)", "YAML syntax error")]
    public void A_bad_setting_is_a_problem_at_its_line(
        string yaml,
        int line,
        string field,
        params string[] message
    )
    {
        ShouldHaveProblem(yaml, line, field, message);
    }

    [Fact]
    public void A_database_connection_string_without_a_password_is_the_PostgreSQL_catalog()
    {
        const string yaml =
            "database: Host=db.example.com;Username=imageforge;Database=imageforge\n";

        var config = WorkerConfigParser.Parse(yaml, File, TestProviders.Names);

        config.Database.ShouldBe("Host=db.example.com;Username=imageforge;Database=imageforge");
        WorkerConfigParser.Parse("", File, TestProviders.Names).Database.ShouldBeNull();
    }

    [Theory]
    [InlineData("database: Host=db;Username=imageforge;Password=hunter2\n")]
    [InlineData("database: \"Host=db; pwd = hunter2\"\n")]
    [InlineData("database: \"PASSWORD=hunter2;Host=db\"\n")]
    public void A_database_connection_string_with_a_password_is_refused_without_repeating_it(
        string yaml
    )
    {
        var problem = ShouldHaveProblem(yaml, 1, "database", "no place for secrets", "PGPASSWORD");

        problem.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public void Artifacts_names_the_shared_artifact_store_by_its_absolute_path()
    {
        var config = WorkerConfigParser.Parse(
            "artifacts: /shared/imageforge\n",
            File,
            TestProviders.Names
        );

        config.Artifacts.ShouldBe("/shared/imageforge");
        WorkerConfigParser.Parse("", File, TestProviders.Names).Artifacts.ShouldBeNull();
    }

    [Fact]
    public void A_relative_artifacts_path_is_refused()
    {
        ShouldHaveProblem(
            "artifacts: shared/imageforge\n",
            1,
            "artifacts",
            "'shared/imageforge' is not an absolute path",
            "/shared/imageforge"
        );
    }

    private const string Endpoint = """
        webhooks:
          endpoints:
            - url: https://hooks.example.com/a
              events: [build.finished]
              secret_env: HOOK_A_SECRET
        """;

    [Theory]
    [InlineData(
        "url: ftp://hooks.example.com/a",
        3,
        "url",
        "an absolute http or https URL",
        "'ftp://"
    )]
    [InlineData("url: /relative/path", 3, "url", "an absolute http or https URL")]
    [InlineData("url: https://user:pw@hooks.example.com/a", 3, "url", "user name or password")]
    [InlineData("events: []", 4, "events", "at least one event type")]
    [InlineData(
        "events: [build.finished, promote]",
        4,
        "events[1]",
        "unknown event type 'promote'",
        "did you mean 'promoted'?"
    )]
    [InlineData("events: [revoked, revoked]", 4, "events[1]", "listed twice")]
    [InlineData("events: build.finished", 4, "events", "expected a list of event types")]
    [InlineData("secret_env: hook-a", 5, "secret_env", "environment variable", "rotate it")]
    [InlineData("secret_env:", 5, "secret_env", "'secret_env' is empty")]
    public void A_bad_endpoint_field_is_a_problem_at_its_line(
        string replacement,
        int line,
        string field,
        params string[] message
    )
    {
        var key = replacement[..(replacement.IndexOf(':', StringComparison.Ordinal) + 1)];
        var yaml =
            string.Join(
                '\n',
                Endpoint
                    .Split('\n')
                    .Select(l =>
                        l.TrimStart(' ', '-').StartsWith(key, StringComparison.Ordinal)
                            ? l[..(l.Length - l.TrimStart(' ', '-').Length)] + replacement
                            : l
                    )
            ) + "\n";

        ShouldHaveProblem(yaml, line, "webhooks.endpoints[0]." + field, message);
    }

    [Fact]
    public void A_secret_pasted_into_secret_env_is_not_echoed_in_the_problem()
    {
        var problem = ShouldHaveProblem(
            Endpoint.Replace("HOOK_A_SECRET", "s3cr3t-t0ken-value", StringComparison.Ordinal)
                + "\n",
            5,
            "webhooks.endpoints[0].secret_env"
        );

        problem.ToString().ShouldNotContain("s3cr3t-t0ken-value");
    }

    [Fact]
    public void An_endpoint_needs_url_events_and_secret_env()
    {
        var problems = ProblemsOf(
            "webhooks:\n  endpoints:\n    - { url: https://h.example.com/x }\n"
        );

        problems
            .Select(p => (p.Line, p.Field))
            .ShouldBe(
                [(3, "webhooks.endpoints[0].events"), (3, "webhooks.endpoints[0].secret_env")],
                ignoreOrder: true
            );
        problems.ShouldAllBe(p => p.Message.Contains("missing required field"));
    }

    [Fact]
    public void Two_endpoints_with_the_same_url_are_a_problem()
    {
        var yaml =
            Endpoint
            + """

                    - url: https://hooks.example.com/a
                      events: [promoted]
                      secret_env: HOOK_B_SECRET

                """;

        ShouldHaveProblem(yaml, 6, "webhooks.endpoints[1].url", "already an endpoint (line 3)");
    }

    [Fact]
    public void Every_problem_of_the_file_is_reported_at_once()
    {
        var problems = ProblemsOf(
            """
            queue:
              limits: { aws: 0 }
            shutdown: never
            shutdown_timeout: forever
            surprise: true
            """
        );

        problems
            .Select(p => p.Field)
            .ShouldBe(
                ["surprise", "queue.limits.aws", "shutdown", "shutdown_timeout"],
                ignoreOrder: true
            );
    }

    [Fact]
    public void Webhook_settings_find_the_endpoints_of_an_event_and_of_a_stored_url()
    {
        var settings = WorkerConfigParser
            .Parse(
                """
                webhooks:
                  max_attempts: 3
                  endpoints:
                    - url: https://a.example.com/hook
                      events: [build.finished, promoted]
                      secret_env: A_SECRET
                    - url: https://b.example.com/hook?team=ops
                      events: [promoted]
                      secret_env: B_SECRET
                """,
                File,
                TestProviders.Names
            )
            .Webhooks;

        settings.MaxAttempts.ShouldBe(3);
        settings
            .SubscribedTo("promoted")
            .Select(e => e.SecretEnv)
            .ShouldBe(["A_SECRET", "B_SECRET"]);
        settings
            .SubscribedTo("build.finished")
            .ShouldHaveSingleItem()
            .SecretEnv.ShouldBe("A_SECRET");
        settings.SubscribedTo("revoked").ShouldBeEmpty();
        settings
            .FindByUrl("https://b.example.com/hook?team=ops")
            .ShouldNotBeNull()
            .SecretEnv.ShouldBe("B_SECRET");
        settings.FindByUrl("https://c.example.com/hook").ShouldBeNull();
    }
}
