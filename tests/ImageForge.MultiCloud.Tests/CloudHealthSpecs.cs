using System.Text.Json;
using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace ImageForge.MultiCloud.Tests;

/// <summary>
/// The worker's <c>GET /health</c> asks each cloud the definitions target, with the worker's own credentials, through
/// the real SDKs against the fakes: one check per AWS home region and role, Azure gallery and GCP project and key;
/// a refused role, a missing gallery and an unreadable key each degrade it with a reason, and no identity or secret
/// is in the answer.
/// </summary>
public sealed class CloudHealthSpecs(CloudsFixture fixture)
    : IClassFixture<CloudsFixture>,
        IDisposable
{
    private const string MissingKeyVariable = "IMAGEFORGE_TEST_MISSING_GCP_KEY";

    private readonly TempDirectory _dir = new("imageforge-cloud-health");
    private readonly DiskMaker _disks = new();

    private ThreeClouds Clouds => fixture.Clouds;

    [Fact(Timeout = 60_000)]
    public async Task Health_reports_each_cloud_place_the_definitions_name_and_why_one_is_refused()
    {
        var content = ContentCopy.Create(_dir.Combine("content"));
        ContentCopy.AddOpenBaseline(content);
        // Only this spec's two images: the shipped cloud definitions name galleries and projects the fakes lack.
        foreach (var shipped in Directory.GetFiles(Path.Combine(content, "templates", "images")))
        {
            File.Delete(shipped);
        }
        Write(content, "health-good", ThreeClouds.CloudTargets("health-good"));
        Write(
            content,
            "health-bad",
            ThreeClouds
                .AwsTarget()
                .Replace(
                    "encrypt: false",
                    "encrypt: false\n      role_arn: arn:aws:iam::123456789012:role/not-trusted",
                    StringComparison.Ordinal
                )
                + "\n"
                + ThreeClouds
                    .AzureTarget("health-bad")
                    .Replace(
                        $"gallery: {ThreeClouds.AzureGallery}",
                        "gallery: missing",
                        StringComparison.Ordinal
                    )
                + "\n"
                + ThreeClouds
                    .GcpTarget("health-bad")
                    .Replace(
                        $"bucket: {ThreeClouds.GcpBucket}",
                        $"bucket: {ThreeClouds.GcpBucket}\n      credentials_variable: {MissingKeyVariable}",
                        StringComparison.Ordinal
                    )
        );
        var variables = new Dictionary<string, string>(Clouds.Variables)
        {
            [MissingKeyVariable] = _dir.Combine("no-such-key.json"),
        };
        var host = new PipelineHost(
            new HostPaths(ContentPaths.UnderRoot(content), new DataPaths(_dir.Combine("data"))),
            TimeProvider.System,
            name => variables.GetValueOrDefault(name),
            RepoPaths.Root,
            variables
        )
        {
            Resolvers = [],
        };

        JsonElement health;
        var worker = await WorkerHost.CreateAsync(
            new WorkerOptions(
                host,
                Clouds.Providers(_disks),
                WorkerConfig.Default,
                ["--urls", "http://127.0.0.1:0"]
            ),
            CancellationToken.None
        );
        await using (worker)
        {
            await worker.App.StartAsync();
            var url = worker
                .App.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()!
                .Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var body = await http.GetStringAsync(new Uri("/health", UriKind.Relative));
            health = JsonDocument.Parse(body).RootElement.Clone();
            body.ShouldNotContain("123456789012");
            body.ShouldNotContain(variables["AWS_SECRET_ACCESS_KEY"]);
            await worker.App.StopAsync();
        }

        health.GetProperty("status").GetString().ShouldBe("degraded", health.ToString());
        var providers = health.GetProperty("providers");
        Checks(providers, "aws")
            .ShouldBe(
                [
                    (ThreeClouds.AwsHome, true, "reachable"),
                    ($"{ThreeClouds.AwsHome} as role not-trusted", false, "403 AccessDenied"),
                ],
                ignoreOrder: true
            );
        Checks(providers, "azure")
            .ShouldBe(
                [
                    (
                        $"gallery {ThreeClouds.AzureResourceGroup}/{ThreeClouds.AzureGallery}",
                        true,
                        "reachable"
                    ),
                    (
                        $"gallery {ThreeClouds.AzureResourceGroup}/missing",
                        false,
                        "404 ResourceNotFound"
                    ),
                ],
                ignoreOrder: true
            );
        Checks(providers, "gcp")
            .ShouldBe(
                [
                    ($"project {ThreeClouds.GcpProject}", true, "reachable"),
                    ($"project {ThreeClouds.GcpProject}", false, "no usable credentials"),
                ],
                ignoreOrder: true
            );
        foreach (var cloud in new[] { "aws", "azure", "gcp" })
        {
            providers.GetProperty(cloud).GetProperty("available").GetBoolean().ShouldBeFalse();
        }
    }

    public void Dispose() => _dir.Dispose();

    private static List<(string Scope, bool Ok, string Detail)> Checks(
        JsonElement providers,
        string cloud
    ) =>
        [
            .. providers
                .GetProperty(cloud)
                .GetProperty("checks")
                .EnumerateArray()
                .Select(c =>
                    (
                        c.GetProperty("scope").GetString()!,
                        c.GetProperty("ok").GetBoolean(),
                        c.GetProperty("detail").GetString()!
                    )
                ),
        ];

    private static void Write(string content, string image, string targets) =>
        File.WriteAllText(
            Path.Combine(content, "templates", "images", $"{image}.yaml"),
            $"""
            name: {image}
            description: what /health asks the clouds
            os: {"{"} family: debian, release: "11" {"}"}
            baseline: open
            targets:
              - provider: {DiskMaker.ProviderName}
                base_image: bullseye
            {targets}
            channels: [dev, staging, prod]
            """
        );
}
