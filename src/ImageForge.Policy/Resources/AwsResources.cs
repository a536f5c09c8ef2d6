using ImageForge.Policy.Plans;
using static ImageForge.Policy.Resources.Normalizer;

namespace ImageForge.Policy.Resources;

/// <summary>The AWS provider's resources, normalized.</summary>
internal static class AwsResources
{
    private const string Provider = "aws";
    private const string SseResource = "aws_s3_bucket_server_side_encryption_configuration";

    public static void Read(PlanDocument plan, List<NormalizedResource> into)
    {
        var encryption = Attachments(plan, SseResource, "bucket", "aws_s3_bucket", "bucket");
        foreach (var resource in plan.Resources)
        {
            var after = resource.After;
            switch (resource.Type)
            {
                case "aws_s3_bucket":
                    into.Add(Bucket(plan, resource, encryption[resource]));
                    break;
                case "aws_security_group":
                    var blocks = after.Member("ingress");
                    if (blocks.IsUnknown)
                    {
                        into.Add(UnknownIngress(resource, ".ingress", blocks.Path));
                        break;
                    }
                    var items = blocks.Items();
                    for (var i = 0; i < items.Count; i++)
                    {
                        Sources(resource, items[i], $".ingress[{i}]", into);
                    }
                    break;
                case "aws_security_group_rule":
                    if (after.Member("type").Text() is "ingress" || after.Member("type").IsUnknown)
                    {
                        Sources(resource, after, "", into);
                    }
                    break;
                case "aws_vpc_security_group_ingress_rule":
                    foreach (var name in (string[])["cidr_ipv4", "cidr_ipv6"])
                    {
                        var cidr = Text(after.Member(name));
                        if (cidr.Value is not null)
                        {
                            into.Add(Rule(resource, $".{name}", cidr, after, "ip_protocol"));
                        }
                    }
                    break;
                case "aws_instance":
                    into.Add(Vm(resource, Provider, Text(after.Member("ami"))));
                    break;
                case "aws_launch_template":
                    into.Add(Vm(resource, Provider, Text(after.Member("image_id"))));
                    break;
            }
        }
    }

    // S3 encrypts every new object (SSE-S3) since January 2023: a bucket configuring nothing is platform-encrypted.
    // The provider's inline block is computed (unknown in a plan when not written), so only a written block counts.
    private static NormalizedResource Bucket(
        PlanDocument plan,
        PlannedResource bucket,
        IEnumerable<PlannedResource> attached
    )
    {
        var name = Text(bucket.After.Member("bucket"));
        if (attached.LastOrDefault() is { } sse)
        {
            return Encryption(plan, bucket, sse, sse.After.Member("rule"), name);
        }
        var inline = bucket.After.Member("server_side_encryption_configuration");
        if (plan.Configures(bucket, "server_side_encryption_configuration"))
        {
            return inline.IsUnknown
                ? Normalizer.Bucket(
                    bucket,
                    Provider,
                    new(UnknownValue.Instance, inline.Path),
                    new(UnknownValue.Instance, inline.Path),
                    false,
                    name
                )
                : Encryption(plan, bucket, bucket, inline.First().Member("rule"), name);
        }
        return Normalizer.Bucket(
            bucket,
            Provider,
            new("platform", bucket.After.Path),
            new(null, bucket.After.Path),
            true,
            name
        );
    }

    private static NormalizedResource Encryption(
        PlanDocument plan,
        PlannedResource bucket,
        PlannedResource source,
        PlanNode rules,
        ResourceAttribute name
    )
    {
        var byDefault = rules.IsUnknown
            ? rules
            : rules.First().Member("apply_server_side_encryption_by_default");
        var settings = byDefault.IsUnknown ? byDefault : byDefault.First();
        var algorithm = settings.IsUnknown ? settings : settings.Member("sse_algorithm");
        if (algorithm.IsUnknown || settings.Value is null && !rules.IsUnknown)
        {
            var unknown = new ResourceAttribute(
                algorithm.IsUnknown ? UnknownValue.Instance : "none",
                algorithm.Path
            );
            return Normalizer.Bucket(bucket, Provider, unknown, unknown, false, name);
        }
        var key = settings.Member("kms_master_key_id");
        var text = algorithm.Text();
        if (text is "aws:kms" or "aws:kms:dsse")
        {
            var customer = CustomerKey(plan, source, key, "aws_kms_key");
            return customer switch
            {
                null => Normalizer.Bucket(
                    bucket,
                    Provider,
                    new("platform", algorithm.Path),
                    new(null, key.Path),
                    false,
                    name
                ),
                { Unknown: true } => Normalizer.Bucket(
                    bucket,
                    Provider,
                    customer,
                    customer,
                    false,
                    name
                ),
                _ => Normalizer.Bucket(
                    bucket,
                    Provider,
                    new("customer-managed", customer.Path),
                    customer,
                    false,
                    name
                ),
            };
        }
        return Normalizer.Bucket(
            bucket,
            Provider,
            new(text == "AES256" ? "platform" : "none", algorithm.Path),
            new(null, key.Path),
            false,
            name
        );
    }

    // One normalized rule per CIDR of a block (IPv4 and IPv6); sources that are other groups or prefix lists do not
    // reach the internet and are not ingress sources here.
    private static void Sources(
        PlannedResource resource,
        PlanNode block,
        string prefix,
        List<NormalizedResource> into
    )
    {
        foreach (var name in (string[])["cidr_blocks", "ipv6_cidr_blocks"])
        {
            foreach (var (cidr, suffix) in Each(block.Member(name), name))
            {
                into.Add(Rule(resource, prefix + suffix, cidr, block, "protocol"));
            }
        }
    }

    private static NormalizedResource Rule(
        PlannedResource resource,
        string suffix,
        ResourceAttribute cidr,
        PlanNode block,
        string protocolName
    )
    {
        var protocol = Lower(block.Member(protocolName), Protocol);
        return Ingress(
            resource,
            Provider,
            suffix,
            cidr,
            protocol,
            Ports(block.Member("from_port"), block.Member("to_port"), protocol.Value is "all"),
            new("allow", block.Path)
        );
    }

    private static NormalizedResource UnknownIngress(
        PlannedResource resource,
        string suffix,
        string path
    )
    {
        var unknown = new ResourceAttribute(UnknownValue.Instance, path);
        return Ingress(resource, Provider, suffix, unknown, unknown, unknown, new("allow", path));
    }

    private static string Protocol(string protocol) =>
        protocol switch
        {
            "-1" or "all" => "all",
            "6" => "tcp",
            "17" => "udp",
            "1" => "icmp",
            _ => protocol,
        };
}
