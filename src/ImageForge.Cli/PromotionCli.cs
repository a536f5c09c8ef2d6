using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Providers.Local;
using ImageForge.Signing;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>
/// What the promotion commands share: who acts (the OS user, or IMAGEFORGE_ACTOR), their role from roles.yaml, the
/// image's channel path from its definition, and the service over the catalog and the local registry. Opening it
/// also applies scheduled revocations whose time has come.
/// </summary>
internal sealed class PromotionCli : IAsyncDisposable
{
    /// <summary>Overrides the OS user as the actor (automation, tests); the CLI trusts whoever runs it.</summary>
    public const string ActorVariable = "IMAGEFORGE_ACTOR";

    private PromotionCli(
        SqliteCatalog catalog,
        PromotionService service,
        AccessPolicy policy,
        Actor actor
    )
    {
        Catalog = catalog;
        Service = service;
        Policy = policy;
        Actor = actor;
    }

    public SqliteCatalog Catalog { get; }
    public PromotionService Service { get; }
    public AccessPolicy Policy { get; }
    public Actor Actor { get; }

    public static async Task<PromotionCli> OpenAsync(CliContext ctx, CancellationToken ct)
    {
        var policy = AccessPolicy.Load(ctx.Data.Root);
        var name = ctx.Host.Variable(ActorVariable) is { Length: > 0 } env
            ? env
            : Environment.UserName;
        var catalog = await ctx.OpenCatalogAsync(ct);
        var service = new PromotionService(
            catalog,
            catalog,
            catalog,
            [new LocalRegistry(ctx.Data.Root, ctx.Time)],
            async (version, token) =>
                (await VersionVerifier.VerifyAsync(version, null, token)).Problems,
            ctx.Time
        );
        var cli = new PromotionCli(catalog, service, policy, policy.Resolve(name));
        foreach (var applied in await service.ApplyDueRevocationsAsync(ct))
        {
            await ctx.Error.WriteLineAsync(
                $"note: the revocation of {applied.Scheduled!.Image}@{applied.Scheduled.Version} scheduled for "
                    + $"{Report.Time(applied.Scheduled.EffectiveAt)} took effect now"
            );
        }

        return cli;
    }

    /// <summary>The image's definition (for its channel path); an unknown image is bad input.</summary>
    public static ImageDefinition Definition(CliContext ctx, string image) =>
        Definition(ctx, LoadDefinitions(ctx), image);

    /// <summary>Every definition and baseline, loaded once per command.</summary>
    public static DefinitionSet LoadDefinitions(CliContext ctx) =>
        DefinitionLoader.Load(ctx.Content, DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime));

    /// <summary>The image's definition out of an already loaded set; an unknown image is bad input.</summary>
    public static ImageDefinition Definition(CliContext ctx, DefinitionSet set, string image)
    {
        return set.FindImage(image)
            ?? throw new InvalidInputException(
                $"no image definition named '{image}' in {ctx.Content.Definitions}; known: {string.Join(", ", set.Images.Select(i => i.Name))}"
            );
    }

    /// <summary><c>image@version</c> with the version required.</summary>
    public static (string Image, string Version) Exact(string text)
    {
        var (image, version) = VersionReference.Parse(text);
        return version is null
            ? throw new InvalidInputException(
                $"'{text}': name the version, e.g. {image}@2026.11.22.1"
            )
            : (image, version);
    }

    public ValueTask DisposeAsync() => Catalog.DisposeAsync();
}
