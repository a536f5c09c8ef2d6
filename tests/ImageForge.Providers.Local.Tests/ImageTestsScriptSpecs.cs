using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ImageForge.Core.Definitions;
using ImageForge.Core.Gates;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>
/// The image tests' two scripts as the boot test uses them: image-tests.sh (in the guest: here on this machine, which
/// has what every image has, with a systemctl on PATH that answers for two units) prints one result per check, and
/// image-tests-json.py (on the build machine) turns the console into image-tests.json, which the gate reads.
/// </summary>
public sealed class ImageTestsScriptSpecs : IDisposable
{
    /// <summary>The local target's stage scripts in the repository.</summary>
    internal static readonly string Scripts = Path.Combine(
        RepoPaths.Root,
        "templates",
        "packer",
        "local",
        "scripts"
    );

    private readonly TempDirectory _dir = new("imageforge-image-tests");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task Each_kind_of_check_passes_and_fails_on_what_the_machine_really_has()
    {
        // A port something listens on, and one nothing does (bound once to find it free, then closed).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var passwdMode = Convert
            .ToString((int)File.GetUnixFileMode("/etc/passwd"), 8)
            .PadLeft(4, '0');
        string P(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (ImageTest Test, bool Passes)[] cases =
        [
            (new(ImageTestKinds.PackagePresent, "coreutils", ""), true),
            (new(ImageTestKinds.PackagePresent, "imageforge-no-such-package", ""), false),
            (new(ImageTestKinds.PackageAbsent, "imageforge-no-such-package", ""), true),
            (new(ImageTestKinds.PackageAbsent, "coreutils", ""), false),
            (new(ImageTestKinds.ServiceEnabled, "ssh", ""), true),
            (new(ImageTestKinds.ServiceEnabled, "telnet", ""), false),
            (new(ImageTestKinds.ServiceRunning, "auditd", ""), true),
            (new(ImageTestKinds.ServiceRunning, "ssh", ""), false),
            (
                new(ImageTestKinds.File, "/etc/passwd", $"owner=root group=root mode={passwdMode}"),
                true
            ),
            (new(ImageTestKinds.File, "/etc/passwd", "mode=0000"), false),
            (new(ImageTestKinds.File, "/etc/imageforge-missing", ""), false),
            (new(ImageTestKinds.Sysctl, "kernel.ostype", "Linux"), true),
            (new(ImageTestKinds.Sysctl, "kernel.ostype", "BSD"), false),
            (new(ImageTestKinds.UserPresent, "root", ""), true),
            (new(ImageTestKinds.UserPresent, "imageforge-nobody", ""), false),
            (new(ImageTestKinds.UserAbsent, "imageforge-nobody", ""), true),
            (new(ImageTestKinds.UserAbsent, "root", ""), false),
            (new(ImageTestKinds.PortListening, P(open), ""), true),
            (new(ImageTestKinds.PortListening, P(closed), ""), false),
            (new(ImageTestKinds.PortClosed, P(closed), ""), true),
            (new(ImageTestKinds.PortClosed, P(open), ""), false),
        ];

        var document = await RunAsync([.. cases.Select(c => c.Test)]);

        var results = document.RootElement.GetProperty("results").EnumerateArray().ToList();
        results.Count.ShouldBe(cases.Length);
        for (var i = 0; i < cases.Length; i++)
        {
            results[i]
                .GetProperty("passed")
                .GetBoolean()
                .ShouldBe(cases[i].Passes, $"{cases[i].Test}: {results[i]}");
        }
        document.RootElement.GetProperty("passed").GetBoolean().ShouldBeFalse();
        document.RootElement.GetProperty("failed").GetInt32().ShouldBe(11);
        results[9]
            .GetProperty("observed")
            .GetString()
            .ShouldBe($"owner=root group=root mode={passwdMode}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Passing_checks_give_evidence_the_gate_reads_as_passed()
    {
        var document = await RunAsync([new(ImageTestKinds.UserPresent, "root", "")]);

        var facts = ImageTestsEvidence.Read(_dir.Combine("image-tests.json"));

        document.RootElement.GetProperty("total").GetInt32().ShouldBe(1);
        facts.ShouldBe(new ImageTestFacts(true, "image tests: 1 of 1 passed"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_check_the_console_has_no_result_for_failed_because_the_guest_never_ran_it()
    {
        IReadOnlyList<ImageTest> tests =
        [
            new(ImageTestKinds.UserPresent, "root", ""),
            new(ImageTestKinds.PackagePresent, "coreutils", ""),
        ];
        var checks = _dir.Combine("checks.tsv");
        await File.WriteAllTextAsync(checks, ImageTest.CheckerLines(tests));
        // The boot stopped after the first result.
        var console = _dir.Combine("console.log");
        await File.WriteAllTextAsync(
            console,
            "[   12.1] systemd[1]: Started.\nimageforge-test 1 pass exists=yes\nKernel panic - not syncing\n"
        );

        using var document = JsonDocument.Parse(
            await OutputAsync(
                "python3",
                Path.Combine(Scripts, "image-tests-json.py"),
                checks,
                console
            )
        );

        var results = document.RootElement.GetProperty("results").EnumerateArray().ToList();
        results[0].GetProperty("passed").GetBoolean().ShouldBeTrue();
        results[1].GetProperty("passed").GetBoolean().ShouldBeFalse();
        results[1]
            .GetProperty("observed")
            .GetString()
            .ShouldBe("no result: the guest did not run this check");
        document
            .RootElement.GetProperty("summary")
            .GetString()
            .ShouldBe(
                "image tests: 1 of 2 passed; failed: package-present coreutils (no result: the guest did not run this check)"
            );
    }

    // Runs the checks as the guest would (a systemctl on PATH that knows ssh enabled and auditd active), then writes
    // image-tests.json from its output as the boot test does from the console.
    private async Task<JsonDocument> RunAsync(IReadOnlyList<ImageTest> tests)
    {
        var bin = _dir.Combine("bin");
        Directory.CreateDirectory(bin);
        var systemctl = Path.Combine(bin, "systemctl");
        await File.WriteAllTextAsync(
            systemctl,
            """
            #!/bin/sh
            case "$1 $2" in
              "is-enabled ssh") echo enabled ;;
              "is-active auditd") echo active ;;
              is-enabled*) echo disabled; exit 1 ;;
              *) echo inactive; exit 3 ;;
            esac

            """
        );
        File.SetUnixFileMode(systemctl, (UnixFileMode)Convert.ToInt32("755", 8));
        var checks = _dir.Combine("checks.tsv");
        await File.WriteAllTextAsync(checks, ImageTest.CheckerLines(tests));
        var console = _dir.Combine("console.log");
        await File.WriteAllTextAsync(
            console,
            await OutputAsync(
                "sh",
                Path.Combine(Scripts, "image-tests.sh"),
                checks,
                $"PATH={bin}:{Environment.GetEnvironmentVariable("PATH")}"
            )
        );
        var json = await OutputAsync(
            "python3",
            Path.Combine(Scripts, "image-tests-json.py"),
            checks,
            console
        );
        await File.WriteAllTextAsync(_dir.Combine("image-tests.json"), json);
        return JsonDocument.Parse(json);
    }

    // A tool's standard output; an argument PATH=... sets its PATH instead.
    private static async Task<string> OutputAsync(string tool, params string[] arguments)
    {
        var spec = new ProcessSpec(tool).WithArguments([
            .. arguments.Where(a => !a.StartsWith("PATH=", StringComparison.Ordinal)),
        ]);
        if (
            arguments.FirstOrDefault(a => a.StartsWith("PATH=", StringComparison.Ordinal)) is
            { } path
        )
        {
            spec = spec.WithEnvironment("PATH", path["PATH=".Length..]);
        }
        var output = new List<string>();
        var errors = new List<string>();
        var exit = -1;
        await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec))
        {
            switch (e)
            {
                case OutputLine line:
                    output.Add(line.Text);
                    break;
                case ErrorLine line:
                    errors.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }
        exit.ShouldBe(0, string.Join('\n', errors));
        return string.Join('\n', output) + "\n";
    }
}
