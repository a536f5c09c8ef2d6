using System.CommandLine;
using ImageForge.Signing;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge keys export</c>, and the signer the build uses: chosen by IMAGEFORGE_SIGNING_KEY (file: by default,
/// a key created on first use in &lt;data-dir&gt;/keys); <c>imageforge keys trust add|list|remove</c>, the keys
/// verification accepts (IMAGEFORGE_TRUSTED_KEYS, else &lt;data-dir&gt;/keys/trusted).
/// </summary>
internal static class KeysCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var keys = new Command(
            "keys",
            "The key that signs provenance (set with IMAGEFORGE_SIGNING_KEY) and the keys verification trusts"
        );
        var file = new Option<string?>("--file")
        {
            Description = "Write the PEM to this file instead of standard output",
        };
        var export = new Command(
            "export",
            "Print the signing key's public key as PEM (creates the file key on first use)"
        )
        {
            file,
        };
        export.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var signer = ctx.Pipeline.Signer();
                try
                {
                    var pem = await signer.GetPublicKeyPemAsync(ct);
                    if (parse.GetValue(file) is { } path)
                    {
                        await File.WriteAllTextAsync(
                            Path.GetFullPath(path, ctx.Host.CurrentDirectory),
                            pem + "\n",
                            ct
                        );
                        await ctx.Error.WriteLineAsync(
                            $"wrote the public key of {signer.KeyId} to {path}"
                        );
                    }
                    else
                    {
                        await ctx.Out.WriteLineAsync(pem);
                    }
                }
                finally
                {
                    (signer as IDisposable)?.Dispose();
                }

                return CliApp.Ok;
            }
        );
        keys.Subcommands.Add(export);
        keys.Subcommands.Add(Trust(context));
        return keys;
    }

    private static Command Trust(Func<ParseResult, CliContext> context)
    {
        var file = new Argument<string>("file")
        {
            Description = "A PEM public key ('keys export --file F' writes the signing key's)",
        };
        var add = new Command("add", "Trust the public key in a PEM file") { file };
        add.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var store = ctx.Pipeline.TrustStore();
                var key = store.Add(
                    Path.GetFullPath(parse.GetValue(file)!, ctx.Host.CurrentDirectory)
                );
                await WriteAsync(ctx, "trusted", key, store);
                return CliApp.Ok;
            }
        );

        var list = new Command("list", "List the trusted keys by fingerprint");
        list.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var store = ctx.Pipeline.TrustStore();
                var keys = store.List();
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new
                        {
                            store = store.Path,
                            bundle = store.IsBundle,
                            keys = keys.Select(k => new
                            {
                                fingerprint = k.Fingerprint,
                                file = k.Source,
                            }),
                        }
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync($"trust store {store.Path}: {keys.Count} key(s)");
                foreach (var k in keys)
                {
                    await ctx.Out.WriteLineAsync($"  {k.Fingerprint}  {k.Source}");
                }

                return CliApp.Ok;
            }
        );

        var fingerprint = new Argument<string>("fingerprint")
        {
            Description = "sha256:<hex> as 'keys trust list' shows it",
        };
        var remove = new Command("remove", "Stop trusting a key") { fingerprint };
        remove.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var store = ctx.Pipeline.TrustStore();
                var key = store.Remove(parse.GetValue(fingerprint)!);
                await WriteAsync(ctx, "no longer trusted", key, store);
                return CliApp.Ok;
            }
        );

        return new Command(
            "trust",
            "The public keys verify, admit, promotion and the API accept signatures from "
                + $"(${TrustStore.EnvironmentVariable}: a directory, or a read-only PEM bundle file; default <data-dir>/keys/trusted)"
        )
        {
            add,
            list,
            remove,
        };
    }

    private static async Task WriteAsync(
        CliContext ctx,
        string what,
        TrustedKey key,
        TrustStore store
    )
    {
        if (ctx.Json)
        {
            await Json.WriteAsync(
                ctx.Out,
                new
                {
                    fingerprint = key.Fingerprint,
                    file = key.Source,
                    store = store.Path,
                }
            );
            return;
        }

        await ctx.Out.WriteLineAsync($"{what}: {key.Fingerprint} ({store.Path})");
    }
}
