using System.Text.Json;
using ImageForge.Core.Providers;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;
using ImageForge.Providers.Local;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.MultiCloud.Tests;

/// <summary>
/// <c>build: native</c> for azure and gcp: the shipped debian-11-cis-azure and debian-11-cis-gcp definitions, switched
/// to a native build, go through the unchanged imageforge command with fakepacker as Packer (it records the template,
/// the arguments and the var file it was given, and writes the manifest and the evidence a VM would give); the version
/// records the image the manifest names. Then the real Packer 1.6.6 validates the shipped template with exactly the
/// variables ImageForge passed, inside a network namespace of its own (no route anywhere: validation cannot reach
/// Azure, Google or a metadata service), and refuses it with one of them missing.
/// </summary>
public sealed class NativeTemplateSpecs : IDisposable
{
    private const string ManagedImage =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/imageforge-images/providers/"
        + "Microsoft.Compute/images/debian-11-cis-azure-native";

    private readonly TempDirectory _dir = new("imageforge-native");

    public static TheoryData<string, string, string> Clouds =>
        new()
        {
            { "debian-11-cis-azure", "azure", ManagedImage },
            { "debian-11-cis-gcp", "gcp", "debian-11-cis-gcp-native" },
        };

    [Theory(Timeout = 240_000)]
    [MemberData(nameof(Clouds))]
    public async Task A_native_build_runs_the_cloud_template_with_the_definitions_variables_and_records_the_manifests_image(
        string image,
        string provider,
        string artifactId
    )
    {
        var content = ContentCopy.Create(_dir.Combine("content-" + provider));
        ContentCopy.AddOpenBaseline(content);
        ContentCopy.Edit(
            content,
            Path.Combine("templates", "images", $"{image}.yaml"),
            yaml =>
                yaml.Replace("build: import", "build: native", StringComparison.Ordinal)
                    .Replace(
                        "baseline: debian-11-anssi",
                        "baseline: open",
                        StringComparison.Ordinal
                    )
        );
        var record = _dir.Combine($"{provider}-record.txt");
        var environment = FakePacker(provider, record, artifactId);

        var built = await RunAsync(
            content,
            environment,
            "build",
            image,
            "--target",
            provider,
            "--output",
            "json"
        );

        built.ExitCode.ShouldBe(0, built.ToString());
        var recorded = File.ReadAllLines(record);
        recorded.ShouldContain("command: build");
        var variables = Variables(recorded);
        using var json = JsonDocument.Parse(built.Out);
        var version = json.RootElement.GetProperty("version");
        var number = version.GetProperty("version").GetString()!;
        var artifacts = version
            .GetProperty("artifacts")
            .EnumerateArray()
            .Where(a => a.GetProperty("target").GetString() == provider)
            .ToList();
        variables["image_name"].ShouldBe(image);
        variables["version"].ShouldBe(number);
        variables["hardening_profile"].ShouldBe("cis/debian-11");
        variables["scap_datastream"].ShouldEndWith("/ssg-debian11-ds.xml");
        variables["templates_root"].ShouldBe(Path.Combine(content, "templates", "packer"));
        if (provider == "azure")
        {
            variables["base_publisher"].ShouldBe("Debian");
            variables["base_offer"].ShouldBe("debian-11");
            variables["base_sku"].ShouldBe("11-gen2");
            variables["base_version"].ShouldBe("latest");
            variables["location"].ShouldBe("westeurope");
            variables["replication_regions"].ShouldBe("westeurope,northeurope");
            variables["gallery"].ShouldBe("imageforge");
            variables["image_definition"].ShouldBe("debian-11-cis");
            variables["gallery_version"]
                .ShouldBe(new AzureProvider().NameInProvider(image, number));
            artifacts
                .Select(a => a.GetProperty("region").GetString())
                .ShouldBe(["westeurope", "northeurope"]);
            artifacts
                .Select(a => a.GetProperty("path").GetString())
                .Distinct()
                .ShouldHaveSingleItem()
                .ShouldEndWith(
                    $"/galleries/imageforge/images/debian-11-cis/versions/{variables["gallery_version"]}"
                );
        }
        else
        {
            variables["project_id"].ShouldBe("imageforge-images");
            variables["source_image_family"].ShouldBe("debian-11");
            variables["source_image"].ShouldBe("");
            variables["source_image_project_id"].ShouldBe("debian-cloud");
            variables["zone"].ShouldBe("europe-west1-b");
            variables["gce_image_name"].ShouldBe(GcpNames.Image(image, number));
            recorded.ShouldContain("sensitive: account_file");
            artifacts
                .ShouldHaveSingleItem()
                .GetProperty("path")
                .GetString()
                .ShouldBe(GcpNames.SelfLink("imageforge-images", artifactId));
        }

        var statement = await StatementAsync(content, environment, image);
        var subject = statement.ImageSubject(
            provider,
            artifacts[0].GetProperty("region").GetString()!,
            artifacts[0].GetProperty("path").GetString()!
        );
        if (provider == "azure")
        {
            subject
                .Annotations!.Value.GetProperty("managed-image")
                .GetString()
                .ShouldBe(artifactId);
        }

        // The real Packer accepts the shipped template with exactly these variables, and refuses it without one. The
        // build removed its work directory, and with it the tailoring file it wrote there: validate checks that
        // every file it would upload exists.
        Directory.CreateDirectory(Path.GetDirectoryName(variables["scap_tailoring"])!);
        File.WriteAllText(variables["scap_tailoring"], "");
        var template = Path.Combine(content, "templates", "packer", provider);
        await ValidateAsync(template, variables);
        var missing = new SortedDictionary<string, string>(variables, StringComparer.Ordinal);
        missing.Remove("output_dir");
        var refused = await Should.ThrowAsync<PackerFailedException>(() =>
            ValidateAsync(template, missing)
        );
        refused.Message.ShouldContain("output_dir");
    }

