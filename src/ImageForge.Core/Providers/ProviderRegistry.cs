using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;

namespace ImageForge.Core.Providers;

/// <summary>
/// The providers a host was composed with (each registered by its module's <c>AddXProvider()</c>), in registration
/// order. The only way shared code learns provider names.
/// </summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, ProviderModule> _byName;

    /// <summary>Creates the registry; two modules with one name are a composition error.</summary>
    public ProviderRegistry(IEnumerable<ProviderModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        Modules = [.. modules];
        _byName = new Dictionary<string, ProviderModule>(StringComparer.Ordinal);
        foreach (var module in Modules)
        {
            if (!_byName.TryAdd(module.Name, module))
            {
                throw new InvalidOperationException(
                    $"two provider modules are named '{module.Name}'; register each provider once"
                );
            }
        }
    }

    /// <summary>Every module, in registration order.</summary>
    public IReadOnlyList<ProviderModule> Modules { get; }

    /// <summary>Every provider name, in registration order.</summary>
    public IReadOnlyList<string> Names => [.. Modules.Select(m => m.Name)];

    /// <summary>The module named <paramref name="name"/>, or null.</summary>
    public ProviderModule? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The module named <paramref name="name"/>; an unknown name is bad input naming the known ones.</summary>
    public ProviderModule Get(string name) =>
        Find(name)
        ?? throw new InvalidInputException(
            $"unknown provider '{name}'; known providers: {string.Join(", ", Names)}"
        );

    /// <summary>The acting parts of every provider for one host, created once here.</summary>
    public ConnectedProviders Connect(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ConnectedProviders(
            this,
            Modules.ToDictionary(m => m.Name, m => m.Connect(context), StringComparer.Ordinal)
        );
    }
}

/// <summary>The acting parts of every provider for one host (see <see cref="ProviderRegistry.Connect"/>).</summary>
public sealed class ConnectedProviders
{
    private readonly IReadOnlyDictionary<string, ProviderServices> _services;

    internal ConnectedProviders(
        ProviderRegistry registry,
        IReadOnlyDictionary<string, ProviderServices> services
    )
    {
        Registry = registry;
        _services = services;
    }

    /// <summary>The modules these were created from.</summary>
    public ProviderRegistry Registry { get; }

    /// <summary>Every provider's target builder, in registration order.</summary>
    public IReadOnlyList<ITargetBuilder> Builders =>
        [.. Services().Select(s => s.Builder).OfType<ITargetBuilder>()];

    /// <summary>Every provider's importer (for its targets with <c>build: import</c>).</summary>
    public IReadOnlyList<IImageImporter> Importers =>
        [.. Services().Select(s => s.Importer).OfType<IImageImporter>()];

    /// <summary>Every provider's input resolver.</summary>
    public IReadOnlyList<IInputResolver> InputResolvers =>
        [.. Services().Select(s => s.InputResolver).OfType<IInputResolver>()];

    /// <summary>Every provider's distribution (promotion, revocation and retention steps).</summary>
    public IReadOnlyList<IDistributionTarget> Distribution =>
        [.. Services().Select(s => s.Distribution).OfType<IDistributionTarget>()];

    /// <summary>
    /// The providers that build or import (schedules and CVE rebuilds are armed only for their targets).
    /// </summary>
    public IReadOnlySet<string> Buildable =>
        new HashSet<string>(
            Builders.Select(b => b.Provider).Concat(Importers.Select(i => i.Provider)),
            StringComparer.Ordinal
        );

    /// <summary>Each provider's access probe (<c>GET /health</c>), by provider name; providers without one are left out.</summary>
    public IReadOnlyDictionary<string, IAccessProbe> AccessProbes =>
        Registry
            .Modules.Where(m => _services[m.Name].Access is not null)
            .ToDictionary(m => m.Name, m => _services[m.Name].Access!, StringComparer.Ordinal);

    /// <summary>Whether this target can be built here: by its provider's importer (build: import) or its builder.</summary>
    public bool CanBuild(Definitions.TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Build == Definitions.BuildMode.Import
            ? Importers.Any(i => i.Provider == target.Provider)
            : Builders.Any(b => b.Provider == target.Provider);
    }

    /// <summary>The first provider's KVM probe (the local target's), or null when no provider here boots guests.</summary>
    public IKvmProbe? KvmProbe =>
        Services().Select(s => s.Kvm).OfType<IKvmProbe>().FirstOrDefault();

    private IEnumerable<ProviderServices> Services() =>
        Registry.Modules.Select(m => _services[m.Name]);
}
