using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// The hardening rules and stage scripts as shell code: lint, syntax, and behaviour on small fake trees (IF_ROOT)
/// for the profiles that cannot be bootstrapped here (Ubuntu, RHEL).
/// </summary>
public sealed class HardeningScriptSpecs
{
    private static readonly string[] Profiles =
    [
        "cis/debian-11",
        "cis/debian-12",
        "cis/ubuntu-22.04",
        "stig/rhel-9",
    ];

    private static readonly string[] ScriptRoots = ["hardening", "templates"];

    private static IEnumerable<string> ShellScripts() =>
        ScriptRoots
            .SelectMany(d =>
                Directory.EnumerateFiles(
                    Path.Combine(RepoPaths.Root, d),
                    "*.sh",
                    SearchOption.AllDirectories
                )
            )
            .Order(StringComparer.Ordinal);

    [Fact(Timeout = 120_000)]
    public async Task Every_shell_script_under_hardening_and_templates_passes_shellcheck_and_bash_n()
    {
        var scripts = ShellScripts().ToArray();
        scripts.Length.ShouldBeGreaterThan(20);

        var lint = await Tools.RunForOutcomeAsync(
            null,
            "shellcheck",
            ["-x", "--severity=style", .. scripts]
        );
        lint.ExitCode.ShouldBe(0, lint.ToString());
        foreach (var script in scripts)
        {
            var syntax = await Tools.RunForOutcomeAsync(null, "bash", "-n", script);
            syntax.ExitCode.ShouldBe(0, $"{script}: {syntax}");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_profile_lists_rules_that_the_library_implements_with_control_ids()
    {
        foreach (var profile in Profiles)
        {
            var list = await Tools.RunForOutcomeAsync(null, "bash", RunSh(profile), "list");
            list.ExitCode.ShouldBe(0, $"{profile}: {list}");
            var rows = Lines(list.Out);
            rows.Length.ShouldBeGreaterThan(40, profile);
            foreach (var row in rows)
            {
                var fields = row.Split('\t');
                fields.Length.ShouldBe(3, row);
                fields[1]
                    .ShouldMatch(
                        @"^(cis|ssg|stig|imageforge):[^,]+(,(cis|ssg|stig|imageforge):[^,]+)*$",
                        row
                    );
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_ssg_id_of_the_debian_11_and_ubuntu_profiles_exists_in_its_datastream()
    {
        foreach (
            var (profile, datastream) in new[]
            {
                ("cis/debian-11", "ssg-debian11-ds.xml"),
                ("cis/ubuntu-22.04", "ssg-ubuntu2204-ds.xml"),
            }
        )
        {
            var path = Path.Combine("/usr/share/xml/scap/ssg/content", datastream);
            var content = await File.ReadAllTextAsync(path);
            var list = await Tools.RunForOutcomeAsync(null, "bash", RunSh(profile), "list");
            foreach (
                var id in Lines(list.Out)
                    .SelectMany(r => r.Split('\t')[1].Split(','))
                    .Where(c => c.StartsWith("ssg:", StringComparison.Ordinal))
                    .Select(c => c[4..])
                    .Distinct()
            )
            {
                content.ShouldContain($"content_rule_{id}\"", customMessage: $"{profile}: {id}");
            }
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("cis/ubuntu-22.04")]
    [InlineData("stig/rhel-9")]
    [InlineData("cis/debian-12")]
    public async Task On_a_fake_tree_apply_makes_the_audit_pass_and_a_second_apply_changes_nothing(
        string profile
    )
    {
        using var tree = FakeTree(rhel: profile.StartsWith("stig/rhel", StringComparison.Ordinal));
        var env = new Dictionary<string, string> { ["IF_ROOT"] = tree.Path };

        var before = await Tools.RunForOutcomeAsync(env, "bash", RunSh(profile), "audit");
        before.ExitCode.ShouldBe(1, before.ToString());

        var first = await Tools.RunForOutcomeAsync(env, "bash", RunSh(profile), "apply");
        first.ExitCode.ShouldBe(0, first.ToString());
        Lines(first.Out).ShouldContain(l => l.Split('\t')[2] == "applied");

        var audit = await Tools.RunForOutcomeAsync(env, "bash", RunSh(profile), "audit");
        audit.ExitCode.ShouldBe(0, audit.ToString());
        Lines(audit.Out)
            .ShouldAllBe(l => l.Split('\t')[2] == "pass" || l.Split('\t')[2] == "skipped");

        var second = await Tools.RunForOutcomeAsync(env, "bash", RunSh(profile), "apply");
        second.ExitCode.ShouldBe(0, second.ToString());
        Lines(second.Out)
            .ShouldAllBe(l => l.Split('\t')[2] == "unchanged" || l.Split('\t')[2] == "skipped");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_rhel_profile_keeps_shadow_files_at_mode_0000_owned_by_root()
    {
        using var tree = FakeTree(rhel: true);
        var env = new Dictionary<string, string> { ["IF_ROOT"] = tree.Path };

        var apply = await Tools.RunForOutcomeAsync(
            env,
            "bash",
            RunSh("stig/rhel-9"),
            "apply",
            "etc_shadow_files_perms"
        );

        apply.ExitCode.ShouldBe(0, apply.ToString());
        var mode = File.GetUnixFileMode(Path.Combine(tree.Path, "etc/shadow"));
        mode.ShouldBe(UnixFileMode.None);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_profile_naming_a_rule_the_library_lacks_is_reported_as_broken()
    {
        using var dir = new TempDirectory("imageforge-profile");
        var profile = Path.Combine(dir.Path, "cis", "broken");
        Directory.CreateDirectory(profile);
        var lib = Path.Combine(dir.Path, "lib");
        DirectoryTrees.Copy(Path.Combine(RepoPaths.Root, "hardening", "lib"), lib);
        File.Copy(RunSh("cis/debian-11"), Path.Combine(profile, "run.sh"));
        await File.WriteAllTextAsync(
            Path.Combine(profile, "profile.sh"),
            "use_rule no_such_rule \"cis:0.0\" \"Nothing\"\n"
        );

        var list = await Tools.RunForOutcomeAsync(
            null,
            "bash",
            Path.Combine(profile, "run.sh"),
            "audit"
        );

        list.ExitCode.ShouldBe(3, list.ToString());
        list.Error.ShouldContain("no_such_rule");
    }

    private static string RunSh(string profile) =>
        Path.Combine(RepoPaths.Root, "hardening", profile, "run.sh");

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The files the rules read, in their distribution defaults (lax): sshd_config with an Include, login.defs, the
    /// account files, cron, rsyslog and logrotate (Debian family), no partitions.
    /// </summary>
    private static TempDirectory FakeTree(bool rhel)
    {
        var tree = new TempDirectory("imageforge-fake-tree");
        void Write(string path, string content, UnixFileMode mode)
        {
            var full = Path.Combine(tree.Path, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
            File.SetUnixFileMode(full, mode);
        }

        const UnixFileMode Rw_r__r__ =
            UnixFileMode.UserRead
            | UnixFileMode.UserWrite
            | UnixFileMode.GroupRead
            | UnixFileMode.OtherRead;
        Write(
            "/etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\nX11Forwarding yes\n",
            Rw_r__r__
        );
        Write("/etc/ssh/sshd_config.d/50-cloud.conf", "PasswordAuthentication no\n", Rw_r__r__);
        Write(
            "/etc/login.defs",
            "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUMASK\t\t022\n",
            Rw_r__r__
        );
        Write(
            "/etc/issue.net",
            rhel ? "\\S\nKernel \\r on an \\m\n" : "Debian GNU/Linux 12\n",
            Rw_r__r__
        );
        Write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", Rw_r__r__);
        Write("/etc/group", "root:x:0:\n", Rw_r__r__);
        Write("/etc/shadow", "root:*:19000:0:99999:7:::\n", Rw_r__r__);
        Write("/etc/gshadow", "root:*::\n", Rw_r__r__);
        Directory.CreateDirectory(Path.Combine(tree.Path, "etc/security/limits.d"));
        Write("/etc/security/limits.conf", "# empty\n", Rw_r__r__);
        Directory.CreateDirectory(Path.Combine(tree.Path, "etc/sysctl.d"));
        if (!rhel)
        {
            Write(
                "/etc/rsyslog.conf",
                "$FileGroup adm\nauth,authpriv.*\t\t/var/log/auth.log\n*.*;auth,authpriv.none\t-/var/log/syslog\n",
                Rw_r__r__
            );
            Write(
                "/etc/logrotate.conf",
                "weekly\nrotate 4\ncreate\ninclude /etc/logrotate.d\n",
                Rw_r__r__
            );
            Write(
                "/etc/cron.daily/logrotate",
                "#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n",
                Rw_r__r__ | UnixFileMode.UserExecute
            );
        }
        return tree;
    }
}
