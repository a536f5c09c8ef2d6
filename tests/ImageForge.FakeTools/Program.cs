// fakepacker: a real executable that behaves like Packer 1.6.6 as far as ImageForge can tell, for tests of process
// handling (streaming, redaction, cancellation, orphan and mount cleanup). Point ImageForge at it with
// IMAGEFORGE_PACKER=<path to the fakepacker apphost>: tests/ImageForge.FakeTools/bin/<Configuration>/net10.0/fakepacker,
// also copied next to the binaries of every project that references ImageForge.FakeTools.
//
// Contract:
//   fakepacker version
//       Prints "Packer v1.6.6". FAKEPACKER_VERSION overrides it: "1.11.2" (or "v1.11.2") prints "Packer v1.11.2";
//       a value starting with "Packer" is printed as is (it may hold more lines, like upgrade notes).
//   fakepacker init ...
//       Exits 0 silently (real 1.6.6 has no init; ImageForge does not call it for 1.6.6).
//   fakepacker validate ...
//       Exits 0 silently; with FAKEPACKER_VALIDATE_ERROR=text prints text to standard error and exits 1.
//   fakepacker build [-machine-readable] ...
//       1. Replays the lines of the file FAKEPACKER_TRANSCRIPT to standard output, flushed one by one, waiting
//          FAKEPACKER_LINE_DELAY_MS (default 0; a range such as 333-2000 picks one delay per run at random)
//          between lines. The token {{SECRET}} is replaced by the value of the environment variable that
//          FAKEPACKER_SECRET_VAR names (e.g. FAKEPACKER_SECRET_VAR=PKR_VAR_mirror_auth), the way Packer prints
//          sensitive variables in clear text.
//       2. With FAKEPACKER_MANIFEST_OUT set: copies FAKEPACKER_MANIFEST_IN there, or writes a minimal manifest.
//       3. With FAKEPACKER_HANG=1: starts, in its own process group, `sh -c 'trap "" TERM; sleep 600'` (ignores
//          SIGTERM) and `sleep 600`; with FAKEPACKER_MOUNT_DIR set, mounts a tmpfs named imageforge-test there
//          (needs root); writes its pid to FAKEPACKER_PID_FILE if set (last, so the file means "all set up"); then
//          waits forever.
//       4. Exits with FAKEPACKER_EXIT (default 0).
//   With FAKEPACKER_RECORD=<file>, validate and build first append to that file what they were given: a line
//   "command: <command>", one "arg: <argument>" line per argument, one "var: <name>=<value>" line per variable of every
//   -var-file (in file order) and one "sensitive: <name>" line per PKR_VAR_<name> in the environment (no value).
//   With FAKEPACKER_OUTPUT_VAR=<variable> (e.g. output_dir), build treats that variable's value (from the var files) as
//   the template's output directory, as the cloud templates' download provisioners and manifest post-processor do:
//   it copies the files of FAKEPACKER_FILES_FROM there (what the VM would give) and writes <dir>/manifest.json from
//   FAKEPACKER_MANIFEST_IN (or a minimal one), after the transcript.
//   Anything else: usage on standard error, exit 1.
//   Signals: SIGTERM ends it with exit code 1, as it cancels Packer; with FAKEPACKER_IGNORE_TERM=1 it ignores
//   SIGTERM, so only SIGKILL stops it.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

using var termination = PosixSignalRegistration.Create(
    PosixSignal.SIGTERM,
    context =>
    {
        context.Cancel = true;
        if (Env("FAKEPACKER_IGNORE_TERM") != "1")
        {
            Console.Error.WriteLine("fakepacker: received SIGTERM, cancelling");
            Environment.Exit(1);
        }
    }
);

if (args.FirstOrDefault() is "validate" or "build" && Env("FAKEPACKER_RECORD") is { } record)
{
    Record(record, args);
}

return args.FirstOrDefault() switch
{
    "version" => Version(),
    "init" => 0,
    "validate" => Validate(),
    "build" => await BuildAsync(args),
    _ => Usage(),
};

