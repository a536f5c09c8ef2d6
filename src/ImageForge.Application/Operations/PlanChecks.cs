using ImageForge.Core.Admission;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;

namespace ImageForge.Application.Operations;

/// <summary>
/// A deploy plan checked against the policy rules: its machine images admitted by the catalog for the channel first
/// (the rules' <c>admitted</c> variable), then every rule bound to the channel. <c>imageforge policy check</c> and
/// <c>POST /api/policy/check</c> both answer with it.
/// </summary>
public static class PlanChecks
{
    /// <summary>
    /// Checks <paramref name="plan"/> for <paramref name="channel"/> (null: every channel); <paramref name="today"/>
    /// decides which exceptions have expired, <paramref name="workingDirectory"/> resolves local image paths.
    /// </summary>
    public static async Task<PolicyReport> CheckPlanAsync(
        this PromotionOperations operations,
        PolicySet policies,
        PlanResources plan,
        string? channel,
        string workingDirectory,
        DateOnly today,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(plan);
        IReadOnlyList<PlannedImage> admitted = [];
        if (plan.Images.Count > 0)
        {
            var admission = await operations.AdmitAsync(
                plan.Images,
                null,
                channel,
                workingDirectory,
                cancellationToken
            );
            admitted =
            [
                .. admission
                    .Images.Where(d => d.Admitted)
                    .Select(d => new PlannedImage(d.Address, d.Provider, d.ImageId)),
            ];
        }

        return PolicyCheck.Run(policies, plan, channel, admitted, today);
    }
}
