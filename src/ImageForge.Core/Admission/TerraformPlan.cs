using System.Text.Json;
using ImageForge.Core.Errors;

namespace ImageForge.Core.Admission;

/// <summary>One image a Terraform plan would deploy: the resource's address, the cloud and the image id.</summary>
public sealed record PlannedImage(string Address, string Provider, string ImageId);

/// <summary>
/// Reads the image references out of a Terraform JSON plan (<c>terraform show -json plan.out</c>): the planned values
/// of every module, for the resource types that boot an image: aws_instance.ami, aws_launch_template.image_id,
/// azurerm_(linux|windows)_virtual_machine(_scale_set).source_image_id, google_compute_instance boot disk image and
/// google_compute_instance_template disk source_image.
/// </summary>
public static class TerraformPlan
{
    public static IReadOnlyList<PlannedImage> Read(string file)
    {
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
            Collect(root, images);
            return images;
        }
    }

    private static void Collect(JsonElement module, List<PlannedImage> images)
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

                foreach (var (provider, id) in ImagesOf(type, values))
                {
                    images.Add(new PlannedImage(address, provider, id));
                }
            }
        }

        if (module.TryGetProperty("child_modules", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Collect(child, images);
            }
        }
    }

    private static IEnumerable<(string Provider, string Id)> ImagesOf(
        string type,
        JsonElement values
    )
    {
        switch (type)
        {
            case "aws_instance":
                return Strings(values, "ami").Select(id => ("aws", id));
            case "aws_launch_template":
                return Strings(values, "image_id").Select(id => ("aws", id));
            case "azurerm_linux_virtual_machine"
            or "azurerm_windows_virtual_machine"
            or "azurerm_linux_virtual_machine_scale_set"
            or "azurerm_windows_virtual_machine_scale_set":
                return Strings(values, "source_image_id").Select(id => ("azure", id));
            case "google_compute_instance":
                return Nested(values, "boot_disk", "initialize_params", "image")
                    .Select(id => ("gcp", id));
            case "google_compute_instance_template":
                return Nested(values, "disk", "source_image").Select(id => ("gcp", id));
            default:
                return [];
        }
    }

    private static IEnumerable<string> Strings(JsonElement values, string name) =>
        values.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } id
            ? [id]
            : [];

    // Terraform writes nested blocks as lists of objects: walk every element of each level.
    private static List<string> Nested(JsonElement values, params string[] path)
    {
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
