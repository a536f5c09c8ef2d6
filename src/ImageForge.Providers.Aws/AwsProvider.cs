using System.Text.Json;
using ImageForge.Core.Admission;
using ImageForge.Core.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Aws;

/// <summary>The AWS provider module: AMIs in EC2 (definitions validated; building and distribution arrive with the AWS provider).</summary>
public sealed class AwsProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "aws";

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
