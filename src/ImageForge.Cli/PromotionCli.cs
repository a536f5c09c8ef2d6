using ImageForge.Application.Operations;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>
/// What the promotion commands share: who acts (the OS user, or IMAGEFORGE_ACTOR) with the role roles.yaml gives
/// it, the operations they share with the worker's API (<see cref="PromotionOperations"/>), and how a refusal is
/// printed. Opening the catalog applies scheduled revocations whose time has come, with a note on stderr.
/// </summary>
internal sealed class PromotionCli : IAsyncDisposable
{
    /// <summary>Overrides the OS user as the actor (automation, tests); the CLI trusts whoever runs it.</summary>
    public const string ActorVariable = "IMAGEFORGE_ACTOR";

    private readonly PromotionSession _session;

    private PromotionCli(PromotionSession session) => _session = session;

    public Catalog Catalog => _session.Catalog;

    /// <summary>The catalog for commands that only read it (audit), after applying due scheduled revocations.</summary>
    public static async Task<PromotionCli> OpenAsync(CliContext ctx, CancellationToken ct) =>
        new(await PromotionSession.OpenAsync(ctx.Pipeline, Noted(ctx), ct));

    /// <summary>The promotion operations over this command's content and data, with the pipeline's scanner.</summary>
    public static PromotionOperations Operations(CliContext ctx) =>
        new(ctx.Pipeline) { RevocationApplied = Noted(ctx) };

    /// <summary>The OS user (or IMAGEFORGE_ACTOR) with its role from roles.yaml.</summary>
    public static Actor Actor(CliContext ctx, PromotionOperations operations)
    {
        var name = ctx.Host.Variable(ActorVariable) is { Length: > 0 } env
            ? env
            : Environment.UserName;
        return operations.LoadPolicy().Resolve(name);
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

    /// <summary>
    /// Runs a command's action; with <c>--output json</c> a refusal (exit 1: a rule, the actor's role, a concurrent
    /// action) is also printed on stdout as <c>{ "error", "reasons" }</c>. In text it is left to the usual handler
    /// (<c>error: ...</c> on stderr, exit 1).
    /// </summary>
    public static async Task<int> RunAsync(CliContext ctx, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (RefusedException e) when (ctx.Json)
        {
            return await RefusedJsonAsync(ctx, e.Message, e.Reasons);
        }
        catch (ActionForbiddenException e) when (ctx.Json)
        {
            return await RefusedJsonAsync(ctx, e.Message, e.Reasons);
        }
        catch (PromotionConflictException e) when (ctx.Json)
        {
            return await RefusedJsonAsync(ctx, e.Message, [e.Message]);
        }
    }

    /// <summary>
    /// Prints a refusal with its reasons, one a line, on stderr (and with --output json the refusal object on
    /// stdout); returns exit 1.
    /// </summary>
    public static async Task<int> RefusedAsync(
        CliContext ctx,
        string error,
        IReadOnlyList<string> reasons
    )
    {
        await ctx.Error.WriteLineAsync($"{error}:");
        foreach (var reason in reasons)
        {
            await ctx.Error.WriteLineAsync($"  - {reason}");
        }

        if (ctx.Json)
        {
            await Json.WriteAsync(ctx.Out, new RefusalView(error, reasons));
        }

        return CliApp.NotOk;
    }

    private static async Task<int> RefusedJsonAsync(
        CliContext ctx,
        string error,
        IReadOnlyList<string> reasons
    )
    {
        await ctx.Error.WriteLineAsync($"error: {error}");
        await Json.WriteAsync(ctx.Out, new RefusalView(error, reasons));
        return CliApp.NotOk;
    }

    public ValueTask DisposeAsync() => _session.DisposeAsync();

    private static Func<RevocationResult, CancellationToken, Task> Noted(CliContext ctx) =>
        (applied, _) =>
            ctx.Error.WriteLineAsync(
                $"note: the revocation of {applied.Scheduled!.Image}@{applied.Scheduled.Version} scheduled for "
                    + $"{Report.Time(applied.Scheduled.EffectiveAt)} took effect now"
            );
}
