using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using YamlDotNet.RepresentationModel;

namespace ImageForge.Core.Promotion;

/// <summary>
/// Who may do what, from <c>&lt;data-dir&gt;/roles.yaml</c>:
/// <code>
/// actors:
///   alice: release-manager
///   bob: builder
///   ci: viewer
/// restricted_channels: [prod]   # default: the last channel of each image's path
/// </code>
/// Actors not listed are viewers. Without the file there is no one to protect against but the machine's own users,
/// so every actor is admin. The command line trusts the OS identity it runs as (and IMAGEFORGE_ACTOR); it is an
/// accountability record for cooperating people on one machine, not a security boundary against its users.
/// </summary>
public sealed class AccessPolicy
{
    public const string FileName = "roles.yaml";

    private const long MaxFileBytes = 256 * 1024;

    private readonly IReadOnlyDictionary<string, Role>? _actors;
    private readonly IReadOnlyList<string>? _restricted;

    public AccessPolicy(
        IReadOnlyDictionary<string, Role>? actors,
        IReadOnlyList<string>? restricted
    )
    {
        _actors = actors;
        _restricted = restricted;
    }

    /// <summary>No roles file: everyone is admin, the last channel of a path is restricted.</summary>
    public static AccessPolicy Open { get; } = new(null, null);

    /// <summary>True when a roles file was read.</summary>
    public bool Configured => _actors is not null;

    /// <summary>The role of <paramref name="name"/>: listed, viewer when not, admin when there is no roles file.</summary>
    public Actor Resolve(string name) =>
        new(
            name,
            _actors is null ? Role.Admin
                : _actors.TryGetValue(name, out var role) ? role
                : Role.Viewer
        );

    /// <summary>Whether moving <paramref name="channel"/> takes a release manager.</summary>
    public bool IsRestricted(string channel, IReadOnlyList<string> path) =>
        _restricted?.Contains(channel, StringComparer.Ordinal)
        ?? (path.Count > 1 && path[^1] == channel);

    /// <summary>Reads the roles file in <paramref name="dataDirectory"/>; <see cref="Open"/> when there is none.</summary>
    public static AccessPolicy Load(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(file))
        {
            return Open;
        }

        var read = TextInput.ReadUtf8(file, MaxFileBytes, "a roles file is a few lines");
        if (read.Text is not { } content)
        {
            throw new InvalidInputException($"{file}:{read.Line}: {read.Problem}");
        }

        var yaml = new YamlStream();
        try
        {
            using var reader = new StringReader(content);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidInputException($"{file}:{e.Start.Line}: {e.Message}");
        }

        var actors = new Dictionary<string, Role>(StringComparer.Ordinal);
        List<string>? restricted = null;
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            return new AccessPolicy(actors, null);
        }

        foreach (var (key, value) in root.Children)
        {
            var name = ((YamlScalarNode)key).Value;
            if (name == "actors" && value is YamlMappingNode map)
            {
                foreach (var (actor, role) in map.Children)
                {
                    var text = (role as YamlScalarNode)?.Value ?? "";
                    actors[((YamlScalarNode)actor).Value!] =
                        RoleNames.Parse(text)
                        ?? throw new InvalidInputException(
                            $"{file}:{role.Start.Line}: actors.{actor}: unknown role '{text}'; expected viewer, builder, release-manager or admin"
                        );
                }
            }
            else if (name == "restricted_channels" && value is YamlSequenceNode list)
            {
                restricted = [.. list.Children.OfType<YamlScalarNode>().Select(s => s.Value!)];
            }
            else
            {
                throw new InvalidInputException(
                    $"{file}:{key.Start.Line}: {name}: expected 'actors' (a mapping of actor to role) or 'restricted_channels' (a list)"
                );
            }
        }

        return new AccessPolicy(actors, restricted);
    }

    /// <summary>Refuses (exit 1) unless <paramref name="actor"/> has at least <paramref name="needed"/>.</summary>
    public static void Require(Actor actor, Role needed, string action)
    {
        if (actor.Role < needed)
        {
            throw new RefusedException(
                $"{actor.Name} is {actor.RoleName} and cannot {action}: that takes {RoleNames.Of(needed)} "
                    + $"(roles come from <data-dir>/{FileName})"
            );
        }
    }
}

/// <summary>
/// Promotion rules for one channel: how long the version must have been in the previous channel, how many approvals,
/// whether a fresh vulnerability re-scan must pass the baseline's gates first, whether the version's requester may
/// not approve it (four eyes), and which of the rules an admin may skip (naming them, with a reason).
/// </summary>
public sealed record ChannelRule(TimeSpan Soak, int Approvals, bool Rescan = false)
{
    /// <summary>
    /// Four eyes: an approval by the version's requester (<see cref="PromotionService.RequesterAsync"/>) is refused.
    /// </summary>
    public bool FourEyes { get; init; }

    /// <summary>The rules of <see cref="PromotionRuleNames.All"/> an admin may skip here; by default only the path.</summary>
    public IReadOnlySet<string> Skippable { get; init; } = PromotionRuleNames.DefaultSkippable;
}

/// <summary>The rules a promotion is checked against, by the names <c>--skip</c> and <c>skippable:</c> use.</summary>
public static class PromotionRuleNames
{
    /// <summary>The version has been in the channel before this one on the path.</summary>
    public const string PreviousChannel = "previous-channel";

    /// <summary>It has been there for the channel's soak time.</summary>
    public const string Soak = "soak";

    /// <summary>It has the channel's number of release-manager approvals.</summary>
    public const string Approvals = "approvals";

    /// <summary>A fresh vulnerability re-scan passes the baseline's gates.</summary>
    public const string Rescan = "rescan";

    /// <summary>Every rule, in the order they are checked.</summary>
    public static IReadOnlyList<string> All { get; } = [PreviousChannel, Soak, Approvals, Rescan];

    /// <summary>What a channel lets an admin skip when its baseline says nothing: the path, never soak or approvals.</summary>
    public static IReadOnlySet<string> DefaultSkippable { get; } =
        new HashSet<string>([PreviousChannel], StringComparer.Ordinal);
}

/// <summary>A baseline's promotion rules by target channel; channels without a rule need neither soak nor approvals.</summary>
public sealed record PromotionRules(IReadOnlyDictionary<string, ChannelRule> Channels)
{
    public static PromotionRules None { get; } = new(new Dictionary<string, ChannelRule>());

    public ChannelRule For(string channel) =>
        Channels.TryGetValue(channel, out var rule) ? rule : new ChannelRule(TimeSpan.Zero, 0);
}
