using ImageForge.Core.Facts;

namespace ImageForge.Core.Anomalies;

/// <summary>
/// The parent's own change between the version the window's builds were built on and the one this build is built on
/// (a new parent version or base): a difference that appears there too is inherited, not raised.
/// </summary>
/// <param name="Description">"parent debian-12-base 2025.03.01.1 -> 2025.03.08.1".</param>
/// <param name="Before">The parent's facts the window was built on.</param>
/// <param name="After">The parent's facts this build is built on.</param>
public sealed record ParentChange(string Description, FactSnapshot Before, FactSnapshot After);

/// <summary>
/// Compares one build's facts with the window of its image's newest successful builds: first-seen over every fact
/// set, a robust z-score and an EWMA chart over sizes, durations and the compliance score, and the always-serious
/// rules. Pure: the same facts and settings give the same anomalies, in the same order.
/// </summary>
public static class AnomalyDetector
{
    private enum Direction
    {
        Both,
        Up,
        Down,
    }

    /// <summary>The anomalies of <paramref name="current"/> against <paramref name="history"/> (oldest first).</summary>
    /// <param name="current">This build's facts.</param>
    /// <param name="history">The window: the newest successful builds of the image and target, oldest first.</param>
    /// <param name="settings">The baseline's configuration.</param>
    /// <param name="today">The day expected changes are judged on.</param>
    /// <param name="parent">The parent's change, when the parent version or base changed since the window.</param>
    public static IReadOnlyList<Anomaly> Detect(
        FactSnapshot current,
        IReadOnlyList<FactSnapshot> history,
        AnomalySettings settings,
        DateOnly today,
        ParentChange? parent = null
    )
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(settings);
        var window = history.TakeLast(settings.Window).ToList();
        var found = new List<Anomaly>();
        found.AddRange(Rules(current, window, settings, parent));
        found.AddRange(NewMembers(current, window, settings, found, parent));
        found.AddRange(Measurements(current, window, settings, parent));
        return
        [
            .. found
                .Select(a => Suppress(a, settings.Expected, today))
                .OrderByDescending(a => a.Raised)
                .ThenByDescending(a => a.Severity)
                .ThenBy(a => a.Signal, StringComparer.Ordinal)
                .ThenBy(a => a.Subject, StringComparer.Ordinal),
        ];
    }

    private static IEnumerable<Anomaly> Rules(
        FactSnapshot current,
        List<FactSnapshot> window,
        AnomalySettings settings,
        ParentChange? parent
    )
    {
        foreach (var (signal, matches, explain) in AlwaysSerious)
        {
            foreach (var subject in matches(current))
            {
                yield return Rule(settings, signal, subject, explain(subject), "always serious");
            }
        }
        if (window.Count == 0)
        {
            yield break;
        }
        foreach (var set in TrustAnchors)
        {
            foreach (
                var anchor in FirstSeen.NewMembers(current.Set(set), window.Select(w => w.Set(set)))
            )
            {
                yield return Rule(
                    settings,
                    AnomalySettings.Rules.NewTrustAnchor,
                    anchor,
                    $"new trust anchor: {AnomalyText.Label(set)} {anchor}, {FirstSeen.Baseline(window.Count)}",
                    FirstSeen.Baseline(window.Count)
                ) with
                {
                    Inherited = FromParent(parent, set, anchor),
                };
            }
        }
    }

    private static readonly (
        string Signal,
        Func<FactSnapshot, IEnumerable<string>> Matches,
        Func<string, string> Explain
    )[] AlwaysSerious =
    [
        (
            AnomalySettings.Rules.Uid0Account,
            SeriousRules.Uid0Accounts,
            account => $"account {account.Split(' ')[0]} has uid 0 ({account}); only root may"
        ),
        (
            AnomalySettings.Rules.SudoersNopasswd,
            SeriousRules.Nopasswd,
            line => $"sudoers grants NOPASSWD: {line}"
        ),
        (
            AnomalySettings.Rules.PermitRootLogin,
            SeriousRules.PermitRootLogin,
            _ => "sshd permits root login (PermitRootLogin yes)"
        ),
    ];

    private static readonly string[] TrustAnchors = [FactNames.CaCertificate, FactNames.AptKey];

    private static Anomaly Rule(
        AnomalySettings settings,
        string signal,
        string subject,
        string explanation,
        string baseline
    ) =>
        new()
        {
            Id = Anomaly.IdOf(signal, subject),
            Signal = signal,
            Detector = AnomalyDetectorKind.Rule,
            Severity = settings.SeverityOf(signal),
            Subject = subject,
            Baseline = baseline,
            Explanation = explanation,
        };

    private static IEnumerable<Anomaly> NewMembers(
        FactSnapshot current,
        List<FactSnapshot> window,
        AnomalySettings settings,
        List<Anomaly> rules,
        ParentChange? parent
    )
    {
        if (window.Count == 0)
        {
            yield break;
        }
        // A member a rule already raised is one anomaly, the rule's.
        var byRule = rules.Select(r => r.Subject).ToHashSet(StringComparer.Ordinal);
        foreach (var (set, members) in current.Sets.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (TrustAnchors.Contains(set))
            {
                continue;
            }
            foreach (var member in FirstSeen.NewMembers(members, window.Select(w => w.Set(set))))
            {
                if (byRule.Contains(member))
                {
                    continue;
                }
                var baseline = FirstSeen.Baseline(window.Count);
                yield return new Anomaly
                {
                    Id = Anomaly.IdOf(set, member),
                    Signal = set,
                    Detector = AnomalyDetectorKind.FirstSeen,
                    Severity = settings.SeverityOf(set),
                    Subject = member,
                    Baseline = baseline,
                    Explanation = $"new {AnomalyText.Label(set)} {member}: {baseline}",
                    Inherited = FromParent(parent, set, member),
                };
            }
        }
    }

    // The parent's change added the same member: it came with the parent.
    private static bool FromParent(ParentChange? parent, string set, string member) =>
        parent is not null
        && parent.After.Set(set).Contains(member)
        && !parent.Before.Set(set).Contains(member);

    private static IEnumerable<Anomaly> Measurements(
        FactSnapshot current,
        List<FactSnapshot> window,
        AnomalySettings settings,
        ParentChange? parent
    )
    {
        foreach (var (name, value) in current.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (DirectionOf(name) is not { } direction)
            {
                continue;
            }
            var values = window
                .Where(w => w.Metrics.ContainsKey(name))
                .Select(w => w.Metrics[name])
                .ToList();
            if (values.Count == 0)
            {
                continue;
            }
            var floor = settings.MadFloorOf(name);
            var z = RobustZ.Score(value, values, floor);
            var label = AnomalyText.MeasurementLabel(name);
            var centre =
                $"median {AnomalyText.Value(name, z.Median)}, MAD {AnomalyText.Value(name, z.Mad)} over the last "
                + $"{values.Count} build{(values.Count == 1 ? "" : "s")}";
            if (Beyond(z.Score, settings.ZThreshold, direction))
            {
                yield return new Anomaly
                {
                    Id = Anomaly.IdOf(name, name),
                    Signal = name,
                    Detector = AnomalyDetectorKind.RobustZ,
                    Severity = settings.SeverityOf(name),
                    Subject = name,
                    Measurement = z,
                    Baseline = centre,
                    Explanation =
                        $"{label} {AnomalyText.Value(name, value)} is {AnomalyText.Number(Math.Abs(z.Score))} MADs "
                        + $"{(z.Score > 0 ? "above" : "below")} the {centre}",
                    Inherited = ExplainedByParent(name, value, z.Median, floor, parent),
                };
                continue;
            }
            if (values.Count < settings.EwmaMinimumBuilds)
            {
                continue;
            }
            var chart = Ewma.Score(value, values, settings.EwmaLambda, settings.EwmaLimit, floor);
            if (Beyond(chart.Score, 1, direction))
            {
                yield return new Anomaly
                {
                    Id = Anomaly.IdOf(name, "ewma " + name),
                    Signal = name,
                    Detector = AnomalyDetectorKind.Ewma,
                    Severity = settings.SeverityOf(name),
                    Subject = name,
                    Measurement = chart,
                    Baseline = centre,
                    Explanation =
                        $"{label} drifting {(chart.Score > 0 ? "up" : "down")}: {AnomalyText.Value(name, value)} "
                        + $"takes its EWMA past the control limit ({centre})",
                    Inherited = ExplainedByParent(name, value, chart.Median, floor, parent),
                };
            }
        }
    }

    // Sizes are anomalous both ways, durations only longer, the compliance score only lower; counts of findings are
    // judged by the critical findings' set instead.
    private static Direction? DirectionOf(string name) =>
        name.StartsWith("size.", StringComparison.Ordinal) ? Direction.Both
        : name.StartsWith(FactNames.StagePrefix, StringComparison.Ordinal) ? Direction.Up
        : name == FactNames.ComplianceScore ? Direction.Down
        : null;

    private static bool Beyond(double score, double threshold, Direction direction) =>
        direction switch
        {
            Direction.Up => score > threshold,
            Direction.Down => score < -threshold,
            _ => Math.Abs(score) > threshold,
        };

    // The parent moved the same measurement by the same ratio (within the floor): the change came with it.
    private static bool ExplainedByParent(
        string name,
        double value,
        double median,
        double floor,
        ParentChange? parent
    )
    {
        if (
            parent is null
            || !parent.Before.Metrics.TryGetValue(name, out var before)
            || !parent.After.Metrics.TryGetValue(name, out var after)
            || before == 0
            || median == 0
        )
        {
            return false;
        }
        var parentRatio = after / before;
        var ours = value / median;
        return Math.Abs(parentRatio - 1) > floor && Math.Abs(ours - parentRatio) <= floor;
    }

    private static Anomaly Suppress(
        Anomaly anomaly,
        IReadOnlyList<ExpectedChange> expected,
        DateOnly today
    ) =>
        expected.FirstOrDefault(e =>
            e.Signal == anomaly.Signal
            && today < e.Expires
            && anomaly.Subject.Contains(e.Match, StringComparison.Ordinal)
        )
            is { } change
            ? anomaly with
            {
                SuppressedBy =
                    $"expected: {change.Reason} (until {change.Expires.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)})",
            }
            : anomaly;
}
