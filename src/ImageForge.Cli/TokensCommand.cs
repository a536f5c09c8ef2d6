using System.CommandLine;
using ImageForge.Application.Access;
using ImageForge.Core.Audit;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge tokens create|list|revoke</c>: API tokens for the worker. Whoever can write the data directory
/// manages them (like the catalog itself); the secret is printed once and only its sha256 is stored.
/// </summary>
internal static class TokensCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var tokens = new Command(
            "tokens",
            "API tokens for the worker's HTTP API (bearer, with a role)"
        );
        tokens.Subcommands.Add(CreateToken(context));
        tokens.Subcommands.Add(List(context));
        tokens.Subcommands.Add(Revoke(context));
        return tokens;
    }

    private static Command CreateToken(Func<ParseResult, CliContext> context)
    {
        var name = new Option<string>("--name")
        {
            Description =
                "Who uses it: the actor recorded in the audit trail (a person or a pipeline)",
            Required = true,
        };
        var role = new Option<string>("--role")
        {
            Description = "viewer, builder, release-manager or admin",
            Required = true,
        };
        var command = new Command("create", "Create a token; its secret is printed once")
        {
            name,
            role,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var actor = parse.GetValue(name)!.Trim();
                var wanted = parse.GetValue(role)!;
                if (actor.Length == 0)
                {
                    throw new InvalidInputException("--name: give the token's user a name");
                }

                if (!ApiRoles.IsKnown(wanted))
                {
                    throw new InvalidInputException(
                        $"--role: '{wanted}' is not a role; use one of {string.Join(", ", ApiRoles.All)}"
                    );
                }

                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var secret = ApiTokens.Generate();
                var token = await catalog.CreateTokenAsync(
                    actor,
                    wanted,
                    ApiTokens.Hash(secret),
                    ctx.Time.GetUtcNow(),
                    ct
                );
                await catalog.AppendAsync(
                    new AuditEntry
                    {
                        Action = "token-create",
                        Actor = Environment.UserName,
                        Role = "admin",
                        Time = ctx.Time.GetUtcNow(),
                        Details = $"token {token.Id} for {actor} with role {wanted}",
                    },
                    ct
                );
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new
                        {
                            id = token.Id,
                            actor = token.Actor,
                            role = token.Role,
                            created_at = token.CreatedAt,
                            secret,
                        }
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync(secret);
                await ctx.Error.WriteLineAsync(
                    $"token {token.Id} for {actor} ({wanted}); this secret is shown once. Use it as "
                        + "IMAGEFORGE_TOKEN with --server, or as 'Authorization: Bearer <secret>'"
                );
                return CliApp.Ok;
            }
        );
        return command;
    }

    private static Command List(Func<ParseResult, CliContext> context)
    {
        var command = new Command("list", "Tokens (never their secrets)");
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var rows = await catalog.ListTokensAsync(ct);
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        rows.Select(t => new
                        {
                            id = t.Id,
                            actor = t.Actor,
                            role = t.Role,
                            created_at = t.CreatedAt,
                            revoked_at = t.RevokedAt,
                        })
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync($"{"ID", -6} {"ACTOR", -24} {"ROLE", -16} CREATED");
                foreach (var t in rows)
                {
                    await ctx.Out.WriteLineAsync(
                        $"{t.Id, -6} {t.Actor, -24} {t.Role, -16} {Report.Time(t.CreatedAt)}"
                            + (t.RevokedAt is { } r ? $"  revoked {Report.Time(r)}" : "")
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }

    private static Command Revoke(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("id") { Description = "The token's id (tokens list)" };
        var command = new Command("revoke", "Revoke a token at once") { id };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var token = parse.GetValue(id)!;
                if (!await catalog.RevokeTokenAsync(token, ctx.Time.GetUtcNow(), ct))
                {
                    throw new InvalidInputException(
                        $"no active token {token}; 'imageforge tokens list' shows them"
                    );
                }

                await catalog.AppendAsync(
                    new AuditEntry
                    {
                        Action = "token-revoke",
                        Actor = Environment.UserName,
                        Role = "admin",
                        Time = ctx.Time.GetUtcNow(),
                        Details = $"token {token}",
                    },
                    ct
                );
                await ctx.Out.WriteLineAsync($"token {token} revoked");
                return CliApp.Ok;
            }
        );
        return command;
    }
}