static void Record(string path, string[] args)
{
    var lines = new List<string> { $"command: {args[0]}" };
    lines.AddRange(args.Skip(1).Select(a => $"arg: {a}"));
    lines.AddRange(VarFileVariables(args).Select(v => $"var: {v.Key}={v.Value}"));
    lines.AddRange(
        Environment
            .GetEnvironmentVariables()
            .Keys.Cast<string>()
            .Where(k => k.StartsWith("PKR_VAR_", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(k => $"sensitive: {k["PKR_VAR_".Length..]}")
    );
    File.AppendAllLines(path, lines);
}

// The variables of every -var-file argument, as ImageForge writes them: name = "value", HCL escapes undone.
static List<KeyValuePair<string, string>> VarFileVariables(string[] args) =>
    [
        .. args.Where(a => a.StartsWith("-var-file=", StringComparison.Ordinal))
            .SelectMany(a => File.ReadAllLines(a["-var-file=".Length..]))
            .Select(line => line.Split(" = ", 2))
            .Where(parts => parts.Length == 2)
            .Select(parts => new KeyValuePair<string, string>(
                parts[0],
                parts[1]
                    [1..^1]
                    .Replace("$${", "${", StringComparison.Ordinal)
                    .Replace("%%{", "%{", StringComparison.Ordinal)
                    .Replace("\\n", "\n", StringComparison.Ordinal)
                    .Replace("\\\"", "\"", StringComparison.Ordinal)
                    .Replace("\\\\", "\\", StringComparison.Ordinal)
            )),
    ];

static int Version()
{
    var version = Env("FAKEPACKER_VERSION") ?? "1.6.6";
    Console.WriteLine(
        version.StartsWith("Packer", StringComparison.Ordinal)
            ? version
            : "Packer v" + version.TrimStart('v')
    );
    return 0;
}

static int Validate()
{
    if (Env("FAKEPACKER_VALIDATE_ERROR") is { } error)
    {
        Console.Error.WriteLine(error);
        return 1;
    }

    return 0;
}

static async Task<int> BuildAsync(string[] args)
{
    var secret = Env("FAKEPACKER_SECRET_VAR") is { } name ? Env(name) ?? "" : "";
    // One number, or a range min-max from which this run picks its delay at random.
    var range = (Env("FAKEPACKER_LINE_DELAY_MS") ?? "0").Split('-');
    var least = int.Parse(range[0], CultureInfo.InvariantCulture);
    var delay = TimeSpan.FromMilliseconds(
        range.Length == 2
            ? Random.Shared.Next(least, int.Parse(range[1], CultureInfo.InvariantCulture) + 1)
            : least
    );
    if (Env("FAKEPACKER_TRANSCRIPT") is { } transcript)
    {
        foreach (var line in File.ReadLines(transcript))
        {
            Console.Out.WriteLine(line.Replace("{{SECRET}}", secret, StringComparison.Ordinal));
            Console.Out.Flush();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }
        }
    }

    if (Env("FAKEPACKER_MANIFEST_OUT") is { } manifestOut)
    {
        WriteManifest(manifestOut, Env("FAKEPACKER_MANIFEST_IN"));
    }

    if (Env("FAKEPACKER_OUTPUT_VAR") is { } outputVar)
    {
        var output = VarFileVariables(args).Last(v => v.Key == outputVar).Value;
        Directory.CreateDirectory(output);
        if (Env("FAKEPACKER_FILES_FROM") is { } files)
        {
            foreach (var file in Directory.EnumerateFiles(files))
            {
                File.Copy(file, Path.Combine(output, Path.GetFileName(file)), overwrite: true);
            }
        }

        WriteManifest(Path.Combine(output, "manifest.json"), Env("FAKEPACKER_MANIFEST_IN"));
    }

    if (Env("FAKEPACKER_HANG") == "1")
    {
        await HangAsync();
    }

    return int.Parse(Env("FAKEPACKER_EXIT") ?? "0", CultureInfo.InvariantCulture);
}

static void WriteManifest(string path, string? source)
{
    if (source is not null)
    {
        File.Copy(source, path, overwrite: true);
        return;
    }

    const string Run = "00000000-0000-0000-0000-000000000001";
    File.WriteAllText(
        path,
        $$"""
        {
          "builds": [
            {
              "name": "fake",
              "builder_type": "null",
              "build_time": 1700000000,
              "files": null,
              "artifact_id": "Null",
              "packer_run_uuid": "{{Run}}",
              "custom_data": null
            }
          ],
          "last_run_uuid": "{{Run}}"
        }
        """
    );
}

static async Task HangAsync()
{
    // Started without a new group: they stay in fakepacker's group, like the children of a shell-local script.
    Start("sh", "-c", "trap \"\" TERM; sleep 600");
    Start("sleep", "600");

    if (Env("FAKEPACKER_MOUNT_DIR") is { } mountDirectory)
    {
        Directory.CreateDirectory(mountDirectory);
        using var mount = Start("mount", "-t", "tmpfs", "imageforge-test", mountDirectory);
        await mount.WaitForExitAsync();
        if (mount.ExitCode != 0)
        {
            Console.Error.WriteLine(
                $"fakepacker: mount of {mountDirectory} failed with exit code {mount.ExitCode}"
            );
            Environment.Exit(2);
        }
    }

    if (Env("FAKEPACKER_PID_FILE") is { } pidFile)
    {
        File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    await Task.Delay(Timeout.Infinite);
}

static Process Start(string fileName, params string[] arguments)
{
    var info = new ProcessStartInfo(fileName) { UseShellExecute = false };
    foreach (var argument in arguments)
    {
        info.ArgumentList.Add(argument);
    }

    return Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
}

static int Usage()
{
    Console.Error.WriteLine(
        "usage: fakepacker version | init | validate ... | build -machine-readable ..."
    );
    return 1;
}

static string? Env(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
