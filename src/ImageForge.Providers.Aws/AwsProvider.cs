using System.Text.Json;
using ImageForge.Core.Admission;
using ImageForge.Core.Providers;
using ImageForge.Providers.Aws.Connection;
using ImageForge.Providers.Aws.Distribution;
using ImageForge.Providers.Aws.Import;
using ImageForge.Providers.Aws.Native;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Aws;

/// <summary>
/// The AWS provider module: the build's raw disk imported as AMIs in every region of the target (docs/aws.md), shared,
/// published and deprecated per channel, and deleted with their snapshots.
/// </summary>
public sealed class AwsProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "aws";

    /// <summary>The artifact kind of an AMI (its location is the AMI id, its region the artifact's).</summary>
    public const string AmiKind = "ami";

    private readonly AwsProviderOptions _options;

    /// <summary>The module with AWS's own endpoints and waits.</summary>
    public AwsProvider()
        : this(new AwsProviderOptions()) { }

    internal AwsProvider(AwsProviderOptions options) => _options = options;

    /// <summary>An AMI is named <c>&lt;image&gt;-&lt;version&gt;</c> (the version's dots are allowed in AMI names).</summary>
    public override string NameInProvider(string image, string version) => AmiName(image, version);

    /// <summary>The AMI name of a version.</summary>
    public static string AmiName(string image, string version) => $"{image}-{version}";

    /// <inheritdoc />
    public override ProviderServices Connect(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clients = new AwsClients(context.Variable, _options.MaxErrorRetry);
        var waits = new AwsWaits(context.Time, _options.PollInterval, _options.WaitTimeout);
        // build: native runs real Packer (amazon-ebs); build: import imports the disk of the same build.
        var native = new AwsNativeBuilder(
            new PackerClient(new ProcessRunner(context.Time), context.PackerExecutable),
            clients,
            context.ToolEnvironment
        );
        return new ProviderServices(native, null, new AwsDistribution(clients, context.Time))
        {
            Importer = new AwsImporter(clients, waits),
            Access = new AwsAccess(clients),
        };
    }

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = AwsRules.Create();

    /// <inheritdoc />
    public override IEnumerable<string> TerraformImageIds(
        string resourceType,
        JsonElement values
    ) =>
        resourceType switch
        {
            "aws_instance" => TerraformValues.Strings(values, "ami"),
            "aws_launch_template" => TerraformValues.Strings(values, "image_id"),
            _ => [],
        };
}

/// <summary>How the module waits on EC2; tests shorten the interval.</summary>
internal sealed record AwsProviderOptions
{
    /// <summary>Between two polls of an import task or an image's state.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the SDK retries a throttled, failed or cut call (its standard policy, with backoff).</summary>
    public int MaxErrorRetry { get; init; } = 6;

    /// <summary>How long one wait (an import task, an image becoming available, a copy) may take.</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromHours(2);
}

/// <summary>Registers the AWS provider.</summary>
public static class AwsProviderServiceCollectionExtensions
{
    /// <summary>Adds the AWS provider.</summary>
    public static IServiceCollection AddAwsProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProviderModule, AwsProvider>());
        services.TryAddSingleton<ProviderRegistry>();
        return services;
    }
}
