using System.Collections;
using Cel;
using ImageForge.Core.Errors;
using ImageForge.Policy.Resources;
using ImageForge.Policy.Rules;

namespace ImageForge.Policy.Checking;

/// <summary>How one rule judged one resource.</summary>
public enum Outcome
{
    /// <summary>The predicate held.</summary>
    Pass,

    /// <summary>The predicate did not hold: a violation.</summary>
    Fail,

    /// <summary>The predicate read a value known only after apply.</summary>
    Unknown,

    /// <summary>A reviewed exception that has not expired covers the resource.</summary>
    Excepted,
}

/// <summary>
/// One rule's decision on one normalized resource, with the plan paths of the attributes the predicate read (the
/// first is where it was decided, e.g. <c>resource_changes[12].change.after.ingress[0].cidr_blocks[0]</c>).
/// </summary>
public sealed record Finding(
    string Rule,
    string Severity,
    string Address,
    string Type,
    string Provider,
    Outcome Outcome,
    IReadOnlyList<string> Paths,
    string Message,
    string? Exception
)
{
    /// <summary>Where it was decided, the first of <see cref="Paths"/>.</summary>
    public string Path => Paths.Count > 0 ? Paths[0] : "";
}

/// <summary>
/// Runs compiled predicates over normalized resources. The predicate sees the resource as <c>r</c>, the rule's
/// parameters as <c>params</c>, and the images admitted by the catalog as <c>admitted</c> (provider → image ids). A
/// predicate that reads an unknown value decides nothing (<see cref="Outcome.Unknown"/>): CEL would compare the
/// placeholder with null and answer, which would be a default in disguise.
/// </summary>
internal static class RuleEvaluator
{
    public static Finding Evaluate(
        CompiledRule compiled,
        NormalizedResource resource,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, object?> admitted,
        DateOnly today
    )
    {
        var rule = compiled.Rule;
        var exception = rule.Exceptions.FirstOrDefault(e =>
            e.Expires >= today && e.Covers(resource.Address)
        );
        if (exception is not null)
        {
            return Found(
                rule,
                resource,
                Outcome.Excepted,
                [],
                parameters,
                $"{exception.Reason} (owner {exception.Owner}, until {exception.Expires:yyyy-MM-dd})"
            );
        }
        var reads = new ReadTracker(resource);
        var values = new Activation(reads, parameters, admitted);
        object? result;
        try
        {
            result = compiled.Predicate.Invoke(values);
        }
        catch (CelException) when (reads.ReadUnknown)
        {
            result = null;
        }
        catch (CelException e)
        {
            throw Broken(rule, resource, e.Message);
        }
        return reads.ReadUnknown
                ? Found(rule, resource, Outcome.Unknown, reads.UnknownPaths, parameters, null)
            : result is bool holds
                ? Found(
                    rule,
                    resource,
                    holds ? Outcome.Pass : Outcome.Fail,
                    reads.Paths,
                    parameters,
                    null
                )
            : throw Broken(
                rule,
                resource,
                $"the predicate gave {result?.GetType().Name ?? "null"}, not a boolean ({result})"
            );
    }

    private static InvalidInputException Broken(
        PolicyRule rule,
        NormalizedResource resource,
        string why
    ) =>
        new(
            $"{rule.File}: predicate of rule '{rule.Id}' cannot be evaluated on {resource.Address} ({rule.Kind}): {why}; "
                + $"the attributes of {rule.Kind} are: {string.Join(", ", resource.Attributes.Keys.Concat(ReadTracker.Common))}"
        );

    private static Finding Found(
        PolicyRule rule,
        NormalizedResource resource,
        Outcome outcome,
        IReadOnlyList<string> paths,
        IReadOnlyDictionary<string, string> parameters,
        string? exception
    ) =>
        new(
            rule.Id,
            rule.Severity,
            resource.Address,
            resource.Type,
            resource.Provider,
            outcome,
            // The last attribute read decided: a false conjunct stops the predicate, and a violated one reads all.
            LastFirst(paths),
            outcome == Outcome.Pass ? "" : Message(rule.Message, resource, parameters),
            exception
        );

