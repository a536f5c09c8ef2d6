using ImageForge.CloudFakes.Azure;
using ImageForge.TestSupport;
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

    /// <summary>
    /// A shipped cloud definition with its accounts, buckets and names replaced by the fakes' (<see cref="ThreeClouds"/>),
    /// as its header tells a user to replace them with their own.
    /// </summary>
    public static string PointAtFakes(string yaml) =>
        yaml.Replace("my-imageforge-imports", ThreeClouds.AwsBucket, StringComparison.Ordinal)
            .Replace(
                "00000000-0000-0000-0000-000000000000",
                ArmFake.DefaultSubscriptionId,
                StringComparison.Ordinal
            )
            .Replace("imageforgevhds", Azurite.AccountName, StringComparison.Ordinal)
            .Replace(
                "project_id: imageforge-images",
                $"project_id: {ThreeClouds.GcpProject}",
                StringComparison.Ordinal
            )
            .Replace("imageforge-images-uploads", ThreeClouds.GcpBucket, StringComparison.Ordinal);

    /// <summary>A definition with its boot test turned off.</summary>
    public static string WithoutBootTest(string yaml) =>
        yaml.Replace("boot_test: true", "boot_test: false", StringComparison.Ordinal);

    /// <summary>
    /// A test-only hardening rule for the Debian 11 profile of a content copy that removes the kernel and its
    /// initramfs from the image: a deliberately broken disk, whose GRUB finds no /vmlinuz. Its audit passes, so the
    /// build goes on to the export and the boot test.
    /// </summary>
    public static void RemoveKernelInHardening(string root) =>
        AddHardeningRule(
            root,
            "e2e_remove_kernel",
            "Test only: remove the kernel so the disk cannot boot",
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

    /// <summary>
    /// A test-only hardening rule for the Debian 11 profile of a content copy that adds what a careless change would:
    /// a setuid copy of /bin/true as /usr/local/bin/e2e-extra, and an enabled service (e2e-extra.service, a web
    /// server on port 8080, wanted by multi-user.target). Both are what anomaly detection must flag.
    /// </summary>
    public static void AddSetuidFileAndServiceInHardening(string root) =>
        AddHardeningRule(
            root,
            "e2e_extra",
            "Test only: add a setuid file and an enabled service",
            """
            # shellcheck shell=bash
            # Test only (E2E): a setuid file and a listening service nobody asked for.
            apply_e2e_extra() {
                install -m 4755 "$(p /bin/true)" "$(p /usr/local/bin/e2e-extra)"
                printf '%s\n' '[Unit]' 'Description=E2E extra service' '[Service]' \
                    'ExecStart=/usr/bin/python3 -m http.server 8080' '[Install]' 'WantedBy=multi-user.target' \
                    >"$(p /etc/systemd/system/e2e-extra.service)"
                mkdir -p "$(p /etc/systemd/system/multi-user.target.wants)"
                ln -sf /etc/systemd/system/e2e-extra.service \
                    "$(p /etc/systemd/system/multi-user.target.wants/e2e-extra.service)"
                result applied "setuid /usr/local/bin/e2e-extra and e2e-extra.service added"
            }
            audit_e2e_extra() { result pass "test-only rule"; }

            """
        );

    // A rule of the Debian 11 profile of a content copy (its apply_ and audit_ functions in rules/<id>.sh), run last.
    private static void AddHardeningRule(string root, string id, string title, string functions)
    {
        var profile = Path.Combine(root, "hardening", "cis", "debian-11");
        Directory.CreateDirectory(Path.Combine(profile, "rules"));
        File.WriteAllText(Path.Combine(profile, "rules", id.Replace('_', '-') + ".sh"), functions);
        File.AppendAllText(
            Path.Combine(profile, "profile.sh"),
            $"use_rule {id} \"imageforge:e2e\" \"{title}\"\n"
        );
    }
}
