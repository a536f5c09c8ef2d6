using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;

namespace ImageForge.Core.Promotion;

/// <summary>
/// What a version must meet to enter a channel, checked before anything is written: it is built, its gate passed (or
/// warned), its signature verifies; and the channel's rules (<see cref="PromotionRuleNames"/>): it was in the previous
/// channel, soaked there, has its approvals. Every unmet rule is reported at once. An admin may skip the rules the
/// baseline marks skippable for the channel, by naming them; each skip is returned so it is audited on its own.
/// </summary>
internal sealed class PromotionPreconditions(PromotionContext context)
{
    /// <summary>The unmet rules (empty when the version may enter) and the rules skipped.</summary>
    public async Task<(List<string> Refusals, List<string> Skipped)> CheckAsync(
        PromoteRequest request,
        ImageVersion version,
        int index,
        CancellationToken cancellationToken
    )
    {
        var refusals = new List<string>();
        var skipped = new List<string>();
        var rule = request.Rules.For(request.Channel);
        CheckSkips(request, rule, index > 0 ? request.Path[index - 1] : null, refusals);
        await CheckVersionAsync(version, refusals, cancellationToken);
        if (request.Restricted)
        {
            await CheckAnomaliesAsync(version, refusals, cancellationToken);
        }

        // A skip counts only when it is allowed; a refused skip leaves the rule to be met.
        bool Skips(string name) =>
            request.Skip.Contains(name)
            && rule.Skippable.Contains(name)
            && request.Actor.Role >= Role.Admin;

        var name = $"{request.Image}@{request.Version}";
        if (index > 0)
        {
            var previous = request.Path[index - 1];
            var history = await context.Store.GetHistoryAsync(
                request.Image,
                previous,
                cancellationToken
            );
            var since = history
                .Where(h => h.Version == request.Version)
                .Select(h => (DateTimeOffset?)h.At)
                .Min();
            if (since is null)
            {
                Meet(
                    PromotionRuleNames.PreviousChannel,
                    $"{name} has never been in {previous}, the channel before {request.Channel}; promote it to "
                        + $"{previous} first"
                );
            }

            if (rule.Soak > TimeSpan.Zero)
            {
                var soaked = since is { } at ? context.Now - at : TimeSpan.Zero;
                if (soaked < rule.Soak)
                {
                    Meet(
                        PromotionRuleNames.Soak,
                        since is { } entered
                            ? $"{name} has soaked in {previous} for {Describe(soaked)}; {request.Channel} needs "
                                + $"{Describe(rule.Soak)} (promote after {AuditChain.FormatTime(entered + rule.Soak)})"
                            : $"{name} has not soaked in {previous} (it was never there); {request.Channel} needs "
                                + Describe(rule.Soak)
                    );
                }
            }
        }

        // A release manager's rejection is no rule an admin may skip: it stands until the version is gone.
        if (
            await context.Store.GetRejectionAsync(
                request.Image,
                request.Version,
                request.Channel,
                cancellationToken
            ) is
            { } rejection
        )
        {
            refusals.Add($"{rejection.Describe()}; it is not promoted there");
        }

        if (rule.Approvals > 0)
        {
            var approvals = await context.Store.GetApprovalsAsync(
                request.Image,
                request.Version,
                request.Channel,
                cancellationToken
            );
            if (approvals.Count < rule.Approvals)
            {
                Meet(
                    PromotionRuleNames.Approvals,
                    $"{request.Channel} needs {rule.Approvals} approval(s) of {name}, it has "
                        + $"{approvals.Count}{(approvals.Count > 0 ? $" ({string.Join(", ", approvals.Select(a => a.Actor))})" : "")}; "
                        + $"release managers approve with 'imageforge approve {name} --for {request.Channel}'"
                );
            }
        }

        if (rule.Rescan && !request.Resume)
        {
            if (request.Skip.Contains(PromotionRuleNames.Rescan))
            {
                Meet(
                    PromotionRuleNames.Rescan,
                    $"{request.Channel} needs a fresh re-scan that passes the gates"
                );
            }

            refusals.AddRange(request.RescanRefusals);
        }

        return (refusals, skipped);

        void Meet(string ruleName, string unmet)
        {
            if (Skips(ruleName))
            {
                skipped.Add(ruleName);
            }
            else
            {
                refusals.Add(
                    rule.Skippable.Contains(ruleName)
                        ? $"{unmet} (an admin may skip it: --skip {ruleName} with a reason)"
                        : unmet
                );
            }
        }
    }

