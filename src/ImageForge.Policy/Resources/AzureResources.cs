using ImageForge.Policy.Plans;
using static ImageForge.Policy.Resources.Normalizer;

namespace ImageForge.Policy.Resources;

/// <summary>The azurerm provider's resources, normalized.</summary>
internal static class AzureResources
{
    private const string Provider = "azure";
    private const string Account = "azurerm_storage_account";

    // A marketplace image is named publisher:offer:sku:version, as the az CLI writes its URN.
    private static readonly string[] ImageReference = ["publisher", "offer", "sku", "version"];

    public static void Read(PlanDocument plan, List<NormalizedResource> into)
    {
        var keys = Attachments(
            plan,
            "azurerm_storage_account_customer_managed_key",
            "storage_account_id",
            Account,
            "id"
        );
        foreach (var resource in plan.Resources)
        {
            var after = resource.After;
            switch (resource.Type)
            {
                case Account:
                    into.Add(StorageAccount(resource, keys[resource].LastOrDefault()));
                    break;
                case "azurerm_network_security_rule":
                    SecurityRule(resource, after, "", into);
                    break;
                case "azurerm_network_security_group":
                    var rules = after.Member("security_rule");
                    var items = rules.IsUnknown ? [rules] : rules.Items();
                    for (var i = 0; i < items.Count; i++)
                    {
                        SecurityRule(
                            resource,
                            items[i],
                            rules.IsUnknown ? ".security_rule" : $".security_rule[{i}]",
                            into
                        );
                    }
                    break;
                case "azurerm_linux_virtual_machine" or "azurerm_windows_virtual_machine":
                    into.Add(Vm(resource, Provider, Image(after)));
                    break;
            }
        }
    }

    // Azure Storage always encrypts (Microsoft-managed keys); a customer-managed key is an inline block or the
    // separate azurerm_storage_account_customer_managed_key, whose presence decides even while its key id is unknown.
    private static NormalizedResource StorageAccount(
        PlannedResource account,
        PlannedResource? separate
    )
    {
        var name = Text(account.After.Member("name"));
        if (separate is not null)
        {
            var key = separate.After.Member("key_vault_key_id") is { IsNull: false } id
                ? id
                : separate.After.Member("key_name");
            return Bucket(
                account,
                Provider,
                new("customer-managed", separate.After.Path),
                Text(key),
                false,
                name
            );
        }
        var inline = account.After.Member("customer_managed_key");
        // Not a computed block: unknown only when the configuration writes it from values known after apply.
        if (inline.IsUnknown)
        {
            var unknown = new ResourceAttribute(UnknownValue.Instance, inline.Path);
            return Bucket(account, Provider, unknown, unknown, false, name);
        }
        if (!inline.IsUnknown && inline.Items() is [var block, ..])
        {
            var key = block.Member("key_vault_key_id") is { IsNull: false } id
                ? id
                : block.Member("managed_hsm_key_id");
            return Bucket(
                account,
                Provider,
                new("customer-managed", block.Path),
                Text(key),
                false,
                name
            );
        }
        return Bucket(
            account,
            Provider,
            new("platform", account.After.Path),
            new(null, account.After.Path),
            true,
            name
        );
    }

    // One normalized rule per source prefix; both the single and the list forms of sources and ports are read.
    private static void SecurityRule(
        PlannedResource resource,
        PlanNode rule,
        string prefix,
        List<NormalizedResource> into
    )
    {
        var direction = rule.Member("direction");
        if (!direction.IsUnknown && direction.Text() is { } d && d != "Inbound")
        {
            return;
        }
        var protocol = Lower(rule.Member("protocol"), p => p == "*" ? "all" : p);
        var ports = Ports(rule);
        var access = Lower(rule.Member("access"));
        var single = Text(rule.Member("source_address_prefix"));
        if (single.Value is not null)
        {
            into.Add(
                Ingress(
                    resource,
                    Provider,
                    prefix + ".source_address_prefix",
                    single,
                    protocol,
                    ports,
                    access
                )
            );
        }
        foreach (
            var (source, suffix) in Each(
                rule.Member("source_address_prefixes"),
                "source_address_prefixes"
            )
        )
        {
            into.Add(Ingress(resource, Provider, prefix + suffix, source, protocol, ports, access));
        }
    }

    private static ResourceAttribute Ports(PlanNode rule)
    {
        var single = rule.Member("destination_port_range");
        var list = rule.Member("destination_port_ranges");
        if (single.IsUnknown || list.AnyUnknown)
        {
            return new(UnknownValue.Instance, single.IsUnknown ? single.Path : list.Path);
        }
        var ranges = new List<object?>();
        if (Text(single).Value is string s)
        {
            ranges.Add(s == "*" ? AllPorts : s);
        }
        ranges.AddRange(
            Each(list, "destination_port_ranges")
                .Select(p => (object?)(p.Value.Value is "*" ? AllPorts : p.Value.Value))
        );
        return new(
            ranges,
            ranges.Count > 0 && Text(single).Value is null ? list.Path : single.Path
        );
    }

    private static ResourceAttribute Image(PlanNode vm)
    {
        var id = vm.Member("source_image_id");
        if (id.IsUnknown || Text(id).Value is not null)
        {
            return Text(id);
        }
        var reference = vm.Member("source_image_reference");
        if (reference.IsUnknown)
        {
            return new(UnknownValue.Instance, reference.Path);
        }
        if (reference.Items() is [var r, ..])
        {
            var parts = ImageReference.Select(p => r.Member(p)).ToList();
            return parts.Any(p => p.IsUnknown)
                ? new(UnknownValue.Instance, r.Path)
                : new(string.Join(':', parts.Select(p => p.Text())), r.Path);
        }
        return new(null, id.Path);
    }
}
