using ImageForge.Policy.Plans;
using static ImageForge.Policy.Resources.Normalizer;

namespace ImageForge.Policy.Resources;

/// <summary>The google provider's resources, normalized.</summary>
internal static class GcpResources
{
    private const string Provider = "gcp";

    public static void Read(PlanDocument plan, List<NormalizedResource> into)
    {
        foreach (var resource in plan.Resources)
        {
            var after = resource.After;
            switch (resource.Type)
            {
                case "google_storage_bucket":
                    into.Add(StorageBucket(plan, resource));
                    break;
                case "google_compute_firewall":
                    Firewall(resource, into);
                    break;
                case "google_compute_instance":
                    var disk = after.Member("boot_disk");
                    var parameters = disk.IsUnknown
                        ? disk
                        : disk.First().Member("initialize_params");
                    var image = parameters.IsUnknown
                        ? parameters
                        : parameters.First().Member("image");
                    into.Add(Vm(resource, Provider, Text(image)));
                    break;
            }
        }
    }

    // Cloud Storage always encrypts (Google-managed keys); encryption.default_kms_key_name makes it customer-managed.
    private static NormalizedResource StorageBucket(PlanDocument plan, PlannedResource bucket)
    {
        var name = Text(bucket.After.Member("name"));
        var encryption = bucket.After.Member("encryption");
        var key = encryption.IsUnknown
            ? encryption
            : encryption.First().Member("default_kms_key_name");
        if (encryption.IsUnknown || !key.IsNull)
        {
            var customer = CustomerKey(plan, bucket, key, "google_kms_crypto_key");
            if (customer is not null)
            {
                return Bucket(
                    bucket,
                    Provider,
                    customer.Unknown ? customer : new("customer-managed", customer.Path),
                    customer,
                    false,
                    name
                );
            }
        }
        return Bucket(
            bucket,
            Provider,
            new("platform", bucket.After.Path),
            new(null, bucket.After.Path),
            true,
            name
        );
    }

    // One normalized rule per source range and allow or deny block. A block without ports opens every port, and an
    // ingress firewall with no source at all applies to 0.0.0.0/0 (the Compute API's default).
    private static void Firewall(PlannedResource resource, List<NormalizedResource> into)
    {
        var after = resource.After;
        var direction = after.Member("direction");
        if (
            !direction.IsUnknown && direction.Text() is { } d && d != "INGRESS"
            || after.Member("disabled").Flag() is true
        )
        {
            return;
        }
        var ranges = after.Member("source_ranges");
        var sources = Each(ranges, "source_ranges").ToList();
        if (
            sources.Count == 0
            && !ranges.IsUnknown
            && Empty(after.Member("source_tags"))
            && Empty(after.Member("source_service_accounts"))
        )
        {
            sources.Add((new ResourceAttribute("0.0.0.0/0", ranges.Path), ".source_ranges"));
        }
        foreach (var access in (string[])["allow", "deny"])
        {
            var blocks = after.Member(access);
            var items = blocks.IsUnknown ? [blocks] : blocks.Items();
            for (var i = 0; i < items.Count; i++)
            {
                var block = items[i];
                var protocol = block.IsUnknown
                    ? new ResourceAttribute(UnknownValue.Instance, block.Path)
                    : Lower(
                        block.Member("protocol"),
                        p =>
                            p == "6" ? "tcp"
                            : p == "17" ? "udp"
                            : p
                    );
                var ports = Ports(block);
                foreach (var (source, suffix) in sources)
                {
                    into.Add(
                        Ingress(
                            resource,
                            Provider,
                            $"{suffix}.{access}[{i}]",
                            source,
                            protocol,
                            ports,
                            new(access, block.Path)
                        )
                    );
                }
            }
        }
    }

    private static ResourceAttribute Ports(PlanNode block)
    {
        var ports = block.IsUnknown ? block : block.Member("ports");
        if (ports.AnyUnknown)
        {
            return new(UnknownValue.Instance, ports.Path);
        }
        var list = Each(ports, "ports").Select(p => p.Value.Value).ToList();
        return new(list.Count == 0 ? [AllPorts] : list, ports.Path);
    }

    private static bool Empty(PlanNode list) => !list.AnyUnknown && list.Items().Count == 0;
}
