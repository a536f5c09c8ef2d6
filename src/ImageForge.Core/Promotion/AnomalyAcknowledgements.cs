using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Sbom;

namespace ImageForge.Core.Promotion;

/// <summary>Which anomalies of a version a restricted channel needs acknowledged.</summary>
public static class AnomalyAcknowledgements
{
    /// <summary>The version's current anomaly report (its newest <c>anomalies</c> evidence); null without one.</summary>
    /// <exception cref="Errors.EvidenceUnreadableException">The document is not an anomaly report.</exception>
    public static AnomalyReport? Report(ImageVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (EvidenceFiles.Current(version.Evidence, AnomalyReport.Kind) is not { } report)
        {
            return null;
        }

        try
        {
            return AnomalyReport.Read(report.Location);
        }
        catch (Errors.InvalidInputException e)
        {
            // Stored evidence, not the caller's input: a damaged file is the server's problem, named as such.
            throw new Errors.EvidenceUnreadableException(
                version.Image,
                version.Version,
                AnomalyReport.Kind,
                report.Location,
                e
            );
        }
    }

    /// <summary>The raised anomalies of the version's current report; none without a report.</summary>
    public static IReadOnlyList<Anomaly> Raised(ImageVersion version) =>
        Report(version) is { } report ? [.. report.Raised] : [];

    /// <summary>The raised anomalies of high or critical severity.</summary>
    public static IReadOnlyList<Anomaly> NeedingAcknowledgement(ImageVersion version) =>
        [.. Raised(version).Where(a => a.Severity >= AnomalySeverity.High)];
}
