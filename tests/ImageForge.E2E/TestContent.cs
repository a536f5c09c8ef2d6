using ImageForge.TestUtils;

namespace ImageForge.E2E;

/// <summary>Copies of the repository's content (templates, baselines, hardening) that one test changes.</summary>
internal static class TestContent
{
    /// <summary>A copy of the repository's content below <paramref name="root"/>.</summary>
    public static string Copy(string root) => ContentCopy.Create(root);

    /// <summary>Rewrites a file of a content copy; the change must change something.</summary>
    public static void Edit(string root, string relativePath, Func<string, string> change) =>
        ContentCopy.Edit(root, relativePath, change);

    /// <summary>
    /// The shipped baseline without its boot_test and image_tests gates, for builds that test something else with the
    /// boot test turned off (one boot in the whole suite is enough; it is the shipped image's). The image tests run
    /// in the booted guest, so they go with it.
    /// </summary>
    public static string WithoutBootGate(string yaml) =>
        yaml.Replace("  boot_test:\n    passed: true\n", "", StringComparison.Ordinal)
            .Replace("  image_tests:\n    passed: true\n", "", StringComparison.Ordinal);

    /// <summary>A definition with its boot test turned off.</summary>
    public static string WithoutBootTest(string yaml) =>
        yaml.Replace("boot_test: true", "boot_test: false", StringComparison.Ordinal);

    /// <summary>
    /// A test-only hardening rule for the Debian 11 profile of a content copy that removes the kernel and its
    /// initramfs from the image: a deliberately broken disk, whose GRUB finds no /vmlinuz. Its audit passes, so the
    /// build goes on to the export and the boot test.
    /// </summary>
    public static void RemoveKernelInHardening(string root)
    {
        var profile = Path.Combine(root, "hardening", "cis", "debian-11");
        Directory.CreateDirectory(Path.Combine(profile, "rules"));
        File.WriteAllText(
            Path.Combine(profile, "rules", "e2e-broken.sh"),
            """
            # shellcheck shell=bash
            # Test only (E2E): a disk that cannot boot.
            apply_e2e_remove_kernel() {
                rm -f "$(p /)"vmlinuz* "$(p /)"initrd.img* "$(p /boot)"/vmlinuz-* "$(p /boot)"/initrd.img-*
                result applied "kernel and initramfs removed"
            }
            audit_e2e_remove_kernel() { result pass "test-only rule"; }

            """
        );
        File.AppendAllText(
            Path.Combine(profile, "profile.sh"),
            "use_rule e2e_remove_kernel \"imageforge:e2e\" \"Test only: remove the kernel so the disk cannot boot\"\n"
        );
    }
}
