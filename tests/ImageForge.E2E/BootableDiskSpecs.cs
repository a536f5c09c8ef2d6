using System.Buffers.Binary;
using System.Text.Json;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.E2E;

/// <summary>A partition of a disk image, as sfdisk reads its GPT.</summary>
internal sealed record Partition(
    int Number,
    string Name,
    string Type,
    string Uuid,
    long Start,
    long Size
);

/// <summary>Reads a disk image's partition table and copies partitions out of it, without loop devices.</summary>
internal static class DiskImage
{
    public static async Task<IReadOnlyList<Partition>> PartitionsAsync(string disk)
    {
        using var json = JsonDocument.Parse(await Tools.RunAsync("sfdisk", "--json", disk));
        var table = json.RootElement.GetProperty("partitiontable");
        table.GetProperty("label").GetString().ShouldBe("gpt");
        table.GetProperty("sectorsize").GetInt32().ShouldBe(512);
        return
        [
            .. table
                .GetProperty("partitions")
                .EnumerateArray()
                .Select(
                    (p, i) =>
                        new Partition(
                            i + 1,
                            p.GetProperty("name").GetString()!,
                            p.GetProperty("type").GetString()!,
                            p.GetProperty("uuid").GetString()!,
                            p.GetProperty("start").GetInt64() * 512,
                            p.GetProperty("size").GetInt64() * 512
                        )
                ),
        ];
    }

    /// <summary>Copies the partition named <paramref name="name"/> (its GPT name) to a sparse file.</summary>
    public static async Task<string> ExtractAsync(string disk, string name, string to)
    {
        var partition = (await PartitionsAsync(disk)).Single(p => p.Name == name);
        return await ExtractAsync(disk, partition, to);
    }

    public static async Task<string> ExtractAsync(string disk, Partition partition, string to)
    {
        await Tools.RunAsync(
            "dd",
            $"if={disk}",
            $"of={to}",
            "bs=4M",
            "iflag=skip_bytes,count_bytes",
            $"skip={partition.Start}",
            $"count={partition.Size}",
            "conv=sparse",
            "status=none"
        );
        return to;
    }
}

/// <summary>
/// The bootable disk of the shipped image (cis layout) and its formats, read with the tools a cloud import or an
/// operator would use; its boot test; and the broken disk of the cold build, which fails its boot test and is
/// rejected by the shipped baseline. From the shared golden builds.
/// </summary>
[Collection(GoldenImageGroup.Name)]
public sealed class BootableDiskSpecs(GoldenImageFixture fixture, ITestOutputHelper output)
{
    private const string EspType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    private const string RootType = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";

    [Fact(Timeout = 120_000)]
    public async Task The_disk_is_gpt_with_the_esp_first_the_cis_partitions_and_the_root_last_all_mib_aligned()
    {
        var files = await ShippedAsync();

        var dump = await Tools.RunAsync("sfdisk", "--dump", files["disk-raw"]);
        var partitions = await DiskImage.PartitionsAsync(files["disk-raw"]);

        output.WriteLine(dump);
        dump.ShouldContain("label: gpt");
        partitions
            .Select(p => p.Name)
            .ShouldBe(["esp", "tmp", "var", "var-log", "var-log-audit", "home", "root"]);
        partitions[0].Type.ShouldBe(EspType);
        partitions[^1].Type.ShouldBe(RootType);
        partitions.ShouldAllBe(p => p.Start % (1 << 20) == 0 && p.Size % (1 << 20) == 0);
        new FileInfo(files["disk-raw"]).Length.ShouldBe(2L << 30);
        using var layout = JsonDocument.Parse(await File.ReadAllTextAsync(files["disk-layout"]));
        layout
            .RootElement.GetProperty("partitions")
            .EnumerateArray()
            .Select(p => p.GetProperty("partuuid").GetString()!.ToUpperInvariant())
            .ShouldBe(partitions.Select(p => p.Uuid));
    }

    [Fact(Timeout = 300_000)]
    public async Task Every_partition_is_a_clean_filesystem_and_the_root_mounts_the_others_by_uuid()
    {
        var files = await ShippedAsync();
        using var dir = new TempDirectory("imageforge-e2e-fsck");
        using var layout = JsonDocument.Parse(await File.ReadAllTextAsync(files["disk-layout"]));
        var described = layout
            .RootElement.GetProperty("partitions")
            .EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!);