    // Naming a rule that does not exist or has no reason is bad input; one the baseline does not let go, or a skip by
    // someone other than an admin, is a refusal like any unmet rule.
    private static void CheckSkips(
        PromoteRequest request,
        ChannelRule rule,
        string? previous,
        List<string> refusals
    )
    {
        var unknown = request.Skip.Where(s => !PromotionRuleNames.All.Contains(s)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidInputException(
                $"--skip: unknown rule {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the rules are "
                    + string.Join(", ", PromotionRuleNames.All)
            );
        }

        if (request.Skip.Count > 0 && string.IsNullOrWhiteSpace(request.SkipReason))
        {
            throw new InvalidInputException(
                "skipping a promotion rule needs a reason: give --skip-reason TEXT (API: skip_reason)"
            );
        }

        if (request.Skip.Count > 0 && request.Actor.Role < Role.Admin)
        {
            var what = request.Skip.Select(s =>
                s switch
                {
                    PromotionRuleNames.PreviousChannel when previous is not null => previous,
                    PromotionRuleNames.Soak when previous is not null => $"the soak in {previous}",
                    PromotionRuleNames.Approvals => $"the approvals for {request.Channel}",
                    PromotionRuleNames.Rescan => "the fresh re-scan",
                    _ => s,
                }
            );
            refusals.Add(
                $"only an admin may skip {string.Join(", ", what)}; {request.Actor.Name} is {request.Actor.RoleName}"
            );
        }

        var locked = request.Skip.Where(s => !rule.Skippable.Contains(s)).ToList();
        if (locked.Count > 0)
        {
            refusals.Add(
                $"the baseline does not let {string.Join(", ", locked)} be skipped for {request.Channel} "
                    + $"(skippable there: {(rule.Skippable.Count == 0 ? "nothing" : string.Join(", ", rule.Skippable.Order(StringComparer.Ordinal)))})"
            );
        }
    }

    private async Task CheckVersionAsync(
        ImageVersion version,
        List<string> refusals,
        CancellationToken cancellationToken
    )
    {
        var name = $"{version.Image}@{version.Version}";
        if (version.Status != VersionStatus.Built)
        {
            refusals.Add($"{name} is {version.Status.Name()}; only built versions are promoted");
            return;
        }

        try
        {
            var gate = GateDecision.Current(version);
            if (gate is null)
            {
                refusals.Add(
                    $"{name}: no gate decision recorded; the gate must pass (or warn) before promotion"
                );
            }
            else if (gate.Decision.Decision == GateOutcome.Fail)
            {
                refusals.Add(
                    $"{name}: the gate decision is fail; only pass or warn may be promoted"
                );
            }
        }
        catch (InvalidInputException e)
        {
            refusals.Add($"{name}: the gate decision is missing or unreadable ({e.Message})");
        }

        var problems = await context.SignatureProblems(version, cancellationToken);
        if (problems.Count > 0)
        {
            refusals.Add(
                $"{name}: the signature does not verify ({string.Join("; ", problems)}); see 'imageforge verify {name}'"
            );
        }
    }

    // A restricted channel takes a version only when a release manager acknowledged each raised high or critical
    // anomaly of its report (docs/anomalies.md); a version without a report has nothing to acknowledge.
    private async Task CheckAnomaliesAsync(
        ImageVersion version,
        List<string> refusals,
        CancellationToken cancellationToken
    )
    {
        var name = $"{version.Image}@{version.Version}";
        IReadOnlyList<Anomalies.Anomaly> serious;
        try
        {
            serious = AnomalyAcknowledgements.NeedingAcknowledgement(version);
        }
        catch (EvidenceUnreadableException e)
        {
            // As an unreadable gate decision: a refusal that names the file, not an error of the caller's input.
            refusals.Add(e.Message);
            return;
        }

        if (serious.Count == 0)
        {
            return;
        }
        var acknowledged = (
            await context.Store.GetAnomalyAcknowledgementsAsync(
                version.Image,
                version.Version,
                cancellationToken
            )
        )
            .Select(a => a.AnomalyId)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var anomaly in serious.Where(a => !acknowledged.Contains(a.Id)))
        {
            refusals.Add(
                $"{name}: anomaly {anomaly.Id} ({Anomalies.AnomalySeverities.Name(anomaly.Severity)}) is not "
                    + $"acknowledged: {anomaly.Explanation}; a release manager acknowledges it with 'imageforge "
                    + $"anomalies ack {name} {anomaly.Id} --reason ...'"
            );
        }
    }

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1
            ? $"{span.TotalHours:0.#} h"
            : $"{Math.Max(0, span.TotalMinutes):0} min";
}
