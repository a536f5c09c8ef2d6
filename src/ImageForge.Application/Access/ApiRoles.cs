namespace ImageForge.Application.Access;

/// <summary>
/// The API's roles, ordered: viewer &lt; builder &lt; release-manager &lt; admin. Each name is also the name of the
/// authorization policy that admits that role or a higher one (<c>.RequireAuthorization(ApiRoles.Builder)</c>).
/// </summary>
public static class ApiRoles
{
    /// <summary>Reads builds, logs, images, versions, evidence, channels, audit; asks admit.</summary>
    public const string Viewer = "viewer";

    /// <summary>
    /// Also queues and cancels builds, runs a schedule now, promotes into and rolls back unrestricted channels (the
    /// command line's rules).
    /// </summary>
    public const string Builder = "builder";

    /// <summary>Also approves, revokes, and promotes into and rolls back restricted channels.</summary>
    public const string ReleaseManager = "release-manager";

    /// <summary>Everything, including skipping a channel, gc --apply and the webhook delivery log.</summary>
    public const string Admin = "admin";

    /// <summary>Every role, lowest first.</summary>
    public static readonly IReadOnlyList<string> All = [Viewer, Builder, ReleaseManager, Admin];

    /// <summary>Whether <paramref name="role"/> is one of <see cref="All"/> (exact, lower case).</summary>
    public static bool IsKnown(string? role) => Rank(role) >= 0;

    /// <summary>The role's place in the order (viewer 0 ... admin 3), or -1 for an unknown role.</summary>
    public static int Rank(string? role)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (string.Equals(All[i], role, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether a token with <paramref name="role"/> may do what <paramref name="required"/> may.</summary>
    public static bool Admits(string? role, string required) =>
        Rank(role) >= 0 && Rank(role) >= Rank(required);
}