        foreach (var partition in await DiskImage.PartitionsAsync(files["disk-raw"]))
        {
            var image = await DiskImage.ExtractAsync(
                files["disk-raw"],
                partition,
                dir.Combine(partition.Name + ".img")
            );
            var fs = described[partition.Name].GetProperty("filesystem").GetString();
            var fsck =
                fs == "vfat"
                    ? await Tools.RunForOutcomeAsync(null, "fsck.vfat", "-n", image)
                    : await Tools.RunForOutcomeAsync(null, "fsck.ext4", "-fn", image);
            fsck.ExitCode.ShouldBe(0, $"{partition.Name}: {fsck}");
            if (fs == "vfat")
            {
                var esp = await Tools.RunForOutcomeAsync(
                    new Dictionary<string, string> { ["MTOOLS_SKIP_CHECK"] = "1" },
                    "mdir",
                    "-i",
                    image,
                    "::/EFI/BOOT"
                );
                esp.Out.ShouldContain("BOOTX64  EFI", Case.Insensitive, esp.ToString());
            }
            else if (partition.Name == "root")
            {
                var fstab = await Tools.RunAsync("debugfs", "-R", "cat /etc/fstab", image);
                output.WriteLine(fstab);
                foreach (var (name, p) in described)
                {
                    var uuid = p.GetProperty("filesystem_uuid").GetString()!;
                    fstab.ShouldContain(
                        $"UUID={uuid}\t{p.GetProperty("mount_point").GetString()}\t"
                    );
                }
                fstab.ShouldContain("\t/tmp\text4\tdefaults,nodev,nosuid,noexec\t");
                // The separate filesystems' files are on their own partitions: the root keeps empty mount points.
                (await Tools.RunAsync("debugfs", "-R", "ls -p /var", image))
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split('/')[5])
                    .ShouldBe([".", ".."]);
                (await Tools.RunAsync("debugfs", "-R", "stat /vmlinuz", image)).ShouldContain(
                    "Type: symlink"
                );
            }
            else if (partition.Name == "tmp")
            {
                // The filesystem's own root directory is what the machine sees mounted at /tmp.
                (await Tools.RunAsync("debugfs", "-R", "stat /", image)).ShouldContain(
                    "Mode:  01777"
                );
            }
            else if (partition.Name == "var")
            {
                (
                    await Tools.RunAsync("debugfs", "-R", "stat /lib/dpkg/status", image)
                ).ShouldContain("Type: regular");
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task The_vhd_is_a_fixed_vhd_of_exactly_the_raw_disk_and_the_tar_gz_holds_only_disk_raw_in_gnu_format()
    {
        var files = await ShippedAsync();
        var rawSize = new FileInfo(files["disk-raw"]).Length;

        using var info = JsonDocument.Parse(
            await Tools.RunAsync(
                "qemu-img",
                "info",
                "-f",
                "vpc",
                "--output=json",
                files["disk-vhd"]
            )
        );
        var footer = new byte[512];
        await using (var vhd = File.OpenRead(files["disk-vhd"]))
        {
            vhd.Length.ShouldBe(rawSize + 512);
            vhd.Seek(-512, SeekOrigin.End);
            await vhd.ReadExactlyAsync(footer);
        }
        var listing = await Tools.RunAsync("tar", "-tzf", files["disk-tar-gz"]);
        var header = await Tools.RunAsync(
            "bash",
            "-c",
            "gzip -dc \"$1\" | head -c 512 | tail -c 255 | head -c 8 | od -An -c",
            "header",
            files["disk-tar-gz"]
        );

        info.RootElement.GetProperty("format").GetString().ShouldBe("vpc");
        var virtualSize = info.RootElement.GetProperty("virtual-size").GetInt64();
        virtualSize.ShouldBe(rawSize);
        (virtualSize % (1 << 20)).ShouldBe(0);
        System.Text.Encoding.ASCII.GetString(footer, 0, 8).ShouldBe("conectix");
        BinaryPrimitives.ReadUInt32BigEndian(footer.AsSpan(60)).ShouldBe(2u, "disk type 2: fixed");
        BinaryPrimitives.ReadUInt64BigEndian(footer.AsSpan(48)).ShouldBe((ulong)rawSize);
        listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["disk.raw"]);
        // GNU tar's magic ("ustar  \0") at offset 257 of the first header; POSIX would be "ustar\000".
        header.Replace(" ", "", StringComparison.Ordinal).Trim().ShouldBe("ustar\\0");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_shipped_disk_boots_under_emulation_and_the_evidence_records_the_seconds_to_the_marker()
    {
        var files = await ShippedAsync();

        using var boot = JsonDocument.Parse(await File.ReadAllTextAsync(files["boot-test"]));
        var transcript = await File.ReadAllTextAsync(files["boot-test-transcript"]);

        var b = boot.RootElement;
        output.WriteLine(b.ToString());
        b.GetProperty("passed").GetBoolean().ShouldBeTrue(b.ToString());
        b.GetProperty("seconds_to_marker").GetDouble().ShouldBeGreaterThan(0);
        b.GetProperty("kernel").GetString().ShouldEndWith("-cloud-amd64");
        b.GetProperty("system_state").GetString().ShouldBe("running");
        b.GetProperty("failed_units").GetArrayLength().ShouldBe(0);
        b.GetProperty("mounts")
            .EnumerateArray()
            .Select(m => m.GetString())
            .ShouldBe(["/", "/boot/efi", "/home", "/tmp", "/var", "/var/log", "/var/log/audit"]);
        // KVM only where the probe guest really ran under it; on these machines (nested KVM) that is never.
        b.GetProperty("accelerator")
            .GetString()
            .ShouldBe(b.GetProperty("kvm").GetString() == "KVM works" ? "kvm" : "tcg");
        transcript.ShouldContain("imageforge-boot-ok kernel=");
        transcript.ShouldContain("Cloud-init v.");
        transcript.ShouldContain("DataSourceNoCloud");
        fixture.Warm.Error.ShouldNotContain("rejected:");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_shipped_images_tests_all_pass_inside_the_booted_guest()
    {
        var files = await ShippedAsync();

        using var tests = JsonDocument.Parse(await File.ReadAllTextAsync(files["image-tests"]));

        var t = tests.RootElement;
        output.WriteLine(t.ToString());
        t.GetProperty("passed").GetBoolean().ShouldBeTrue(t.ToString());
        // Every check of templates/images/debian-11-cis.yaml's tests: section, each observed in the guest.
        t.GetProperty("total").GetInt32().ShouldBe(18);
        var results = t.GetProperty("results").EnumerateArray().ToList();
        results
            .Select(r => r.GetProperty("kind").GetString())
            .Distinct()
            .ShouldBe([
                "package-present",
                "package-absent",
                "service-enabled",
                "service-running",
                "file",
                "sysctl",
                "user-present",
                "port-listening",
                "port-closed",
            ]);
        results
            .Single(r => r.GetProperty("kind").GetString() == "port-listening")
            .GetProperty("observed")
            .GetString()
            .ShouldBe("listening=yes");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_disk_without_a_kernel_fails_its_boot_test_and_the_baseline_rejects_the_version()
    {
        // The cold build (test-only hardening rule removing the kernel): the build worked, the version may not ship.
        fixture.Cold.ExitCode.ShouldBe(1, fixture.Cold.ToString());
        var first = (await fixture.VersionsAsync())[^1];
        // Newest of a kind (a rescan may have added findings to this version).
        var evidence = first
            .GetProperty("evidence")
            .EnumerateArray()
            .GroupBy(e => e.GetProperty("kind").GetString()!)
            .ToDictionary(g => g.Key, g => g.Last().GetProperty("path").GetString()!);

        using var boot = JsonDocument.Parse(await File.ReadAllTextAsync(evidence["boot-test"]));
        using var decision = JsonDocument.Parse(
            await File.ReadAllTextAsync(evidence["gate-decision"])
        );

        first.GetProperty("status").GetString().ShouldBe("rejected");
        var b = boot.RootElement;
        output.WriteLine(b.ToString());
        b.GetProperty("passed").GetBoolean().ShouldBeFalse();
        b.GetProperty("summary").GetString()!.ShouldContain("imageforge-boot-failed");
        b.GetProperty("seconds_to_marker").ValueKind.ShouldBe(JsonValueKind.Null);
        decision.RootElement.GetProperty("decision").GetString().ShouldBe("fail");
        var reason = decision
            .RootElement.GetProperty("reasons")
            .EnumerateArray()
            .Single(r => r.GetProperty("gate").GetString() == "boot_test");
        reason.GetProperty("outcome").GetString().ShouldBe("fail");
        reason.GetProperty("found").GetString()!.ShouldContain("GRUB could not load /vmlinuz");
        fixture.Cold.Error.ShouldContain("rejected: debian-11-cis@");
        fixture.Cold.Error.ShouldContain("fail boot_test: boot test passed");
        // A guest that never came up ran none of the image tests: they failed too, nothing was proven.
        using var tests = JsonDocument.Parse(await File.ReadAllTextAsync(evidence["image-tests"]));
        tests.RootElement.GetProperty("passed").GetBoolean().ShouldBeFalse();
        tests
            .RootElement.GetProperty("results")
            .EnumerateArray()
            .ShouldAllBe(r => !r.GetProperty("passed").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task The_provenance_names_the_disk_each_format_was_made_from()
    {
        var files = await ShippedAsync();
        var raw = await Sha256Async(files["disk-raw"] + ".sha256");

        using var statement = JsonDocument.Parse(await File.ReadAllTextAsync(files["provenance"]));

        var subjects = statement
            .RootElement.GetProperty("subject")
            .EnumerateArray()
            .Where(s => s.TryGetProperty("annotations", out _))
            .ToDictionary(
                s => s.GetProperty("name").GetString()!,
                s => s.GetProperty("annotations")
            );
        subjects.Keys.ShouldBe(
            [
                "artifact/local/local/disk-raw/disk.raw",
                "artifact/local/local/disk-tar-gz/disk.tar.gz",
                "artifact/local/local/disk-vhd/disk.vhd",
            ],
            ignoreOrder: true
        );
        foreach (var (name, annotations) in subjects)
        {
            annotations
                .GetProperty("disk")
                .GetString()
                .ShouldBe("artifact/local/local/disk-raw/disk.raw", name);
        }
        // vhd and tar-gz were made from the raw disk; the raw disk names no source.
        subjects["artifact/local/local/disk-raw/disk.raw"]
            .TryGetProperty("source_sha256", out _)
            .ShouldBeFalse();
        foreach (var made in new[] { "disk-vhd/disk.vhd", "disk-tar-gz/disk.tar.gz" })
        {
            subjects["artifact/local/local/" + made]
                .GetProperty("source_sha256")
                .GetString()
                .ShouldBe(raw, made);
        }
        subjects["artifact/local/local/disk-vhd/disk.vhd"]
            .GetProperty("format")
            .GetString()
            .ShouldBe("vhd");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_cloud_kernel_carries_the_ena_nvme_hyper_v_and_gvnic_drivers()
    {
        var files = await ShippedAsync();

        var listing = await Tools.RunAsync("tar", "--zstd", "-tf", files["rootfs-tar-zst"]);
        using var dir = new TempDirectory("imageforge-e2e-modules");
        await Tools.RunAsync(
            "tar",
            "--zstd",
            "-xf",
            files["rootfs-tar-zst"],
            "-C",
            dir.Path,
            "--wildcards",
            "./lib/modules/*/modules.builtin"
        );
        var builtin = await File.ReadAllTextAsync(
            Directory.GetFiles(dir.Path, "modules.builtin", SearchOption.AllDirectories).Single()
        );

        foreach (
            var module in new[]
            {
                "/ena.ko",
                "/gve.ko",
                "/hv_netvsc.ko",
                "/hv_storvsc.ko",
                "/hv_vmbus.ko",
            }
        )
        {
            listing.ShouldContain(module);
        }
        builtin.ShouldContain("kernel/drivers/nvme/host/nvme.ko");
    }

    private async Task<Dictionary<string, string>> ShippedAsync()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        return (await SbomAndFindingsSpecs.LatestAsync(fixture.Run, "debian-11-cis")).Files;
    }

    private static async Task<string> Sha256Async(string file) =>
        (await File.ReadAllTextAsync(file)).Split(' ')[0];
}
