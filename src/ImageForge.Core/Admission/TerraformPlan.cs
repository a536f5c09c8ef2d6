using System.Text.Json;
using ImageForge.Core.Errors;
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
    /// <summary>Every image the plan would boot, by resource address and provider.</summary>
    public static IReadOnlyList<PlannedImage> Read(string file, ProviderRegistry providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(file));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(
                $"{file}: not a readable Terraform JSON plan ({e.Message}); make one with 'terraform show -json plan.out > plan.json'"
            );
        }

        using (document)
        {
            if (
                !document.RootElement.TryGetProperty("planned_values", out var planned)
                || !planned.TryGetProperty("root_module", out var root)
            )
            {
                throw new InvalidInputException(
                    $"{file}: no planned_values.root_module; is this the output of 'terraform show -json' on a plan?"
                );
            }

            var images = new List<PlannedImage>();
            Collect(root, providers, images);
            return images;
        }
    }

    private static void Collect(
        JsonElement module,
        ProviderRegistry providers,
        List<PlannedImage> images
    )
    {
        if (module.TryGetProperty("resources", out var resources))
        {
            foreach (var resource in resources.EnumerateArray())
            {
                var address = resource.GetProperty("address").GetString() ?? "?";
                var type = resource.GetProperty("type").GetString() ?? "";
                if (!resource.TryGetProperty("values", out var values))
                {
                    continue;
                }

                foreach (var provider in providers.Modules)
                {
                    foreach (var id in provider.TerraformImageIds(type, values))
                    {
                        images.Add(new PlannedImage(address, provider.Name, id));
                    }
                }
            }
        }

        if (module.TryGetProperty("child_modules", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Collect(child, providers, images);
            }
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
