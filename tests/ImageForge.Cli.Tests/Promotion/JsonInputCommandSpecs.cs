using System.Text;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// The JSON the commands read, of the wrong shape, end to end: <c>admit --terraform-plan</c> exits 2 naming the plan
/// (it aborted with exit 134 on a root that is not an object); a signature envelope read back by <c>verify</c> and
/// <c>admit</c> is a failed check naming the envelope (exit 1), as any other tampered evidence.
/// </summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class JsonInputCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-json-input");

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    public static IEnumerable<object[]> Plans =>
        BadJson.Rows(
            ("root_module missing", """{"planned_values":{}}""", "no planned_values.root_module"),
            (
                "resources an object",
                """{"planned_values":{"root_module":{"resources":{}}}}""",
                "$.planned_values.root_module.resources: expected an array, found an object"
            )
        );

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Plans))]
    public async Task Admit_refuses_a_plan_of_the_wrong_shape_with_exit_2_naming_the_file(
        string shape,
        string json,
        string says
    )
    {
        var plan = _dir.Combine("plan.json");
        await File.WriteAllTextAsync(plan, json);

        var result = await RunAsync("admit", "--terraform-plan", plan, "--channel", "prod");

        result.ExitCode.ShouldBe(2, $"{shape}\n{result}");
        result.Error.ShouldStartWith($"error: {plan}: ", Case.Sensitive, shape);
        result.Error.ShouldContain(says, Case.Sensitive, shape);
        Directory.Exists(DataDir).ShouldBeFalse("nothing is written for bad input");
    }

    [Fact(Timeout = 60_000)]
    public async Task Admit_refuses_a_50_MB_array_from_its_first_byte_and_a_plan_over_64_MiB_unread()
    {
        var array = _dir.Combine("array.json");
        await using (var writer = new StreamWriter(array, false, Encoding.ASCII))
        {
            await writer.WriteAsync('[');
            for (var i = 0; i < 5_000_000; i++)
            {
                await writer.WriteAsync("123456789,");
            }

            await writer.WriteAsync("0]");
        }

        var huge = _dir.Combine("huge.json");
        await using (var stream = File.Create(huge))
        {
            stream.SetLength(64L * 1024 * 1024 + 1);
        }

        var fromArray = await RunAsync("admit", "--terraform-plan", array);
        var fromHuge = await RunAsync("admit", "--terraform-plan", huge);

        new FileInfo(array).Length.ShouldBeGreaterThan(50_000_000);
        fromArray.ExitCode.ShouldBe(2, fromArray.ToString());
        fromArray.Error.ShouldContain($"{array}: $: expected a Terraform JSON plan");
        fromArray.Error.ShouldContain("found an array");
        fromHuge.ExitCode.ShouldBe(2, fromHuge.ToString());
        fromHuge.Error.ShouldContain($"{huge}: too large for a Terraform JSON plan");
        fromHuge.Error.ShouldContain("64 MiB");
    }

    public static IEnumerable<object[]> Envelopes =>
        BadJson.Rows(
            ("signatures an object", """{"payloadType":"t","payload":"e30=","signatures":{}}""", "")
        );

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Envelopes))]
    public async Task Verify_and_admit_fail_a_version_whose_envelope_has_the_wrong_shape_naming_the_envelope(
        string shape,
        string json,
        string says
    )
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        var envelope = v.Evidence.Single(e => e.Kind == "provenance-dsse").Location;
        await File.WriteAllTextAsync(envelope, json);

        var verify = await RunAsync("verify", $"debian-11-cis@{v.Version}");
        var admit = await RunAsync(
            "admit",
            "--provider",
            "local",
            "--image-id",
            "sha256:" + v.Artifacts[0].Sha256
        );

        verify.ExitCode.ShouldBe(1, $"{shape}\n{verify}");
        verify.Out.ShouldContain(
            $"the signature envelope {envelope} is unreadable: not a DSSE JSON envelope",
            Case.Sensitive,
            shape
        );
        verify.Out.ShouldContain(says, Case.Sensitive, shape);
        admit.ExitCode.ShouldBe(1, $"{shape}\n{admit}");
        admit.Out.ShouldContain(
            $"the signature envelope {envelope} is unreadable",
            Case.Sensitive,
            shape
        );
    }

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = "alice" },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );
}
