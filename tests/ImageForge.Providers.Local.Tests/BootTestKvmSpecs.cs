using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>
/// boot_test_kvm: required (docs/cluster.md, "Requiring KVM"): boot-test.sh with IMAGEFORGE_BOOT_TEST_KVM=required and
/// a failing probe fails the boot test, saying so in boot-test.json, instead of booting under software emulation; and
/// the worker's probe is the boot test's (kvm-probe.sh, cached per boot). No guest boots here: qemu-system-x86_64 on
/// PATH is a stand-in that notes its arguments and exits with the code it is given (the probe guest's is 99).
/// </summary>
public sealed class BootTestKvmSpecs : IDisposable
{
    private static readonly string Scripts = ImageTestsScriptSpecs.Scripts;

    private readonly TempDirectory _dir = new("imageforge-boot-test-kvm");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task Required_kvm_with_a_failing_probe_fails_the_boot_test_without_booting_under_emulation()
    {
        var (exit, json) = await BootTestAsync(kvm: "required", qemuExit: 1);

        exit.ShouldBe(0); // a failed boot is a result: the baseline's boot_test gate decides
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        root.GetProperty("passed").GetBoolean().ShouldBeFalse();
        root.GetProperty("accelerator").GetString().ShouldBe("none");
        var reason = root.GetProperty("reasons")
            .EnumerateArray()
            .ShouldHaveSingleItem()
            .GetString();
        reason.ShouldStartWith("KVM is required (boot_test_kvm: required), but ");
        reason.ShouldEndWith(": not booted under software emulation");
        reason.ShouldContain(
            File.Exists("/dev/kvm")
                ? "KVM fails (the probe guest exited 1, expected 99)"
                : "no /dev/kvm"
        );
        // Only the probe ran (where there is a /dev/kvm): no boot of the disk at all.
        (await QemuCallsAsync()).ShouldAllBe(c =>
            c.Contains("accel=kvm") && c.Contains("kvm-probe.bin")
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_the_requirement_the_same_machine_boots_under_emulation()
    {
        var (exit, json) = await BootTestAsync(kvm: "1", qemuExit: 1);

        exit.ShouldBe(0);
        using var document = JsonDocument.Parse(json);
        document.RootElement.GetProperty("accelerator").GetString().ShouldBe("tcg");
        (await QemuCallsAsync()).ShouldContain(c => c.Contains("accel=tcg"));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_workers_probe_is_the_boot_tests_and_its_answer_is_kept_for_this_boot()
    {
        var cache = _dir.Combine("data", "cache", "local");
        await WriteQemuAsync(99); // the probe guest ran
        var probe = Probe();
        var content = ContentPaths.UnderRoot(RepoPaths.Root);

        var first = await probe.ProbeAsync(content);
        await WriteQemuAsync(1); // a second ask would now fail: it is not asked again
        var second = await probe.ProbeAsync(content);

        if (File.Exists("/dev/kvm"))
        {
            first.ShouldBe(new KvmAnswer(true, null));
            File.ReadAllLines(Path.Combine(cache, "boot-test", "kvm-probe"))[1].ShouldBe("works");
        }
        else
        {
            first.ShouldBe(new KvmAnswer(false, "no /dev/kvm"));
        }

        second.ShouldBe(first);
    }

    [Theory]
    [InlineData("works", true, null)]
    [InlineData(
        "fails (the probe guest exited 124, expected 99)",
        false,
        "the probe guest exited 124, expected 99"
    )]
    [InlineData("no /dev/kvm", false, "no /dev/kvm")]
    public void The_probes_line_becomes_the_workers_kvm(string line, bool works, string? reason) =>
        KvmProbe.Answer(line).ShouldBe(new KvmAnswer(works, reason));

    private IKvmProbe Probe()
    {
        var services = new LocalProvider().Connect(
            new ProviderContext(
                TimeProvider.System,
                new DataPaths(_dir.Combine("data")),
                _ => null,
                new Dictionary<string, string> { ["PATH"] = PathWithFakeQemu() }
            )
        );
        return services.Kvm.ShouldNotBeNull();
    }

    // boot-test.sh on an empty disk.raw with the stand-in qemu: its exit code and boot-test.json.
    private async Task<(int Exit, string Json)> BootTestAsync(string kvm, int qemuExit)
    {
        await WriteQemuAsync(qemuExit);
        var work = _dir.Combine("work");
        var output = _dir.Combine("output");
        Directory.CreateDirectory(Path.Combine(work, "disk"));
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(
            Path.Combine(work, "disk", "layout.tsv"),
            "part\t1\tesp\t/boot/efi\tvfat\n"
        );
        await File.WriteAllBytesAsync(Path.Combine(output, "disk.raw"), new byte[1024 * 1024]);
        var spec = new ProcessSpec("bash")
            .WithArguments(Path.Combine(Scripts, "boot-test.sh"))
            .WithEnvironment("PATH", PathWithFakeQemu())
            .WithEnvironment("IMAGEFORGE_WORK_DIR", work)
            .WithEnvironment("IMAGEFORGE_OUTPUT_DIR", output)
            .WithEnvironment("IMAGEFORGE_CACHE_DIR", _dir.Combine("cache"))
            .WithEnvironment("IMAGEFORGE_BOOT_TEST", "true")
            .WithEnvironment("IMAGEFORGE_BOOT_TEST_TIMEOUT", "30")
            .WithEnvironment("IMAGEFORGE_BOOT_TEST_KVM", kvm)
            .WithTimeout(TimeSpan.FromSeconds(50));
        var (exit, _, errors) = await new ProcessRunner(TimeProvider.System).RunToEndAsync(spec);
        var json = Path.Combine(output, "boot-test.json");
        File.Exists(json).ShouldBeTrue(string.Join('\n', errors));
        return (exit, await File.ReadAllTextAsync(json));
    }

    private string PathWithFakeQemu() =>
        $"{_dir.Combine("bin")}:{Environment.GetEnvironmentVariable("PATH")}";

    // A qemu-system-x86_64 that answers --version, notes every other call and exits with the given code.
    private async Task WriteQemuAsync(int exitCode)
    {
        var bin = _dir.Combine("bin");
        Directory.CreateDirectory(bin);
        var qemu = Path.Combine(bin, "qemu-system-x86_64");
        await File.WriteAllTextAsync(
            qemu,
            $"""
            #!/bin/sh
            if [ "$1" = --version ]; then echo "QEMU emulator version 7.2.99 (stand-in)"; exit 0; fi
            echo "$*" >>"{_dir.Combine("qemu-calls.log")}"
            exit {exitCode}

            """
        );
        File.SetUnixFileMode(qemu, (UnixFileMode)0b111_101_101);
    }

    private async Task<IReadOnlyList<string>> QemuCallsAsync()
    {
        var log = _dir.Combine("qemu-calls.log");
        return File.Exists(log) ? await File.ReadAllLinesAsync(log) : [];
    }
}
