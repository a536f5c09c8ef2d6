using System.Text.Json;
using ImageForge.Core.Worker;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// <c>imageforge workers</c> shows each worker's KVM as the boot test's own probe found it (docs/cluster.md,
/// "Requiring KVM"): <c>kvm yes</c>, or <c>kvm no (why)</c>, in text and JSON. The worker runs in this process with a
/// stand-in qemu-system-x86_64 on its tools' PATH that exits with the code given (the probe guest's is 99).
/// </summary>
public sealed class WorkersCommandSpecs : IDisposable
{
    private readonly TempDirectory _bin = new("imageforge-fake-qemu");

    public void Dispose() => _bin.Dispose();

    [Theory(Timeout = 120_000)]
    [InlineData(1)]
    [InlineData(99)]
    public async Task A_worker_lists_its_kvm_as_the_boot_tests_probe_answered(int qemuExit)
    {
        using var build = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
        var qemu = _bin.Combine("qemu-system-x86_64");
        await File.WriteAllTextAsync(
            qemu,
            $"#!/bin/sh\n[ \"$1\" = --version ] && echo 'QEMU emulator version 7.2.99' && exit 0\nexit {qemuExit}\n"
        );
        File.SetUnixFileMode(qemu, (UnixFileMode)0b111_101_101);
        build.Environment["PATH"] = $"{_bin.Path}:{Environment.GetEnvironmentVariable("PATH")}";
        var works = qemuExit == 99 && File.Exists("/dev/kvm");
        var reason =
            !File.Exists("/dev/kvm") ? "no /dev/kvm"
            : works ? null
            : "the probe guest exited 1, expected 99";

        await using var worker = await build.StartWorkerAsync(
            WorkerConfig.Default with
            {
                Name = "probed",
            }
        );
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        WorkerInfo listed;
        do
        {
            await Task.Delay(100);
            listed = (await worker.Catalog.ListWorkersAsync(TimeSpan.FromHours(1))).Single();
        } while (
            listed.Capabilities.KvmReason == "not probed yet"
            && TimeProvider.System.GetUtcNow() < deadline
        );
        var text = await build.RunAsync(CancellationToken.None, "workers");
        var json = await build.RunAsync(CancellationToken.None, "workers", "--output", "json");

        listed.Capabilities.Kvm.ShouldBe(works);
        listed.Capabilities.KvmReason.ShouldBe(reason);
        text.Out.ShouldContain(works ? " kvm yes" : $" kvm no ({reason})");
        using var document = JsonDocument.Parse(json.Out);
        var shown = document.RootElement.EnumerateArray().ShouldHaveSingleItem();
        shown.GetProperty("kvm").GetBoolean().ShouldBe(works);
        shown.GetProperty("kvm_reason").GetString().ShouldBe(reason);
    }
}
