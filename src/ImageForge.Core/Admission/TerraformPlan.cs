using System.Text.Json;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using ImageForge.Core.Providers;

namespace ImageForge.Core.Admission;

/// <summary>One image a Terraform plan would deploy: the resource's address, the cloud and the image id.</summary>
public sealed record PlannedImage(string Address, string Provider, string ImageId);

/// <summary>
/// Reads the image references out of a Terraform JSON plan (<c>terraform show -json plan.out</c>): the planned values
/// of every module, for the resource types each provider module says boot one of its images
/// (<see cref="ProviderModule.TerraformImageIds"/>).
/// </summary>
public static class TerraformPlan
{
    /// <summary>The largest plan read: 64 MiB (a plan of thousands of resources is a few MiB).</summary>
    public const long MaxBytes = JsonInput.DefaultMaxBytes;

    private const string What =
        "a Terraform JSON plan ('terraform show -json plan.out > plan.json')";

    /// <summary>
    /// Every image the plan would boot, by resource address and provider. A file that is not such a plan (too large,
    /// not JSON, nested too deep, a member of the wrong type) is an <see cref="InvalidInputException"/> naming the file
    /// and the JSON path.
    /// </summary>
    public static IReadOnlyList<PlannedImage> Read(string file, ProviderRegistry providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        using var document = JsonInput.ParseObjectFile(file, What, MaxBytes);
        var root = JsonValueAt.Root(document, file);
        var module =
            root.Optional("planned_values")?.Optional("root_module")
            ?? throw root.Error(
                "no planned_values.root_module; is this the output of 'terraform show -json' on a plan?"
            );
        var images = new List<PlannedImage>();
        Collect(module, providers, images);
        return images;
    }

    private static void Collect(
        JsonValueAt module,
        ProviderRegistry providers,
        List<PlannedImage> images
    )
    {
        foreach (var resource in module.Optional("resources")?.Items() ?? [])
        {
            var address = resource.Required("address").AsString();
            var type = resource.Required("type").AsString();
            if (resource.Optional("values") is not { } values)
            {
                continue;
            }

            var planned = values.AsObject().Value;
            foreach (var provider in providers.Modules)
            {
                foreach (var id in provider.TerraformImageIds(type, planned))
                {
                    images.Add(new PlannedImage(address, provider.Name, id));
                }
            }
        }

        foreach (var child in module.Optional("child_modules")?.Items() ?? [])
        {
            Collect(child, providers, images);
        }
    }
}

/// <summary>Readers of a Terraform resource's planned values, for the providers' image references.</summary>
public static class TerraformValues
{
    /// <summary>The attribute <paramref name="name"/> when it is a non-empty string.</summary>
    public static IEnumerable<string> Strings(JsonElement values, string name) =>
        values.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } id
            ? [id]
            : [];

    /// <summary>
    /// The string at <paramref name="path"/> through nested blocks (Terraform writes them as lists of objects: every
    /// element of each level is walked).
    /// </summary>
    public static IReadOnlyList<string> Nested(JsonElement values, params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        IEnumerable<JsonElement> level = [values];
        foreach (var name in path[..^1])
        {
            level = level
                .Where(e =>
                    e.ValueKind == JsonValueKind.Object
                    && e.TryGetProperty(name, out var v)
                    && v.ValueKind == JsonValueKind.Array
                )
                .SelectMany(e => e.GetProperty(name).EnumerateArray());
        }

        return level
            .SelectMany(e => e.ValueKind == JsonValueKind.Object ? Strings(e, path[^1]) : [])
            .ToList();
    }
}
