using System.Diagnostics;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Benchmarks;

/// <summary>
/// Time of the OpenSCAP scan (through a read-only bind mount, as the local target's scan stage does it) and of the
/// hardening step (apply, then audit, in a chroot) on the debian-11-cis root filesystem, each round on a fresh copy of
/// the cached base.
/// </summary>
internal sealed class ComplianceBenchmark : IBenchmark
{
    private const int Rounds = 3;
    private const string Datastream = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml";
    private const string Profile = "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high";

    public string Name => "compliance";

    public string Description => "OpenSCAP scan and hardening step on the local Debian 11 image";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-compliance");
        var data = dir.Combine("data");
        var imageforge = BuiltTools.Imageforge;
        // One real build fills the base cache (and is a full pipeline run with both scans).
        await RunAsync(
            imageforge,
            "build",
            "debian-11-cis",
            "--data-dir",
            data,
            "--reason",
            "benchmark"
        );
        var baseTar = Directory
            .EnumerateFiles(Path.Combine(data, "cache", "local", "base"), "*.tar")
            .Single();

        var scanBefore = new List<TimeSpan>();
        var harden = new List<TimeSpan>();
        var scanAfter = new List<TimeSpan>();
        for (var round = 0; round < Rounds; round++)
        {
            var root = dir.Combine($"rootfs-{round}");
            var mnt = dir.Combine($"ro-{round}");
            Directory.CreateDirectory(root);
            Directory.CreateDirectory(mnt);
            await RunAsync("tar", "-xpf", baseTar, "--numeric-owner", "-C", root);
            var inside = Path.Combine(root, "tmp", "h");
            Directory.CreateDirectory(Path.Combine(inside, "cis"));
            await RunAsync(
                "cp",
                "-R",
                Path.Combine(RepoPaths.Root, "hardening", "lib"),
                Path.Combine(inside, "lib")
            );
            await RunAsync(
                "cp",
                "-R",
                Path.Combine(RepoPaths.Root, "hardening", "cis", "debian-11"),
                Path.Combine(inside, "cis", "debian-11")
            );

            scanBefore.Add(await ScanAsync(root, mnt, dir.Combine($"before-{round}.xml")));
            var started = Stopwatch.GetTimestamp();
            await RunAsync("chroot", root, "/bin/bash", "/tmp/h/cis/debian-11/run.sh", "apply");
            await RunAsync("chroot", root, "/bin/bash", "/tmp/h/cis/debian-11/run.sh", "audit");
            harden.Add(Stopwatch.GetElapsedTime(started));
            scanAfter.Add(await ScanAsync(root, mnt, dir.Combine($"after-{round}.xml")));
        }

        return new Report(
            "Compliance: OpenSCAP scan and hardening step",
            "./build.sh --target=Benchmarks --bench=compliance"
        )
            .Line(
                $"Debian 11 minbase with the packages of `debian-11-cis`, profile `{Profile}` (SSG 0.1.65, "
                    + $"oscap through a read-only bind mount), hardening `cis/debian-11` (apply + audit in a chroot). "
                    + $"{Rounds} rounds, each on a fresh extract of the cached base."
            )
            .Line("")
            .Table(
                ["step", "times", "mean"],
                [
                    Row("scan before hardening", scanBefore),
                    Row("hardening (apply + audit)", harden),
                    Row("scan after hardening", scanAfter),
                ]
            )
            .ToString();
    }

    private static string[] Row(string name, List<TimeSpan> times) =>
        [
            name,
            string.Join(", ", times.Select(Report.Seconds)),
            Report.Seconds(TimeSpan.FromTicks((long)times.Average(t => t.Ticks))),
        ];

    private static async Task<TimeSpan> ScanAsync(string root, string mnt, string results)
    {
        await RunAsync("mount", "--bind", root, mnt);
        try
        {
            await RunAsync("mount", "-o", "remount,bind,ro", mnt);
            var started = Stopwatch.GetTimestamp();
            await RunAsync(
                "env",
                [0, 2],
                $"OSCAP_PROBE_ROOT={mnt}",
                "oscap",
                "xccdf",
                "eval",
                "--profile",
                Profile,
                "--results",
                results,
                Datastream
            );
            return Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            await RunAsync("umount", mnt);
        }
    }

    private static Task RunAsync(string file, params string[] args) => RunAsync(file, [0], args);

    private static async Task RunAsync(string file, int[] accepted, params string[] args)
    {
        var exit = -1;
        var tail = new Queue<string>();
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                new ProcessSpec(file).WithArguments(args).WithTimeout(TimeSpan.FromMinutes(10))
            )
        )
        {
            switch (e)
            {
                case OutputLine l:
                    Keep(tail, l.Text);
                    break;
                case ErrorLine l:
                    Keep(tail, l.Text);
                    break;
                case ProcessExited x:
                    exit = x.ExitCode;
                    break;
            }
        }

        if (!accepted.Contains(exit))
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', args)} exited with {exit}: {string.Join('\n', tail)}"
            );
        }
    }

    private static void Keep(Queue<string> tail, string line)
    {
        tail.Enqueue(line);
        if (tail.Count > 20)
        {
            tail.Dequeue();
        }
    }
}
