using System.CommandLine;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary><c>imageforge images list | show &lt;image&gt;[@&lt;version&gt;]</c>.</summary>
internal static class ImagesCommands
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var images = new Command("images", "Images and their versions in the catalog");
        images.Subcommands.Add(List(context));
        images.Subcommands.Add(Show(context));
        return images;
    }

    private static Command List(Func<ParseResult, CliContext> context)
    {
        var command = new Command("list", "Every image with its version count and latest version");
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var session = await ctx.OpenSessionAsync(ct);
                var rows = await session.Reader.ListImagesAsync(ct);
                if (ctx.Json)
                {
                    await Json.WriteAsync<IReadOnlyList<ImageView>>(
                        ctx.Out,
                        [.. rows.Select(ImageView.From)]
                    );
                    return CliApp.Ok;
                }

                if (rows.Count == 0)
                {
                    await ctx.Out.WriteLineAsync(
                        "no image versions yet: run 'imageforge build <image>'"
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync(
                    $"{"IMAGE", -28} {"VERSIONS", 8}  {"LATEST", -14} CREATED"
                );
                foreach (var r in rows)
                {
                    await ctx.Out.WriteLineAsync(
                        $"{r.Image, -28} {r.VersionCount, 8}  {r.LatestVersion ?? "-", -14} {Report.Time(r.LatestCreatedAt)}"
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }

    private static Command Show(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("image")
        {
            Description = "An image, or one version of it: <image>@<version>",
        };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many versions",
            DefaultValueFactory = _ => 20,
        };
        var command = new Command(
            "show",
            "An image's versions with their artifacts (path, size, sha256)"
        )
        {
            reference,
            limit,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var (image, version) = VersionReference.Parse(parse.GetValue(reference)!);
                await using var session = await ctx.OpenSessionAsync(ct);
                var catalog = session.Reader;
                IReadOnlyList<ImageVersion> versions =
                    version is null
                        ? await catalog.ListVersionsAsync(image, parse.GetValue(limit), ct)
                    : (await catalog.GetVersionAsync(image, version, ct)) is { } one ? [one]
                    : throw new InvalidInputException(
                        $"{image} has no version {version}; 'imageforge images show {image}' lists its versions"
                    );
                if (versions.Count == 0)
                {
                    throw new InvalidInputException(
                        $"no versions of '{image}' in the catalog at {(object?)ctx.Server ?? ctx.Data.Root}; 'imageforge images list' shows what is there"
                    );
                }

                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new ImageVersionsView(image, [.. versions.Select(VersionView.From)])
                    );
                    return CliApp.Ok;
                }

                foreach (var v in versions)
                {
                    await ctx.Out.WriteLineAsync(
                        $"{v.Image}@{v.Version}  {v.Status.Name()}  built {Report.Time(v.CreatedAt)} by build {v.BuildId}"
                    );
                    await Report.VersionFilesAsync(ctx.Out, v);
                }

                return CliApp.Ok;
            }
        );
        return command;
    }
}
