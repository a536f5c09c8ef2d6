using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Application.Views;

/// <summary>
/// The anomalies of one version, as <c>imageforge anomalies --output json</c> and
/// <c>GET /api/images/{image}/versions/{version}/anomalies</c> both show them: the report (anomalies.json) with each
/// anomaly's acknowledgement.
/// </summary>
/// <param name="Format">Always <see cref="AnomalyReport.FormatName"/>, as in the report.</param>
/// <param name="Image">The image.</param>
/// <param name="Version">The version.</param>
/// <param name="Target">The target's provider.</param>
/// <param name="ComparedWith">The versions the build was compared with, oldest first.</param>
/// <param name="ParentChange">The parent's change the anomalies were checked against; null when none.</param>
/// <param name="Anomalies">Every anomaly, raised ones first, most serious first.</param>
public sealed record AnomaliesView(
    string Format,
    string Image,
    string Version,
    string Target,
    IReadOnlyList<string> ComparedWith,
    string? ParentChange,
    IReadOnlyList<AnomalyView> Anomalies
)
{
    /// <summary>The report with the acknowledgements recorded for its anomalies (matched by anomaly id).</summary>
    public static AnomaliesView From(
        AnomalyReport report,
        IReadOnlyList<AnomalyAcknowledgement> acknowledgements
    )
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(acknowledgements);
        var byId = acknowledgements
            .GroupBy(a => a.AnomalyId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(a => a.At)!, StringComparer.Ordinal);
        return new AnomaliesView(
            report.Format,
            report.Image,
            report.Version,
            report.Target,
            report.ComparedWith,
            report.ParentChange,
            [.. report.Anomalies.Select(a => AnomalyView.From(a, byId.GetValueOrDefault(a.Id)))]
        );
    }

    /// <summary>
    /// The version's current report with its acknowledgements from the catalog; null when the version has no report
    /// (its target collects no image facts, or an older ImageForge built it).
    /// </summary>
    /// <exception cref="Core.Errors.EvidenceUnreadableException">The stored report is not an anomaly report.</exception>
    public static async Task<AnomaliesView?> LoadAsync(
        ImageVersion version,
        IPromotionStore store,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(store);
        return AnomalyAcknowledgements.Report(version) is { } report
            ? From(
                report,
                await store.GetAnomalyAcknowledgementsAsync(
                    version.Image,
                    version.Version,
                    cancellationToken
                )
            )
            : null;
    }
}

/// <summary>One anomaly of a version (<see cref="Anomaly"/>) with whether and by whom it was acknowledged.</summary>
/// <param name="Id">The signal and a hash of what appeared (<c>setuid_file-3fa2b1c4</c>).</param>
/// <param name="Signal">The signal: a fact set, a measurement or a rule.</param>
/// <param name="Detector">Which detector raised it.</param>
/// <param name="Severity">How serious it is.</param>
/// <param name="Subject">What appeared (a set's member) or the measurement's name.</param>
/// <param name="Measurement">The numbers of a measurement; null for a set member.</param>
/// <param name="Baseline">What it was compared with.</param>
/// <param name="Explanation">The one line users read.</param>
/// <param name="Inherited">The parent's change brought it: shown, not raised.</param>
/// <param name="SuppressedBy">The expected change that suppresses it, with its reason; null when none does.</param>
/// <param name="Raised">Neither inherited nor suppressed: it reaches gates and promotion.</param>
/// <param name="Acknowledged">A release manager acknowledged it (<see cref="Acknowledgement"/>).</param>
/// <param name="Acknowledgement">Who acknowledged it, when and why; null when nobody did.</param>
public sealed record AnomalyView(
    string Id,
    string Signal,
    AnomalyDetectorKind Detector,
    AnomalySeverity Severity,
    string Subject,
    MeasurementEvidence? Measurement,
    string Baseline,
    string Explanation,
    bool Inherited,
    string? SuppressedBy,
    bool Raised,
    bool Acknowledged,
    AnomalyAcknowledgementView? Acknowledgement
)
{
    /// <summary>The anomaly with its acknowledgement, if any.</summary>
    public static AnomalyView From(Anomaly anomaly, AnomalyAcknowledgement? acknowledgement)
    {
        ArgumentNullException.ThrowIfNull(anomaly);
        return new AnomalyView(
            anomaly.Id,
            anomaly.Signal,
            anomaly.Detector,
            anomaly.Severity,
            anomaly.Subject,
            anomaly.Measurement,
            anomaly.Baseline,
            anomaly.Explanation,
            anomaly.Inherited,
            anomaly.SuppressedBy,
            anomaly.Raised,
            acknowledgement is not null,
            acknowledgement is null
                ? null
                : new AnomalyAcknowledgementView(
                    acknowledgement.Actor,
                    acknowledgement.Role,
                    acknowledgement.At,
                    acknowledgement.Reason
                )
        );
    }
}

/// <summary>Who acknowledged an anomaly (the audit event <c>acknowledge-anomaly</c> holds the same).</summary>
/// <param name="Actor">The release manager's name (OS user or API token name).</param>
/// <param name="Role">Their role then.</param>
/// <param name="At">When.</param>
/// <param name="Reason">Why the change is accepted.</param>
public sealed record AnomalyAcknowledgementView(
    string Actor,
    string Role,
    DateTimeOffset At,
    string Reason
);
