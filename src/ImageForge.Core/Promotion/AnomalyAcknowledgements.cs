using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Sbom;

namespace ImageForge.Core.Promotion;

/// <summary>Which anomalies of a version a restricted channel needs acknowledged.</summary>
public static class AnomalyAcknowledgements
{
    /// <summary>The version's current anomaly report (its newest <c>anomalies</c> evidence); null without one.</summary>
    /// <exception cref="Errors.InvalidInputException">The document is not an anomaly report.</exception>
    public static AnomalyReport? Report(ImageVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return EvidenceFiles.Current(version.Evidence, AnomalyReport.Kind) is { } report
            ? AnomalyReport.Read(report.Location)
            : null;
    }

    /// <summary>The raised anomalies of the version's current report; none without a report.</summary>
    public static IReadOnlyList<Anomaly> Raised(ImageVersion version) =>
        Report(version) is { } report ? [.. report.Raised] : [];

    /// <summary>The raised anomalies of high or critical severity.</summary>
    public static IReadOnlyList<Anomaly> NeedingAcknowledgement(ImageVersion version) =>
        [.. Raised(version).Where(a => a.Severity >= AnomalySeverity.High)];
}
