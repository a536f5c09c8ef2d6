using ImageForge.Core.Definitions;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>
/// The definitions and baselines shipped in the repository load without a problem. They are copied into a content
/// root of the test's own, with a stub hardening directory, so the test does not depend on the hardening scripts.
/// </summary>
public sealed class ShippedContentSpecs : IDisposable
{
    private readonly TempDirectory _root = new("imageforge-shipped");
    private readonly ContentPaths _paths;

    public ShippedContentSpecs()
    {
        var shipped = ContentPaths.UnderRoot(RepoPaths.Root);
        _paths = ContentPaths.UnderRoot(_root.Path);
        Copy(shipped.Definitions, _paths.Definitions);
        Copy(shipped.Baselines, _paths.Baselines);
        Directory.CreateDirectory(_paths.ScapProfileLists!);
        foreach (var list in Directory.EnumerateFiles(shipped.ScapProfileLists!, "*.txt"))
        {
            File.Copy(list, Path.Combine(_paths.ScapProfileLists!, Path.GetFileName(list)));
        }
        foreach (
            var profile in new[]
            {
                "cis/debian-11",
                "cis/debian-12",
                "cis/ubuntu-22.04",
                "stig/rhel-9",
            }
        )
        {
            var hardening = Path.Combine(_paths.Hardening, profile);
            Directory.CreateDirectory(hardening);
            File.WriteAllText(Path.Combine(hardening, "run.sh"), "#!/bin/sh\n");
        }
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void The_shipped_definitions_and_baselines_load_without_problems()
    {
        // Act
        var set = DefinitionLoader.Load(_paths, new DateOnly(2025, 6, 1), TestProviders.Shipped);

        // Assert
        set.ShouldHaveNoProblems();
        set.Images.Select(i => i.Name)
            .ShouldBe([
                "debian-11-cis",
                "debian-11-cis-aws",
                "debian-11-cis-azure",
                "debian-11-cis-gcp",
                "debian-11-cis-multicloud",
            ]);
        set.Baselines.Select(b => b.Name).ShouldContain("debian-11-anssi");
    }

    [Fact]
    public void The_local_debian_11_image_is_built_nightly_in_berlin_from_bullseye()
    {
        // Act
        var image = DefinitionLoader
            .Load(_paths, new DateOnly(2025, 6, 1), TestProviders.Shipped)
            .FindImage("debian-11-cis");

        // Assert
        image.ShouldNotBeNull();
        image.Os.ShouldBe(new OsSpec("debian", "11"));
        image.Baseline.ShouldBe("debian-11-anssi");
        foreach (
            var package in new[]
            {
                "openssh-server",
                "rsyslog",
                "cron",
                "auditd",
                "logrotate",
                "sudo",
            }
        )
        {
            image.Packages.Add.ShouldContain(package);
        }
        var target = image.Targets.ShouldHaveSingleItem();
        target.Provider.ShouldBe("local");
        target.BaseImage.ShouldBe("bullseye");
        var schedule = image.Schedule.ShouldNotBeNull();
        schedule.Cron.Text.ShouldBe("0 2 * * *");
        schedule.TimeZone.ShouldBe("Europe/Berlin");
        image.Channels.ShouldBe(["dev", "staging", "prod"]);
    }

    [Fact]
    public void The_cloud_images_import_the_disk_their_local_target_builds()
    {
        // Act
        var set = DefinitionLoader.Load(_paths, new DateOnly(2025, 6, 1), TestProviders.Shipped);

        // Assert
        TargetSpec Cloud(string image, string provider, string formats)
        {
            var targets = set.FindImage(image)!.Targets;
            targets.Select(t => t.Provider).ShouldBe(["local", provider]);
            targets[0].Options["disk_layout"].ShouldBe("cis");
            targets[0].Options["disk_formats"].ShouldBe(formats);
            targets[1].Build.ShouldBe(BuildMode.Import);
            return targets[1];
        }
        var aws = Cloud("debian-11-cis-aws", "aws", "raw");
        aws.BaseImage.ShouldBe("debian-11-amd64-*");
        aws.Regions.ShouldBe(["eu-west-1", "us-east-1"]);
        aws.Options["source_ami_owner"].ShouldBe("136693071363");
        var azure = Cloud("debian-11-cis-azure", "azure", "raw,vhd");
        azure.BaseImage.ShouldBe("Debian:debian-11:11-gen2:latest");
        azure.Regions.ShouldBe(["westeurope", "northeurope"]);
        var gcp = Cloud("debian-11-cis-gcp", "gcp", "raw,tar-gz");
        gcp.BaseImage.ShouldBe("debian-11");
        gcp.Regions.ShouldBe(["europe-west1"]);
        // Each carries the shipped image's tests: the shipped baseline requires them.
        set.FindImage("debian-11-cis-aws")!.Tests.ShouldBe(set.FindImage("debian-11-cis")!.Tests);
    }

    [Fact]
    public void The_shipped_baseline_measures_with_the_anssi_high_profile()
    {
        // Act
        var baseline = DefinitionLoader
            .Load(_paths, new DateOnly(2025, 6, 1), TestProviders.Shipped)
            .FindBaseline("debian-11-anssi");

        // Assert
        baseline.ShouldNotBeNull();
        baseline.Hardening.ShouldBe("cis/debian-11");
        baseline.Scap.ShouldBe(
            new ScapSpec(
                "ssg-debian11-ds.xml",
                "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
            )
        );
        baseline.MinScore.ShouldBe(60);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (
            var file in Directory
                .EnumerateFiles(from)
                .Where(f =>
                    f.EndsWith(".yaml", StringComparison.Ordinal)
                    || f.EndsWith(".yml", StringComparison.Ordinal)
                )
        )
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
