using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>Real Packer and real mmdebstrap failing and being cancelled: what is recorded and what is left.</summary>
public sealed class BuildFailureSpecs
{
    [Fact(Timeout = 300_000)]
    public async Task A_provisioner_failure_ends_the_build_as_failed_with_the_packer_error_and_records_no_version()
    {
        using var dir = new TempDirectory("imageforge-e2e-fail");
        var definitions = WriteDefinition(
            dir,
            yaml =>
                yaml.Replace(
                    "    - sudo\n",
                    "    - sudo\n    - imageforge-no-such-package\n",
                    StringComparison.Ordinal
                )
        );

        var build = await Run(
            RepoPaths.Root,
            dir,
            CancellationToken.None,
            "build",
            "debian-11-cis",
            "--definitions",
            definitions
        );
        var show = await Run(
            RepoPaths.Root,
            dir,
            CancellationToken.None,
            "builds",
            "show",
            "1",
            "--output",
            "json"
        );
        var logs = await Run(RepoPaths.Root, dir, CancellationToken.None, "builds", "logs", "1");

        build.ExitCode.ShouldBe(3, build.ToString());
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("failed");
        json.RootElement.GetProperty("message")
            .GetString()!
            .ShouldContain("Script exited with non-zero exit status");
        json.RootElement.GetProperty("version").ValueKind.ShouldBe(JsonValueKind.Null);
        logs.Out.ShouldContain("imageforge-no-such-package");
        NothingLeft(dir);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_template_failure_ends_the_build_as_failed_with_packers_validate_error()
    {
        using var dir = new TempDirectory("imageforge-e2e-template");
        var content = TestContent.Copy(dir.Combine("content"));

        var template = Path.Combine(content, "templates", "packer", "local", "local.pkr.hcl");
        await File.WriteAllTextAsync(
            template,
            (await File.ReadAllTextAsync(template)).Replace(
                "communicator = \"none\"",
                "communicator = \"none\"\n  no_such_argument = true",
                StringComparison.Ordinal
            )
        );

        var build = await Run(content, dir, CancellationToken.None, "build", "debian-11-cis");
        var show = await Run(
            content,
            dir,
            CancellationToken.None,
            "builds",
            "show",
            "1",
            "--output",
            "json"
        );

        build.ExitCode.ShouldBe(3, build.ToString());
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("failed");
        json.RootElement.GetProperty("message").GetString()!.ShouldContain("no_such_argument");
        NothingLeft(dir);
    }

    [Fact(Timeout = 300_000)]
    public async Task Cancelling_while_mmdebstrap_runs_leaves_no_process_and_no_mount_and_records_cancelled()
    {
        using var dir = new TempDirectory("imageforge-e2e-cancel");
        using var cancel = new CancellationTokenSource();
        var build = Run(RepoPaths.Root, dir, cancel.Token, "build", "debian-11-cis");

        // Wait until mmdebstrap is well under way (its chroot mounts exist), then cancel as Ctrl-C does.
        var deadline = TimeProvider.System.GetUtcNow().AddMinutes(3);
        while (
            !MmdebstrapRunning(dir.Path)
            && TimeProvider.System.GetUtcNow() < deadline
            && !build.IsCompleted
        )
        {
            await Task.Delay(200);
        }

        MmdebstrapRunning(dir.Path)
            .ShouldBeTrue("mmdebstrap should be running below the data directory");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await cancel.CancelAsync();
        var result = await build;
        var show = await Run(
            RepoPaths.Root,
            dir,
            CancellationToken.None,
            "builds",
            "show",
            "1",
            "--output",
            "json"
        );

        result.ExitCode.ShouldBe(130, result.ToString());
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("cancelled");
        MmdebstrapRunning(dir.Path).ShouldBeFalse();
        Processes.Mentioning(dir.Path).ShouldBeEmpty();
        NothingLeft(dir);
    }

    private static Task<CliResult> Run(
        string cwd,
        TempDirectory dir,
        CancellationToken cancellationToken,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            cwd,
            null,
            cancellationToken,
            [.. args, "--data-dir", dir.Combine("data")]
        );

    private static string WriteDefinition(TempDirectory dir, Func<string, string> change)
    {
        var definitions = dir.Combine("images");
        Directory.CreateDirectory(definitions);
        var yaml = File.ReadAllText(
            Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml")
        );
        File.WriteAllText(Path.Combine(definitions, "debian-11-cis.yaml"), change(yaml));
        return definitions;
    }

    private static void NothingLeft(TempDirectory dir)
    {
        MountTable.MountsBelow(dir.Path).ShouldBeEmpty();
        var work = dir.Combine("data", "work");
        (Directory.Exists(work) ? Directory.GetFileSystemEntries(work) : []).ShouldBeEmpty();
        var artifacts = dir.Combine("data", "artifacts");
        (
            Directory.Exists(artifacts)
                ? Directory.GetFiles(artifacts, "*", SearchOption.AllDirectories)
                : []
        ).ShouldBeEmpty();
    }

    private static bool MmdebstrapRunning(string below) =>
        Processes.Mentioning(below).Any(c => c.Contains("mmdebstrap", StringComparison.Ordinal));
}
