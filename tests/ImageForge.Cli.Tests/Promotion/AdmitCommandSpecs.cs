using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>The deploy-time gate: admitted only when signed, built (not revoked) and in the channel.</summary>
public sealed class AdmitCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-admit");

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task A_signed_version_in_the_channel_is_admitted_by_its_file_or_its_digest()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var disk = v.Artifacts[0];

        var byFile = await RunAsync(
            "admit",
            "--provider",
            "local",
            "--image-id",
            disk.Location,
            "--channel",
            "dev"
        );
        var byDigest = await RunAsync(
            "admit",
            "--provider",
            "local",
            "--image-id",
            "sha256:" + disk.Sha256
        );

        byFile.ExitCode.ShouldBe(0, byFile.ToString());
        byFile.Out.ShouldContain(
            $"admitted: local image {disk.Location} is debian-11-cis@{v.Version}, signed, in dev"
        );
        byDigest.ExitCode.ShouldBe(0, byDigest.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_revoked_unsigned_or_not_in_channel_image_is_refused_with_the_reason()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var disk = v.Artifacts[0].Location;
        var stranger = _dir.Combine("stranger.raw");
        await File.WriteAllTextAsync(stranger, "not built by imageforge");

        var unknown = await RunAsync("admit", "--provider", "local", "--image-id", stranger);
        var otherChannel = await RunAsync(
            "admit",
            "--provider",
            "local",
            "--image-id",
            disk,
            "--channel",
            "staging"
        );
        var envelope = v.Evidence.Single(e => e.Kind == "provenance-dsse").Location;
        var original = await File.ReadAllTextAsync(envelope);
        var sig = original.IndexOf("\"sig\":\"", StringComparison.Ordinal) + 7;
        var flipped = original[sig] == 'A' ? 'B' : 'A';
        await File.WriteAllTextAsync(envelope, original[..sig] + flipped + original[(sig + 1)..]);
        var unsigned = await RunAsync("admit", "--provider", "local", "--image-id", disk);
        await File.WriteAllTextAsync(envelope, original);
        await RunAsync("revoke", $"debian-11-cis@{v.Version}", "--reason", "broken sshd");
        var revoked = await RunAsync("admit", "--provider", "local", "--image-id", disk);

        unknown.ExitCode.ShouldBe(1, unknown.ToString());
        unknown.Out.ShouldContain("no ImageForge version has a local artifact");
        otherChannel.ExitCode.ShouldBe(1, otherChannel.ToString());
        otherChannel.Out.ShouldContain("is not what staging points at (it points at nothing)");
        unsigned.ExitCode.ShouldBe(1, unsigned.ToString());
        unsigned.Out.ShouldContain("provenance does not verify");
        revoked.ExitCode.ShouldBe(1, revoked.ToString());
        revoked.Out.ShouldContain("is revoked");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_terraform_plan_with_one_bad_image_reference_exits_1_naming_the_resource_address()
    {
        var v = await SignedVersions.RecordAsync(
            DataDir,
            TimeProvider.System,
            places: [("aws", "eu-west-1")]
        );
        await RunAsync("promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var plan = _dir.Combine("plan.json");
        await File.WriteAllTextAsync(
            plan,
            """
            {"format_version":"1.2","planned_values":{"root_module":{
              "resources":[{"address":"aws_instance.ok","type":"aws_instance","values":{"ami":"OUR-IMAGE"}}],
              "child_modules":[{"address":"module.web","resources":[
                {"address":"module.web.aws_launch_template.bad","type":"aws_launch_template","values":{"image_id":"ami-0123456789abcdef0"}},
                {"address":"module.web.google_compute_instance.vm","type":"google_compute_instance",
                 "values":{"boot_disk":[{"initialize_params":[{"image":"projects/x/global/images/y"}]}]}}]}]}}}
            """.Replace("OUR-IMAGE", v.Artifacts[0].Location, StringComparison.Ordinal)
        );

        var result = await RunAsync("admit", "--terraform-plan", plan, "--channel", "dev");
        var broken = _dir.Combine("broken.json");
        await File.WriteAllTextAsync(broken, "{ not json");
        var bad = await RunAsync("admit", "--terraform-plan", broken);

        result.ExitCode.ShouldBe(1, result.ToString());
        // The AWS provider distributes: the promoted version's image is admitted, the two others are not.
        result.Out.ShouldContain(
            $"admitted: aws_instance.ok (aws image {v.Artifacts[0].Location})"
        );
        result.Out.ShouldContain(
            "refused: module.web.aws_launch_template.bad (aws image ami-0123456789abcdef0)"
        );
        result.Out.ShouldContain(
            "refused: module.web.google_compute_instance.vm (gcp image projects/x/global/images/y)"
        );
        bad.ExitCode.ShouldBe(2, bad.ToString());
        bad.Error.ShouldContain("broken.json");
    }

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = "alice" },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );
}