    private static string Message(
        string template,
        NormalizedResource resource,
        IReadOnlyDictionary<string, string> parameters
    )
    {
        var text = template
            .Replace("{address}", resource.Address, StringComparison.Ordinal)
            .Replace("{type}", resource.Type, StringComparison.Ordinal)
            .Replace("{provider}", resource.Provider, StringComparison.Ordinal);
        foreach (var (name, value) in parameters)
        {
            text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        }
        return text;
    }

    private static List<string> LastFirst(IReadOnlyList<string> paths)
    {
        var shown = new List<string>(paths.Count);
        for (var i = paths.Count - 1; i >= 0; i--)
        {
            var path = Display(paths[i]);
            if (!shown.Contains(path, StringComparer.Ordinal))
            {
                shown.Add(path);
            }
        }
        return shown;
    }

    // JSON paths are written from the plan's root, as people read them: resource_changes[3].change.after.bucket.
    private static string Display(string path) =>
        path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    /// <summary>
    /// The variables a predicate sees. The Cel package first asks for a selection's whole text (<c>r.access</c>) and,
    /// only when that is not a variable, searches every protobuf enum it knows before reading the field: answering
    /// the dotted names here keeps that search (most of an evaluation's time) off the path.
    /// </summary>
    private sealed class Activation(
        ReadTracker resource,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, object?> admitted
    ) : LookupMap
    {
        private const string Resource = "r";
        private const string Params = "params";
        private const string Admitted = "admitted";

        protected override IEnumerable<string> Names => [Resource, Params, Admitted];

        public override bool TryGetValue(string key, out object? value)
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                value = key switch
                {
                    Resource => resource,
                    Params => parameters.ToDictionary(p => p.Key, p => (object?)p.Value),
                    Admitted => admitted,
                    _ => null,
                };
                return value is not null;
            }
            var head = key.AsSpan(0, dot);
            var name = key[(dot + 1)..];
            if (head.SequenceEqual(Resource))
            {
                return resource.TryGetValue(name, out value);
            }
            if (head.SequenceEqual(Params) && parameters.TryGetValue(name, out var text))
            {
                value = text;
                return true;
            }
            value = null;
            return false;
        }
    }

    /// <summary>The resource as CEL reads it, recording which attributes were read and whether one was unknown.</summary>
    private sealed class ReadTracker(NormalizedResource resource) : LookupMap
    {
        public static readonly string[] Common = ["address", "type", "provider"];

        private readonly List<string> _paths = [];
        private readonly List<string> _unknown = [];

        public bool ReadUnknown => _unknown.Count > 0;

        public IReadOnlyList<string> Paths => _paths;

        public IReadOnlyList<string> UnknownPaths => _unknown;

        protected override IEnumerable<string> Names => [.. resource.Attributes.Keys, .. Common];

        public override bool TryGetValue(string key, out object? value)
        {
            if (resource.Attributes.TryGetValue(key, out var attribute))
            {
                if (attribute.Unknown)
                {
                    _unknown.Add(attribute.Path);
                }
                _paths.Add(attribute.Path);
                value = attribute.Value;
                return true;
            }
            value = key switch
            {
                "address" => resource.Address,
                "type" => resource.Type,
                "provider" => resource.Provider,
                _ => null,
            };
            return value is not null;
        }
    }

    /// <summary>A read-only map answered by <see cref="TryGetValue"/>, which is all CEL calls.</summary>
    private abstract class LookupMap : IDictionary<string, object?>
    {
        protected abstract IEnumerable<string> Names { get; }

        public abstract bool TryGetValue(string key, out object? value);

        public object? this[string key]
        {
            get => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
            set => throw new NotSupportedException();
        }

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public ICollection<string> Keys => [.. Names];

        public ICollection<object?> Values => [.. Keys.Select(k => this[k])];

        public int Count => Keys.Count;

        public bool IsReadOnly => true;

        public void Add(string key, object? value) => throw new NotSupportedException();

        public void Add(KeyValuePair<string, object?> item) => throw new NotSupportedException();

        public void Clear() => throw new NotSupportedException();

        public bool Contains(KeyValuePair<string, object?> item) =>
            TryGetValue(item.Key, out var v) && Equals(v, item.Value);

        public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) =>
            this.ToList().CopyTo(array, arrayIndex);

        public bool Remove(string key) => throw new NotSupportedException();

        public bool Remove(KeyValuePair<string, object?> item) => throw new NotSupportedException();

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
            Keys.Select(k => new KeyValuePair<string, object?>(k, this[k])).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