    public void Dispose() => _dir.Dispose();

    // fakepacker as Packer: it records what it is given and leaves the manifest and evidence in the output directory.
    private Dictionary<string, string> FakePacker(string provider, string record, string artifactId)
    {
        var files = _dir.Combine($"{provider}-vm-files");
        Directory.CreateDirectory(files);
        File.WriteAllText(
            Path.Combine(files, "packages.tsv"),
            string.Join('\t', Core.Inventory.PackageInventory.Columns)
                + "\nbash\t5.1-2+deb11u1\tamd64\tbash\t5.1-2+deb11u1\tDebian\t6469\tGPL-3+\tdeb\n"
        );
        var manifest = _dir.Combine($"{provider}-manifest.json");
        File.WriteAllText(
            manifest,
            $$"""
            {
              "builds": [
                {
                  "name": "{{provider}}",
                  "builder_type": "{{(provider == "azure" ? "azure-arm" : "googlecompute")}}",
                  "build_time": 1764806400,
                  "files": null,
                  "artifact_id": "{{artifactId}}",
                  "packer_run_uuid": "6c0ab1b3-1d07-4b0e-a7f4-2b6f3c9a7e10",
                  "custom_data": null
                }
              ],
              "last_run_uuid": "6c0ab1b3-1d07-4b0e-a7f4-2b6f3c9a7e10"
            }
            """
        );
        var key = _dir.Combine("gcp-key.json");
        File.WriteAllText(key, "{}");
        return new Dictionary<string, string>
        {
            ["IMAGEFORGE_PACKER"] = Path.Combine(AppContext.BaseDirectory, "fakepacker"),
            ["FAKEPACKER_RECORD"] = record,
            ["FAKEPACKER_OUTPUT_VAR"] = "output_dir",
            ["FAKEPACKER_FILES_FROM"] = files,
            ["FAKEPACKER_MANIFEST_IN"] = manifest,
            ["GOOGLE_APPLICATION_CREDENTIALS"] = key,
        };
    }

    private static SortedDictionary<string, string> Variables(IEnumerable<string> recorded) =>
        new(
            recorded
                .Where(l => l.StartsWith("var: ", StringComparison.Ordinal))
                .Select(l => l["var: ".Length..].Split('=', 2))
                .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal),
            StringComparer.Ordinal
        );

    // packer validate in a new network namespace: `unshare -n` (the specs run as root) leaves it only a loopback
    // that is down, so any connection Packer tried would fail the validation instead of reaching anything.
    private async Task ValidateAsync(string template, SortedDictionary<string, string> variables)
    {
        var wrapper = _dir.Combine("packer-offline");
        if (!File.Exists(wrapper))
        {
            File.WriteAllText(wrapper, "#!/bin/sh\nexec unshare --net packer \"$@\"\n");
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var varFile = _dir.Combine($"{Path.GetFileName(template)}-{variables.Count}.pkrvars.hcl");
        File.WriteAllText(varFile, PackerVarFile.Write(variables));
        var packer = new PackerClient(new ProcessRunner(TimeProvider.System), wrapper);
        (await packer.GetVersionAsync()).Version.ShouldBe(new Version(1, 6, 6));
        await packer.ValidateAsync(
            new PackerInvocation(template)
                .WithVarFile(varFile)
                .WithEnvironment("CHECKPOINT_DISABLE", "1")
                .WithTimeout(TimeSpan.FromMinutes(2))
        );
    }

    private Task<CliResult> RunAsync(
        string content,
        IReadOnlyDictionary<string, string> environment,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            content,
            environment,
            new ProviderRegistry([new LocalProvider(), new AzureProvider(), new GcpProvider()]),
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    private async Task<SignedStatement> StatementAsync(
        string content,
        IReadOnlyDictionary<string, string> environment,
        string image
    )
    {
        var shown = await RunAsync(
            content,
            environment,
            "images",
            "show",
            image,
            "--output",
            "json"
        );
        shown.ExitCode.ShouldBe(0, shown.ToString());
        return SignedStatement.OfNewestVersion(shown.Out);
    }
}
