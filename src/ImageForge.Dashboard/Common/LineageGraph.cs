using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Dashboard.Common;

/// <summary>One box of the lineage graph: the base, an ancestor, the version itself or a descendant.</summary>
/// <param name="Id">What edges name: <c>image@version</c>, or the base's name.</param>
/// <param name="Image">The version's image; null for the base.</param>
/// <param name="Version">The version; null for the base.</param>
/// <param name="Relation">"base", "ancestor", "this version" or "descendant, generation N".</param>
/// <param name="Status">The version's status as the catalog has it; null for the base or a version it lost.</param>
/// <param name="Flags">Its flags (e.g. <c>parent-revoked</c>).</param>
/// <param name="Column">Left to right: the base, ancestors oldest first, this version, then each generation.</param>
/// <param name="Row">Top to bottom within its column.</param>
/// <param name="Parent">The <see cref="Id"/> of the box it was built on; null for the first box.</param>
public sealed record LineageNode(
    string Id,
    string? Image,
    string? Version,
    string Relation,
    VersionStatus? Status,
    IReadOnlyList<string> Flags,
    int Column,
    int Row,
    string? Parent
)
{
    /// <summary>The status in words ("base image" for the base, "not in the catalog" for a lost version).</summary>
    public string StatusText =>
        Image is null ? "base image"
        : Status is { } s ? s.ToString().ToLowerInvariant()
        : "not in the catalog";
}

/// <summary>
/// A version's lineage as the catalog records it (<see cref="IPromotionStore.GetLineageAsync"/> up through its parents
/// to the base, <see cref="IPromotionStore.GetChildrenAsync"/> down through every generation built on it), laid out
/// left to right for the SVG drawn on the server. Walks are bounded (<see cref="MaxNodes"/>) and never loop.
/// </summary>
public sealed record LineageGraph(string Image, string Version, IReadOnlyList<LineageNode> Nodes)
{
    /// <summary>The most boxes drawn on each side (ancestors, descendants); more are cut and said so.</summary>
    public const int MaxNodes = 200;

    /// <summary>Box width, in SVG user units.</summary>
    public const int BoxWidth = 190;

    /// <summary>Box height.</summary>
    public const int BoxHeight = 58;

    private const int ColumnGap = 46;
    private const int RowGap = 16;
    private const int Margin = 8;

    /// <summary>Whether a walk stopped at <see cref="MaxNodes"/>.</summary>
    public bool Truncated { get; init; }

    /// <summary>The drawing's width.</summary>
    public int Width =>
        Margin * 2 + (Nodes.Max(n => n.Column) + 1) * (BoxWidth + ColumnGap) - ColumnGap;

    /// <summary>The drawing's height.</summary>
    public int Height => Margin * 2 + (Nodes.Max(n => n.Row) + 1) * (BoxHeight + RowGap) - RowGap;

    /// <summary>The left edge of a box.</summary>
    public static int X(LineageNode node) => Margin + node.Column * (BoxWidth + ColumnGap);

    /// <summary>The top edge of a box.</summary>
    public static int Y(LineageNode node) => Margin + node.Row * (BoxHeight + RowGap);

    /// <summary>Each edge: the box a version was built on, and the version.</summary>
    public IEnumerable<(LineageNode From, LineageNode To)> Edges =>
        Nodes.Where(n => n.Parent is not null).Select(n => (Nodes.First(p => p.Id == n.Parent), n));

    internal static async Task<LineageGraph> ReadAsync(
        ImageVersion version,
        ICatalog catalog,
        IPromotionStore store,
        CancellationToken cancellationToken
    )
    {
        var seen = new HashSet<string>(StringComparer.Ordinal)
        {
            Id(version.Image, version.Version),
        };
        var truncated = false;

        // Up: parent after parent, then the base the oldest one was built on.
        var ancestors = new List<(string Image, string Version)>();
        var lineage = await store.GetLineageAsync(
            version.Image,
            version.Version,
            cancellationToken
        );
        string? baseImage = lineage?.BaseImage;
        while (lineage is { ParentImage: { } parentImage, ParentVersion: { } parentVersion })
        {
            if (!seen.Add(Id(parentImage, parentVersion)))
            {
                break;
            }

            if (ancestors.Count == MaxNodes)
            {
                truncated = true;
                break;
            }

            ancestors.Insert(0, (parentImage, parentVersion));
            lineage = await store.GetLineageAsync(parentImage, parentVersion, cancellationToken);
            baseImage = lineage?.BaseImage ?? baseImage;
        }

        var nodes = new List<LineageNode>();
        string? previous = null;
        var column = 0;
        if (baseImage is not null)
        {
            nodes.Add(new LineageNode(baseImage, null, null, "base", null, [], 0, 0, null));
            previous = baseImage;
            column = 1;
        }

        foreach (var (image, number) in ancestors)
        {
            nodes.Add(
                await NodeAsync(
                    image,
                    number,
                    "ancestor",
                    column++,
                    0,
                    previous,
                    catalog,
                    store,
                    cancellationToken
                )
            );
            previous = nodes[^1].Id;
        }

        nodes.Add(
            await NodeAsync(
                version.Image,
                version.Version,
                "this version",
                column,
                0,
                previous,
                catalog,
                store,
                cancellationToken
            )
        );

        // Down: each generation of versions built on the one before, breadth first.
        var generation = new List<string> { Id(version.Image, version.Version) };
        var descendants = 0;
        for (var depth = 1; generation.Count > 0; depth++)
        {
            var next = new List<string>();
            var row = 0;
            foreach (var parent in generation.TakeWhile(_ => !truncated))
            {
                var (parentImage, parentVersion) = Split(parent);
                foreach (
                    var child in await store.GetChildrenAsync(
                        parentImage,
                        parentVersion,
                        cancellationToken
                    )
                )
                {
                    if (!seen.Add(Id(child.Image, child.Version)))
                    {
                        continue;
                    }

                    if (descendants++ >= MaxNodes)
                    {
                        truncated = true;
                        break;
                    }

                    nodes.Add(
                        await NodeAsync(
                            child.Image,
                            child.Version,
                            $"descendant, generation {depth}",
                            column + depth,
                            row++,
                            parent,
                            catalog,
                            store,
                            cancellationToken
                        )
                    );
                    next.Add(nodes[^1].Id);
                }
            }

            generation = truncated ? [] : next;
        }

        return new LineageGraph(version.Image, version.Version, nodes) { Truncated = truncated };
    }

    private static async Task<LineageNode> NodeAsync(
        string image,
        string version,
        string relation,
        int column,
        int row,
        string? parent,
        ICatalog catalog,
        IPromotionStore store,
        CancellationToken cancellationToken
    )
    {
        var found = await catalog.GetVersionAsync(image, version, cancellationToken);
        var flags = await store.GetFlagsAsync(image, version, cancellationToken);
        return new LineageNode(
            Id(image, version),
            image,
            version,
            relation,
            found?.Status,
            [.. flags.Select(f => f.Flag).Distinct(StringComparer.Ordinal)],
            column,
            row,
            parent
        );
    }

    private static string Id(string image, string version) => $"{image}@{version}";

    private static (string Image, string Version) Split(string id)
    {
        var at = id.LastIndexOf('@');
        return (id[..at], id[(at + 1)..]);
    }
}
