"""Prints boot-test.json from what boot-test.sh observed.

Usage: boot-test-json.py <marker line or ""> <failure or ""> <seconds to marker> <seconds to kernel> <expected mounts>
                         <powered off: true|false> <accelerator> <kvm note> <timeout> <qemu version> <firmware>

The boot passed when the marker came, systemd reported "running" (not degraded: no unit failed), and the mounted
filesystems are exactly the layout's.
"""

import json
import sys


def main(argv):
    if len(argv) != 12:
        sys.exit("usage: boot-test-json.py <marker> <failure> <seconds> <kernel seconds> <mounts> <powered off> "
                 "<accelerator> <kvm note> <timeout> <qemu version> <firmware>")
    marker, failure, seconds, kernel_at, expected, powered_off = argv[1:7]
    accelerator, kvm_note, timeout, qemu_version, firmware = argv[7:12]
    fields = dict(part.split("=", 1) for part in marker.split()[1:]) if marker else {}
    failed = [] if fields.get("failed", "none") == "none" else fields["failed"].split(",")
    mounts = fields["mounts"].split(",") if fields.get("mounts") else []
    expected_mounts = expected.split(",") if expected else []
    reasons = []
    if failure:
        reasons.append(failure)
    if marker:
        if fields.get("state") != "running":
            reasons.append(f"systemd reports '{fields.get('state')}' instead of 'running'")
        if failed:
            reasons.append("failed units: " + ", ".join(failed))
        if mounts != expected_mounts:
            reasons.append(f"mounted {', '.join(mounts)}; the layout has {', '.join(expected_mounts)}")
    passed = bool(marker) and not reasons
    if passed:
        summary = (f"boot test passed: marker after {seconds} s (kernel {fields['kernel']}, state running, "
                   f"no failed units, {len(mounts)} filesystems mounted)")
    else:
        summary = "boot test failed: " + "; ".join(reasons or ["no marker"])
    document = {
        "passed": passed,
        "summary": summary,
        "reasons": reasons,
        "seconds_to_marker": float(seconds) if seconds else None,
        "seconds_to_kernel": float(kernel_at) if kernel_at else None,
        "kernel": fields.get("kernel"),
        "system_state": fields.get("state"),
        "failed_units": failed,
        "mounts": mounts,
        "expected_mounts": expected_mounts,
        "powered_off": powered_off == "true",
        "marker": marker or None,
        "accelerator": accelerator,
        "kvm": kvm_note,
        "timeout_seconds": int(timeout),
        "qemu": qemu_version,
        "firmware": firmware,
        "machine": "q35, 1 GiB, 2 vCPUs, NVMe disk (qcow2 overlay over disk.raw), NoCloud seed, no network",
        "transcript": "boot-test-console.log",
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
