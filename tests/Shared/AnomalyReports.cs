using System.Text;
using ImageForge.Core.Anomalies;

namespace ImageForge.TestSupport;

/// <summary>Anomalies and anomaly reports (anomalies.json) as the collector writes them, for specs that record one.</summary>
internal static class AnomalyReports
{
    /// <summary>A raised high anomaly: a new setuid binary.</summary>
    public static readonly Anomaly Setuid = Of(
        "setuid_file",
        "/usr/local/bin/extra ab12",
        AnomalySeverity.High,
        "new setuid/setgid file /usr/local/bin/extra ab12: absent in the last 20 builds"
    );

    /// <summary>An expected (suppressed) medium anomaly: a new service the baseline expects.</summary>
    public static readonly Anomaly Unit = Of(
        "enabled_unit",
        "nginx.service",
        AnomalySeverity.Medium,
        "new enabled service nginx.service: absent in the last 20 builds"
    ) with
    {
        SuppressedBy = "expected: this version adds nginx (until 2027-06-30)",
    };

    /// <summary>A first-seen anomaly (a rule's with <paramref name="detector"/>), its id as the detector makes it.</summary>
    public static Anomaly Of(
        string signal,
        string subject,
        AnomalySeverity severity,
        string explanation,
        AnomalyDetectorKind detector = AnomalyDetectorKind.FirstSeen
    ) =>
        new()
        {
            Id = Anomaly.IdOf(signal, subject),
            Signal = signal,
            Detector = detector,
            Severity = severity,
            Subject = subject,
            Baseline = "absent in the last 20 builds",
            Explanation = explanation,
        };

    /// <summary>The anomaly report of a version of <paramref name="image"/> holding <paramref name="anomalies"/>.</summary>
    public static string Report(string image, params Anomaly[] anomalies) =>
        Report(image, null, anomalies);

    /// <summary>The same, checked against <paramref name="parentChange"/> (the report's parent_change).</summary>
    public static string Report(string image, string? parentChange, params Anomaly[] anomalies) =>
        Encoding.UTF8.GetString(
            new AnomalyReport
            {
                Image = image,
                Version = "recorded",
                Target = "local",
                ComparedWith = ["2026.11.01.1"],
                ParentChange = parentChange,
                Anomalies = anomalies,
            }.ToJson()
        );
}
