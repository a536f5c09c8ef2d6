using System.Text.Json.Nodes;
using ImageForge.Core.Builds;

namespace ImageForge.Providers.Gcp.Import;

/// <summary>What one import of a version makes, all derived from the request, so a resumed import makes the same.</summary>
internal sealed record ImportPlan(
    string Image,
    string Version,
    string Home,
    string Project,
    string Bucket,
    string ObjectName,
    string ImageName,
    string StorageLocation,
    string FingerprintLabel,
    IReadOnlyList<(string Channel, string Family)> Families
)
{
    /// <summary>Compute Engine's guest OS features of every ImageForge disk: UEFI (GPT/ESP), gVNIC, multi-queue SCSI.</summary>
    public static readonly IReadOnlyList<string> GuestOsFeatures =
    [
        "UEFI_COMPATIBLE",
        "GVNIC",
        "VIRTIO_SCSI_MULTIQUEUE",
    ];

    /// <summary>The object as images.insert reads it.</summary>
    public string ObjectUrl => $"https://storage.googleapis.com/{Bucket}/{ObjectName}";

    public static ImportPlan For(ImportRequest request)
    {
        var target = request.Target;
        var home = target.Regions.Count > 0 ? target.Regions[0] : "global";
        var image = request.Definition.Name;
        return new ImportPlan(
            image,
            request.Version,
            home,
            target.Option("project_id")
                ?? throw new InvalidOperationException("options.project_id is not set"),
            target.Option("bucket")
                ?? throw new InvalidOperationException("options.bucket is not set"),
            $"{image}/{request.Version}/disk.tar.gz",
            GcpNames.Image(image, request.Version),
            target.Option("storage_location") ?? home,
            LabelOfFingerprint(request.Fingerprint),
            [
                .. request.Definition.Channels.Select(c =>
                    (c, target.ChannelOption(c, "family") ?? GcpNames.Family(image, c))
                ),
            ]
        );
    }

    /// <summary>The input fingerprint as a label value: its first 40 hex digits (a label value holds 63 characters).</summary>
    public static string LabelOfFingerprint(string fingerprint)
    {
        var value = GcpNames.LabelValue(
            fingerprint.Replace("sha256:", "", StringComparison.Ordinal)
        );
        return value[..Math.Min(40, value.Length)];
    }

    /// <summary>The requestId of one call of this import (the same on every resume).</summary>
    public string RequestId(string call) =>
        GcpNames.RequestId(ImportTokens.For(Image, Version, GcpProvider.ProviderName, Home, call));

    /// <summary>images.insert's body: no family (no consumer resolves it before promotion), labels to find it by.</summary>
    public JsonObject ImageBody(ImportRequest request) =>
        new()
        {
            ["name"] = ImageName,
            ["description"] = $"ImageForge {Image} {Version} (disk sha256 {request.Disk.Sha256})",
            ["rawDisk"] = new JsonObject { ["source"] = ObjectUrl, ["containerType"] = "TAR" },
            ["guestOsFeatures"] = new JsonArray([
                .. GuestOsFeatures.Select(f => (JsonNode)new JsonObject { ["type"] = f }),
            ]),
            ["labels"] = new JsonObject
            {
                ["managed-by"] = "imageforge",
                ["image"] = GcpNames.LabelValue(Image),
                ["version"] = GcpNames.LabelValue(Version),
                ["fingerprint"] = FingerprintLabel,
            },
            ["storageLocations"] = new JsonArray(StorageLocation),
            ["architecture"] = "X86_64",
        };
}
