using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Providers.Local;

/// <summary>
/// The boot test's own KVM probe (<c>scripts/kvm-probe.sh</c> of the local templates): a 39-byte guest must make qemu
/// exit 99 within 5 s under <c>accel=kvm</c>. Its answer is cached where the boot test caches it
/// (<c>&lt;cache_dir&gt;/boot-test/kvm-probe</c>, per boot id and qemu version), so a worker's <c>kvm</c> and its
/// boot tests agree, and only the first ask after a reboot waits for the guest.
/// </summary>
/// <param name="runner">Runs the probe script.</param>
/// <param name="cacheDirectory">The local target's cache directory (the boot test's <c>cache_dir</c>).</param>
/// <param name="environment">Variables the tools get on top of the process environment (as Packer gets them).</param>
internal sealed class KvmProbe(
    ProcessRunner runner,
    string cacheDirectory,
    IReadOnlyDictionary<string, string> environment
) : IKvmProbe
{
    // The guest's 5 s, qemu's 2 s to die, and bash's start on a loaded machine.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public async Task<KvmAnswer> ProbeAsync(
        ContentPaths content,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(content);
        var script = Path.Combine(
            content.PackerTemplates,
            LocalProvider.ProviderName,
            "scripts",
            "kvm-probe.sh"
        );
        if (!File.Exists(script))
        {
            return new KvmAnswer(false, $"no KVM probe ({script} is missing)");
        }

        var scratch = Path.Combine(cacheDirectory, "boot-test", "probe-scratch");
        try
        {
            var spec = new ProcessSpec("bash")
                .WithArguments(script, cacheDirectory, scratch)
                .WithTimeout(Timeout);
            foreach (var (name, value) in environment)
            {
                spec = spec.WithEnvironment(name, value);
            }

            var (exit, output, errors) = await runner.RunToEndAsync(spec, cancellationToken);
            var answer = output.LastOrDefault()?.Trim();
            return exit == 0 && answer is { Length: > 0 }
                ? Answer(answer)
                : new KvmAnswer(
                    false,
                    $"the KVM probe failed (exit {exit}): {string.Join(' ', errors.TakeLast(2))}".TrimEnd(
                        ' ',
                        ':'
                    )
                );
        }
        catch (ProcessTimedOutException)
        {
            return new KvmAnswer(false, "the KVM probe did not answer within 30 s");
        }
    }

    // "works", "fails (the probe guest exited 124, expected 99)", "no /dev/kvm".
    internal static KvmAnswer Answer(string line) =>
        line == "works" ? new KvmAnswer(true, null)
        : line.StartsWith("fails (", StringComparison.Ordinal) && line.EndsWith(')')
            ? new KvmAnswer(false, line["fails (".Length..^1])
        : new KvmAnswer(false, line);
}
