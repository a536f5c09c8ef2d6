using ImageForge.Core.Admission;
using ImageForge.Core.Compliance;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Inputs;

/// <summary>
/// Every JSON reader of Core fed the wrong root types and members of the wrong type: each is refused with an
/// <see cref="InvalidInputException"/> (exit code 2) naming the file, and the JSON path of a wrong member.
/// </summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class JsonShapeSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-json-shape");

    public void Dispose() => _dir.Dispose();

    public static IEnumerable<object[]> TerraformPlans =>
        BadJson.Rows(
            (
                "planned_values an array",
                """{"planned_values":[]}""",
                "$.planned_values: expected an object, found an array"
            ),
            (
                "resources an object",
                """{"planned_values":{"root_module":{"resources":{}}}}""",
                "$.planned_values.root_module.resources: expected an array, found an object"
            ),
            (
                "a resource a string",
                """{"planned_values":{"root_module":{"resources":["aws_instance.web"]}}}""",
                "$.planned_values.root_module.resources[0]: expected an object, found a string"
            ),
            (
                "address a number",
                """{"planned_values":{"root_module":{"resources":[{"address":5,"type":"aws_instance"}]}}}""",
                "$.planned_values.root_module.resources[0].address: expected a string, found a number"
            ),
            (
                "values an array",
                """{"planned_values":{"root_module":{"resources":[{"address":"a","type":"aws_instance","values":[]}]}}}""",
                "$.planned_values.root_module.resources[0].values: expected an object, found an array"
            ),
            (
                "child_modules a string",
                """{"planned_values":{"root_module":{"child_modules":"x"}}}""",
                "$.planned_values.root_module.child_modules: expected an array, found a string"
            )
        );

    public static IEnumerable<object[]> Sboms =>
        BadJson.Rows(
            (
                "components an object",
                """{"bomFormat":"CycloneDX","components":{}}""",
                "$.components: expected an array, found an object"
            ),
            (
                "a component a number",
                """{"bomFormat":"CycloneDX","components":[1]}""",
                "$.components[0]: expected an object, found a number"
            ),
            (
                "properties a string",
                """{"bomFormat":"CycloneDX","components":[{"name":"a","version":"1","properties":"x"}]}""",
                "$.components[0].properties: expected an array, found a string"
            ),
            (
                "a version a number",
                """{"bomFormat":"CycloneDX","components":[{"name":"a","version":1}]}""",
                "$.components[0].version: expected a string, found a number"
            )
        );

    public static IEnumerable<object[]> GateDecisions =>
        BadJson.Rows(
            ("reasons an object", """{"decision":"pass","reasons":{}}""", "$.reasons"),
            ("decision a number", """{"decision":5}""", "$.decision"),
            ("baseline null", """{"decision":"pass","baseline":null}""", "$.baseline"),
            ("a reason a string", """{"decision":"pass","reasons":["x"]}""", "$.reasons[0]")
        );

    public static IEnumerable<object[]> FindingsDocuments =>
        BadJson.Rows(
            (
                "findings an object",
                """{"format":"imageforge-vulnerability-findings","findings":{}}""",
                "$.findings"
            ),
            ("summary an array", """{"summary":[]}""", "$.summary"),
            ("a finding a string", """{"findings":["CVE-1"]}""", "$.findings[0]"),
            ("format a number", """{"format":1}""", "$.format")
        );

    public static IEnumerable<object[]> ComplianceSummaries =>
        BadJson.Rows(
            (
                "failed_rules an object",
                """{"schema":"imageforge.compliance-summary/1","failed_rules":{}}""",
                "$.failed_rules"
            ),
            ("before a string", """{"before":"79"}""", "$.before"),
            ("waivers a number", """{"waivers":3}""", "$.waivers")
        );

    public static IEnumerable<object[]> ScannerReports =>
        BadJson.Rows(
            (
                "Trivy Results an object",
                """{"SchemaVersion":2,"Results":{}}""",
                "$.Results: expected an array, found an object"
            ),
            (
                "Trivy Vulnerabilities a string",
                """{"SchemaVersion":2,"Results":[{"Vulnerabilities":"none"}]}""",
                "$.Results[0].Vulnerabilities: expected an array, found a string"
            ),
            (
                "Trivy PkgName a number",
                """{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":1}]}]}""",
                "$.Results[0].Vulnerabilities[0].PkgName: expected a string, found a number"
            ),
            (
                "Trivy SchemaVersion a string",
                """{"SchemaVersion":"2"}""",
                "no numeric SchemaVersion"
            ),
            ("Grype matches an object", """{"matches":{}}""", "no matches array"),
            (
                "Grype vulnerability an array",
                """{"matches":[{"vulnerability":[],"artifact":{}}]}""",
                "$.matches[0].vulnerability: expected an object, found an array"
            ),
            (
                "Grype related a string",
                """{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a","version":"1"},"relatedVulnerabilities":"x"}]}""",
                "$.matches[0].relatedVulnerabilities: expected an array, found a string"
            )
        );

    [Theory]
    [MemberData(nameof(TerraformPlans))]
    public void A_Terraform_plan_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => TerraformPlan.Read(file, TestProviders.Shipped));

    [Theory]
    [MemberData(nameof(Sboms))]
    public void A_CycloneDX_SBOM_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => SbomReader.ReadCycloneDx(file));

    [Theory]
    [MemberData(nameof(GateDecisions))]
    public void A_gate_decision_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => GateDecision.Read(file));

    [Theory]
    [MemberData(nameof(FindingsDocuments))]
    public void A_findings_document_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => FindingsDocument.Read(file));

    [Theory]
    [MemberData(nameof(ComplianceSummaries))]
    public void A_compliance_summary_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => ComplianceSummary.Read(file));

    [Theory]
    [MemberData(nameof(ScannerReports))]
    public void A_Trivy_or_Grype_report_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    ) => Refused(json, says, shape, file => ReportImporters.Import(file));

    [Theory]
    [MemberData(nameof(OsvRecords))]
    public void An_OSV_record_of_the_wrong_shape_is_skipped_with_a_problem_naming_the_file(
        string shape,
        string json,
        string says
    )
    {
        var file = _dir.Combine("osv", "DSA-1.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, json);

        // A database of thousands of records is not refused for one bad file: the file is skipped and named.
        var database = OsvDatabase.Load(_dir.Combine("osv"));

        database.RecordCount.ShouldBe(0, shape);
        var problem = database.Problems.ShouldHaveSingleItem(shape);
        problem.File.ShouldBe(file, shape);
        problem.Message.ShouldContain(says, Case.Sensitive, shape);
    }

    public static IEnumerable<object[]> OsvRecords =>
        BadJson
            .Rows(
                (
                    "affected an object",
                    """{"id":"DSA-1","modified":"2024-01-01T00:00:00Z","affected":{}}""",
                    "affected"
                ),
                ("id a number", """{"id":1,"modified":"2024-01-01T00:00:00Z"}""", "id"),
                (
                    "events a string",
                    """{"id":"DSA-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":"x"}]}]}""",
                    "events"
                )
            )
            .Select(r => r[2] is "" ? [r[0], r[1], "(record skipped)"] : r);

    [Fact]
    public void A_plan_larger_than_64_MiB_is_refused_before_it_is_read()
    {
        var file = _dir.Combine("huge.json");
        using (var stream = File.Create(file))
        {
            // Sparse: no disk is used, and the reader must not read it to refuse it.
            stream.SetLength(TerraformPlan.MaxBytes + 1);
        }

        var error = Should.Throw<InvalidInputException>(() =>
            TerraformPlan.Read(file, TestProviders.Shipped)
        );

        error.ExitCode.ShouldBe(2);
        error.Message.ShouldStartWith(file + ": too large");
        error.Message.ShouldContain("the limit is 64 MiB");
    }

    private void Refused(string json, string says, string shape, Action<string> read)
    {
        var file = _dir.Combine("input.json");
        File.WriteAllText(file, json);

        var error = Should.Throw<InvalidInputException>(() => read(file), shape);

        error.ExitCode.ShouldBe(2);
        error.Message.ShouldStartWith(file + ": ", Case.Sensitive, shape);
        error.Message.ShouldContain(says, Case.Sensitive, shape);
    }
}
