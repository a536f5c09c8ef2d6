using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;
using ImageForge.CloudFakes.Aws;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.Providers.Aws;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.E2E;

/// <summary>
/// The native path (build: native) end to end: real Packer 1.6.6 amazon-ebs against the AWS fake, whose RunInstances
/// starts a real sshd chrooted into a copy of a bootstrapped Debian 11 tree (<see cref="ChrootSshHost"/>); the
/// hardening, inventory, clean and OpenSCAP scan run over real SSH inside it; CreateImage snapshots the tree. One build.
/// </summary>
public sealed class AwsNativeSpecs(ITestOutputHelper output) : IDisposable
{
    private const string Home = "eu-west-1";
    private const string Other = "us-east-1";
    private const string DebianOwner = "136693071363";

    private readonly TempDirectory _dir = new("imageforge-aws-native-e2e");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 900_000)]
    public async Task Packer_builds_an_ami_per_region_over_ssh_and_its_scan_equals_the_local_targets_scan_of_the_same_tree()
    {
        var total = Stopwatch.StartNew();
        var tree = await BootstrapAsync(_dir.Combine("base"));
        output.WriteLine($"bootstrap: {total.Elapsed.TotalSeconds:F0} s");

        // Images are available at the first describe: Packer's waiter polls every 15 s.
        await using var fake = await AwsFake.StartAsync(
            options: new AwsFakeOptions { DescribesUntilAvailable = 0 }
        );
        var host = new ChrootSshHost(_dir.Combine("instances"), FreePort());
        fake.InstanceHost = host;
        fake.RegisterSourceImage(Home, "debian-11-amd64-20260101-1", DebianOwner, tree);
        var content = ContentCopy.Create(_dir.Combine("content"));
        var baseline = Baseline(content);
        var definition = Definition(host.Port);
        var variables = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = fake.Url.ToString(),
            ["AWS_ACCESS_KEY_ID"] = AwsFake.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = AwsFake.SecretAccessKey,
        };
        var builder = new AwsProvider()
            .Connect(
                new ProviderContext(
                    TimeProvider.System,
                    new DataPaths(_dir.Combine("data")),
                    name => variables.GetValueOrDefault(name),
                    new Dictionary<string, string>()
                )
            )
            .Builder.ShouldNotBeNull();
        var sink = new Sink(output);
        var request = new TargetBuildRequest(
            "b-native-e2e",
            definition,
            baseline,
            definition.Targets[0],
            ContentPaths.UnderRoot(content),
            _dir.Combine("work"),
            _dir.Combine("out"),
            _dir.Combine("cache"),
            new Dictionary<string, string>()
        );
        builder.Preflight(baseline, request.Target, request.Content).ShouldBeEmpty();

        var packer = Stopwatch.StartNew();
        TargetBuildResult result;
        try
        {
            result = await builder.BuildAsync(request, sink);
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.Output));
        }

        output.WriteLine(
            $"packer build: {packer.Elapsed.TotalSeconds:F0} s, {fake.Requests.Total} AWS requests"
        );

        // An AMI per region, from the manifest, with the snapshots EC2 holds.
        result.Artifacts.Select(a => a.Region).ShouldBe([Home, Other]);
        result.Artifacts.ShouldAllBe(a =>
            a.Kind == AwsProvider.AmiKind && a.Details["snapshots"].StartsWith("snap-")
        );
        fake.Requests.Of("RunInstances").ShouldBe(1);
        fake.Requests.Of("CreateImage").ShouldBe(1);
        fake.Requests.Of("CopyImage", Other).ShouldBe(1);
        fake.AssertNoModelProblems();

        // The instance is gone: no process of it, no mount, no tree.
        fake.LiveMachines.ShouldBe(0);
        host.ProcessesInside().ShouldBeEmpty();
        MountTable.MountsBelow(_dir.Path).ShouldBeEmpty();

        // The evidence came from inside the instance over SSH.
        var evidence = result.Evidence.ToDictionary(e => e.Kind, e => e.Location);
        var after = evidence[ComplianceCollector.AfterResultsKind];
        var native = RuleResults(after);
        native.Count.ShouldBeGreaterThan(40);
        (await File.ReadAllLinesAsync(evidence["package-inventory"])).ShouldContain(l =>
            l.StartsWith("openssh-server\t", StringComparison.Ordinal)
        );
        (await File.ReadAllTextAsync(evidence["hardening-report"])).ShouldContain(
            "\taudit\tpass\t"
        );

        // The local target's scan (offline, through a read-only bind mount of the tree) of the AMI's tree.
        var imageTree = Directory
            .EnumerateDirectories(_dir.Combine("instances", "images"))
            .Single(d => Path.GetFileName(d) == result.Artifacts[0].Location);
        var local = RuleResults(await ScanOfflineAsync(imageTree, baseline));
        var differences = native
            .Where(r => local.GetValueOrDefault(r.Key) != r.Value)
            .Select(r => $"{r.Key}: native {r.Value}, local {local.GetValueOrDefault(r.Key)}")
            .ToList();
        output.WriteLine(
            $"rules: {native.Count}, differing: {differences.Count}\n"
                + string.Join('\n', differences)
        );
        output.WriteLine($"total: {total.Elapsed.TotalSeconds:F0} s");
        local.Keys.Order().ShouldBe(native.Keys.Order());
        // The instance is a chroot, not a VM: a sysctl probe on it reads this machine's kernel, where the offline scan
        // reads the tree's sysctl configuration (which a booted instance would apply). Only such rules may differ.
        differences.ShouldAllBe(
            d => LiveKernelSetting(d.Split(':')[0]) != null,
            string.Join('\n', differences)
        );
    }

    // The /proc/sys entry a sysctl rule checks (xccdf_..._rule_sysctl_fs_protected_symlinks: fs/protected_symlinks),
    // or null for a rule that checks no kernel setting.
    private static string? LiveKernelSetting(string rule)
    {
        const string Prefix = "xccdf_org.ssgproject.content_rule_sysctl_";
        return rule.StartsWith(Prefix, StringComparison.Ordinal)
            ? Resolve("/proc/sys", rule[Prefix.Length..].Split('_'))
            : null;

        // Underscores separate path segments and also occur inside them: the longest segment that exists wins.
        static string? Resolve(string dir, string[] tokens)
        {
            for (var take = tokens.Length; take > 0; take--)
            {
                var entry = Path.Combine(dir, string.Join('_', tokens[..take]));
                if (take == tokens.Length && File.Exists(entry))
                {
                    return entry;
                }

                if (
                    take < tokens.Length
                    && Directory.Exists(entry)
                    && Resolve(entry, tokens[take..]) is { } found
                )
                {
                    return found;
                }
            }

            return null;
        }
    }

    // Debian 11 minbase with openssh-server and sudo, the user admin (sudo without a password, as Debian's AMIs), and
    // OpenSCAP from bookworm: Debian 11 has no OpenSCAP package, and the scan must run inside the instance.
    private static async Task<string> BootstrapAsync(string tree)
    {
        var outcome = await Tools.RunForOutcomeAsync(
            null,
            "mmdebstrap",
            "--mode=root",
            "--variant=minbase",
            "--include=openssh-server,sudo",
            "--customize-hook=echo 'deb http://deb.debian.org/debian bookworm main' > \"$1/etc/apt/sources.list.d/bookworm.list\"",
            "--customize-hook=chroot \"$1\" apt-get update -q",
            "--customize-hook=chroot \"$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm openscap-scanner",
            "--customize-hook=rm -f \"$1/etc/apt/sources.list.d/bookworm.list\"",
            "--customize-hook=chroot \"$1\" useradd -m -s /bin/bash admin",
            "--customize-hook=echo 'admin ALL=(ALL) NOPASSWD:ALL' > \"$1/etc/sudoers.d/admin\"; chmod 0440 \"$1/etc/sudoers.d/admin\"",
            "bullseye",
            tree,
            "deb http://deb.debian.org/debian bullseye main"
        );
        outcome.ExitCode.ShouldBe(0, outcome.ToString());
        return tree;
    }

    private async Task<string> ScanOfflineAsync(string tree, Baseline baseline)
    {
        var results = _dir.Combine("local-results.xml");
        var mount = _dir.Combine("scan-root");
        Directory.CreateDirectory(mount);
        var datastream = Path.Combine("/usr/share/xml/scap/ssg/content", baseline.Scap.Datastream);
        var outcome = await Tools.RunForOutcomeAsync(
            null,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && "
                + "OSCAP_PROBE_ROOT=\"$2\" oscap xccdf eval --profile \"$3\" --results \"$4\" \"$5\"; "
                + "rc=$?; [ $rc -eq 0 ] || [ $rc -eq 2 ]",
            "scan",
            tree,
            mount,
            baseline.Scap.Profile,
            results,
            datastream
        );
        outcome.ExitCode.ShouldBe(0, outcome.ToString());
        return results;
    }

    private static Dictionary<string, string> RuleResults(string file)
    {
        XNamespace xccdf = "http://checklists.nist.gov/xccdf/1.2";
        return XDocument
            .Load(file)
            .Descendants(xccdf + "rule-result")
            .ToDictionary(
                r => (string)r.Attribute("idref")!,
                r => r.Element(xccdf + "result")!.Value,
                StringComparer.Ordinal
            );
    }

    private static ImageDefinition Definition(int port) =>
        new()
        {
            Name = "debian-11-native",
            Description = "native path",
            Os = new OsSpec("debian", "11"),
            Baseline = "debian-11-anssi",
            Packages = PackageSpec.None,
            Channels = ["dev"],
            SourceFile = "images/debian-11-native.yaml",
            Targets =
            [
                new TargetSpec
                {
                    Provider = "aws",
                    BaseImage = "debian-11-amd64-*",
                    Regions = [Home, Other],
                    Options = new Dictionary<string, string>
                    {
                        ["source_ami_owner"] = DebianOwner,
                        ["instance_type"] = "t3.small",
                        ["ssh_username"] = "admin",
                        ["ssh_port"] = port.ToString(
                            System.Globalization.CultureInfo.InvariantCulture
                        ),
                        ["encrypt"] = "false",
                    },
                    Secrets = new Dictionary<string, string>(),
                    Build = BuildMode.Native,
                },
            ],
        };

    private static Baseline Baseline(string content) =>
        new()
        {
            Name = "debian-11-anssi",
            Description = "ANSSI high",
            Os = new OsSpec("debian", "11"),
            Hardening = "cis/debian-11",
            Scap = new ScapSpec(
                "ssg-debian11-ds.xml",
                "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
            ),
            MinScore = 0,
            Waivers = [],
            SourceFile = Path.Combine(content, "baselines", "debian-11-anssi.yaml"),
        };

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Sink(ITestOutputHelper output) : ITargetBuildSink
    {
        public void Progress(string stage, string detail) =>
            output.WriteLine($"{stage} | {detail}");

        public void Log(string stream, string text) => output.WriteLine($"[{stream}] {text}");

        public void ToolStarted(int processGroup) { }
    }
}
