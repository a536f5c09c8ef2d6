using System.CommandLine;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge keys export</c>, and the signer the build uses: chosen by IMAGEFORGE_SIGNING_KEY (file: by default,
/// a key created on first use in &lt;data-dir&gt;/keys).
/// </summary>
internal static class KeysCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var keys = new Command(
            "keys",
            "The key that signs provenance (set with IMAGEFORGE_SIGNING_KEY)"
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
        return keys;
    }
}
