namespace ImageForge.Policy.Rules;

/// <summary>What a rule's decision becomes when the predicate reads a value known only after apply.</summary>
public enum WhenUnknown
{
    /// <summary>Counted as a violation, like a false predicate.</summary>
    Fail,

    /// <summary>Reported as a warning; never denies.</summary>
    Warn,

    /// <summary>Counted as passing.</summary>
    Pass,
}

/// <summary>What a binding does with a rule's violation on its channels (like ValidatingAdmissionPolicyBinding).</summary>
public enum BindingAction
{
    /// <summary>The check fails (exit 1, <c>allowed: false</c>).</summary>
    Deny,

    /// <summary>Reported as a warning; the check passes.</summary>
    Warn,

    /// <summary>Recorded in the report and the audit trail only.</summary>
    Audit,
}

/// <summary>A parameter a rule declares: its default and the values allowed.</summary>
/// <param name="Name">The name the predicate reads as <c>params.NAME</c>.</param>
/// <param name="Default">The value unless a binding sets another.</param>
/// <param name="Allowed">The values allowed; empty when any string is.</param>
public sealed record RuleParameter(string Name, string Default, IReadOnlyList<string> Allowed);

/// <summary>
/// A reviewed exception to a rule for the resources at <see cref="Address"/> (that address and everything inside it):
/// who owns it, why, and until when. An expired exception stops applying.
/// </summary>
public sealed record RuleExemption(string Address, string Reason, string Owner, DateOnly Expires)
{
    /// <summary>True when it covers the normalized resource at <paramref name="address"/>.</summary>
    public bool Covers(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address == Address
            || address.Length > Address.Length
                && address.StartsWith(Address, StringComparison.Ordinal)
                && address[Address.Length] is '.' or '[';
    }
}

/// <summary>One rule of <c>policies/*.yaml</c>, written once for every cloud.</summary>
public sealed record PolicyRule(
    string Id,
    string Title,
    string Severity,
    string Kind,
    string Predicate,
    WhenUnknown WhenUnknown,
    string Message,
    IReadOnlyList<RuleParameter> Parameters,
    IReadOnlyList<RuleExemption> Exceptions,
    string File
);

/// <summary>Which rules apply on which channels, with what action and parameters.</summary>
/// <param name="Name">The binding's name, for reports.</param>
/// <param name="Channels">Channel names; <c>*</c> is every channel and a check without a channel.</param>
/// <param name="Action">What a violation does.</param>
/// <param name="Rules">Rule ids; empty is every rule.</param>
/// <param name="Parameters">Parameter values for the rules that declare them.</param>
public sealed record PolicyBinding(
    string Name,
    IReadOnlyList<string> Channels,
    BindingAction Action,
    IReadOnlyList<string> Rules,
    IReadOnlyDictionary<string, string> Parameters
)
{
    /// <summary>True when it binds <paramref name="channel"/> (null: a check without a channel).</summary>
    public bool Binds(string? channel) =>
        Channels.Contains("*") || channel is not null && Channels.Contains(channel);

    /// <summary>True when it selects the rule <paramref name="id"/>.</summary>
    public bool Selects(string id) => Rules.Count == 0 || Rules.Contains(id);
}
