// Targets people use: Build, Test, Demo (the main job), Benchmarks, Format, FormatCheck, Pack.
// Run through ./build.sh, which installs prerequisites first.
using System.Xml.Linq;

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var filter = Argument("filter", "");
var root = MakeAbsolute(Directory("."));
var solution = root.CombineWithFilePath("ImageForge.sln");
var resultsDir = root.Combine("artifacts/test-results");
var cliProject = root.CombineWithFilePath("src/ImageForge.Cli/ImageForge.Cli.csproj");

Task("Build").Does(() =>
{
    DotNetBuild(solution.FullPath, new DotNetBuildSettings { Configuration = configuration });
});

Task("FormatCheck").Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = "csharpier check .", WorkingDirectory = root });
    if (exit != 0)
        throw new Exception("Formatting differs: run ./build.sh --target=Format and commit the result.");
});

Task("Format").Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = "csharpier format .", WorkingDirectory = root });
    if (exit != 0)
        throw new Exception("csharpier failed");
});

Task("Test")
    .IsDependentOn("FormatCheck")
    .IsDependentOn("Build")
    .Does(() =>
{
    CleanDirectory(resultsDir);
    var settings = new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        ResultsDirectory = resultsDir,
        Loggers = { "trx" },
    };
    if (!string.IsNullOrEmpty(filter))
        settings.Filter = filter;
    // Unit suites reach nothing outside loopback (docs/testing.md): with IMAGEFORGE_LOOPBACK_CHECK=1 the run goes under
    // strace when strace works here. Not by default: under ptrace a signal-timing spec of the Toolchain failed once.
    var connects = resultsDir.CombineWithFilePath("connects.strace").FullPath;
    var strace = EnvironmentVariable("IMAGEFORGE_LOOPBACK_CHECK") != "1" ? null : StartProcess("python3", new ProcessSettings
    {
        Arguments = $"eng/loopback-only.py strace-args {connects}",
        WorkingDirectory = root,
        RedirectStandardOutput = true,
    }, out var straceArgs) == 0 ? straceArgs.ToList() : null;
    if (strace != null)
    {
        settings.ToolPath = strace[0];
        settings.ArgumentCustomization = args =>
        {
            var traced = new ProcessArgumentBuilder();
            foreach (var arg in strace.Skip(1))
                traced.AppendQuoted(arg);
            return traced.Append("dotnet").Append(args.Render());
        };
    }
    Exception failure = null;
    try
    {
        DotNetTest(solution.FullPath, settings);
    }
    catch (Exception e)
    {
        failure = e;
    }
    // A suite that connected outside loopback fails the run like a failed test (and counts as one).
    var networkFailures = 0;
    if (strace != null)
    {
        networkFailures = StartProcess("python3", new ProcessSettings
        {
            Arguments = $"eng/loopback-only.py check --except ImageForge.E2E {connects}",
            WorkingDirectory = root,
        }) == 0 ? 0 : 1;
        if (networkFailures == 0)
            DeleteFile(connects);
    }

    // One closing line for people and CI, summed over every test project's results.
    XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
    long passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles(resultsDir.FullPath + "/*.trx"))
    {
        var counters = XDocument.Load(trx.FullPath).Descendants(ns + "Counters").Single();
        passed += (long)counters.Attribute("passed");
        failed += (long)counters.Attribute("failed") + (long)counters.Attribute("error") + (long)counters.Attribute("timeout") + (long)counters.Attribute("aborted");
        skipped += (long)counters.Attribute("notExecuted");
    }
    // Plain text: Cake colours its own log lines, and CI reads this one.
    failed += networkFailures;
    Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
    if (failure != null)
        throw failure;
    if (networkFailures != 0)
        throw new Exception("A unit suite connected outside loopback (see the loopback-only lines above).");
});

Task("Demo")
    .Does(() =>
{
    // The main job: a hardened Debian 11 golden image built by real Packer and mmdebstrap, recorded in the catalog.
    DotNetBuild(cliProject.FullPath, new DotNetBuildSettings { Configuration = configuration });
    var cli = root.CombineWithFilePath($"src/ImageForge.Cli/bin/{configuration}/net10.0/imageforge");
    foreach (var args in new[] { "validate", "build debian-11-cis --reason \"README demo\"", "images show debian-11-cis" })
    {
        var exit = StartProcess(cli, new ProcessSettings { Arguments = args, WorkingDirectory = root });
        if (exit != 0)
            throw new Exception($"imageforge {args} exited with {exit}");
    }
});

Task("Benchmarks")
    .Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run -c Release --project benchmarks/ImageForge.Benchmarks -- {Argument("bench", "all")}",
        WorkingDirectory = root,
    });
    if (exit != 0)
        throw new Exception($"benchmarks exited with {exit}");
});

Task("Pack").Does(() =>
{
    DotNetPack(cliProject.FullPath, new DotNetPackSettings { Configuration = configuration, OutputDirectory = root.Combine("artifacts/packages") });
});

RunTarget(target);
