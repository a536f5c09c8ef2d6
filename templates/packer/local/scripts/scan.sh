#!/usr/bin/env bash
# Compliance scan of the root filesystem with OpenSCAP, run twice by the local target: before hardening (the base as
# bootstrapped) and after it. Writes <output_dir>/compliance-<phase>-results.xml (XCCDF results, ARF-free) and
# <output_dir>/compliance-<phase>-report.html.
#
# oscap scans an offline tree through OSCAP_PROBE_ROOT, and writes into the tree it scans (apt caches, temporary
# files), so it sees the root filesystem only through a read-only bind mount below work_dir. The mount is released
# by an EXIT trap (also on failure and on SIGTERM); the C# side also unmounts anything left below work_dir.
#
# Exit code 2 of `oscap xccdf eval` means "at least one rule failed": a result, not an error. Whether the results
# satisfy the baseline is decided by ImageForge (compliance evidence), not here.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init "scan-${IMAGEFORGE_SCAN_PHASE:-unknown}"

step "checking inputs"
require_env IMAGEFORGE_SCAN_PHASE IMAGEFORGE_OUTPUT_DIR IMAGEFORGE_SCAP_DATASTREAM IMAGEFORGE_SCAP_PROFILE
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_abs_path IMAGEFORGE_SCAP_DATASTREAM
require_rootfs
phase="$IMAGEFORGE_SCAN_PHASE"
[[ "$phase" == before || "$phase" == after ]] || die "IMAGEFORGE_SCAN_PHASE must be 'before' or 'after', got '$phase'"
datastream="$IMAGEFORGE_SCAP_DATASTREAM"
profile="$IMAGEFORGE_SCAP_PROFILE"
tailoring="${IMAGEFORGE_SCAP_TAILORING:-}"
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
[[ "$profile" =~ ^xccdf_[A-Za-z0-9_.-]+_profile_[A-Za-z0-9_.-]+$ ]] ||
    die "scap_profile '$profile' is not an XCCDF profile id (xccdf_<namespace>_profile_<name>)"
command -v oscap >/dev/null 2>&1 ||
    die "oscap is not installed on the build machine (Debian: apt-get install openscap-scanner ssg-debian ssg-debderived)"
[[ -f "$datastream" ]] || die "scap_datastream '$datastream' does not exist (Debian: apt-get install ssg-debian ssg-debderived)"
if [[ -n "$tailoring" ]]; then
    require_abs_path IMAGEFORGE_SCAP_TAILORING
    [[ -f "$tailoring" ]] || die "scap_tailoring '$tailoring' does not exist"
fi
mkdir -p "$output_dir"

step "mounting the root filesystem read-only"
mnt="$IF_WORK_DIR/scan-$phase"
mkdir -p "$mnt"
mounted=0
cleanup() {
    if ((mounted)); then
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
        mounted=0
    fi
    rmdir "$mnt" 2>/dev/null || true
    rm -f "$output_dir/.compliance-$phase-results.xml.partial" "$output_dir/.compliance-$phase-report.html.partial"
}
trap cleanup EXIT
mount --bind "$IF_ROOTFS" "$mnt"
mounted=1
# A bind mount takes the read-only flag only on a remount.
mount -o remount,bind,ro "$mnt"
if touch "$mnt/.imageforge-write-probe" 2>/dev/null; then
    rm -f "$mnt/.imageforge-write-probe"
    die "the bind mount $mnt is writable; refusing to let oscap scan a writable tree"
fi

step "scanning with OpenSCAP ($phase hardening)"
results_tmp="$output_dir/.compliance-$phase-results.xml.partial"
report_tmp="$output_dir/.compliance-$phase-report.html.partial"
log="$IF_LOG_DIR/oscap-$phase.log"
args=(xccdf eval --profile "$profile" --results "$results_tmp" --report "$report_tmp")
[[ -z "$tailoring" ]] || args+=(--tailoring-file "$tailoring")
args+=("$datastream")
started="$(date +%s%N)"
# A scan takes about a second here; OpenSCAP's probe threads have been seen to deadlock (every thread waiting, no
# CPU). Each attempt is bounded and a hung one is tried once more (the scan reads a read-only tree, so repeating it
# is safe); two hangs fail the stage with that reason instead of holding the build until its own timeout.
scan_timeout="${IF_SCAN_TIMEOUT_SECONDS:-120}"
for attempt in 1 2; do
    rc=0
    # --foreground keeps timeout and oscap in the build's process group, so cancelling the build stops them too.
    timeout --foreground --kill-after=10 "$scan_timeout" env OSCAP_PROBE_ROOT="$mnt" oscap "${args[@]}" >"$log" 2>&1 || rc=$?
    ((rc == 124 || rc == 137)) || break
    echo "oscap did not finish within ${scan_timeout} s (attempt $attempt of 2)" >&2
done
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
if ((rc == 124 || rc == 137)); then
    tail -n 20 "$log" >&2
    die "oscap xccdf eval hung twice (${scan_timeout} s each); build again, and report it if it recurs; output in $log"
fi
if ((rc != 0 && rc != 2)); then
    tail -n 20 "$log" >&2
    die "oscap xccdf eval failed (exit $rc); full output in $log"
fi
[[ -s "$results_tmp" ]] || die "oscap wrote no results file (exit $rc); see $log"
awk -F'\t' -v phase="$phase" -v ms="$elapsed_ms" '
    $1 == "Result" { n[$2]++ }
    END {
        printf "%s: %d pass, %d fail, %d notapplicable, %d error, %d unknown (oscap %d ms)\n",
            phase, n["pass"], n["fail"], n["notapplicable"], n["error"], n["unknown"], ms
    }
' "$log"

step "writing compliance results"
mv -f "$results_tmp" "$output_dir/compliance-$phase-results.xml"
mv -f "$report_tmp" "$output_dir/compliance-$phase-report.html"
sha256_file "$output_dir" "compliance-$phase-results.xml"
sha256_file "$output_dir" "compliance-$phase-report.html"

step "unmounting the root filesystem"
cleanup
trap - EXIT
[[ -z "$(mounts_below "$mnt")" ]] || die "$mnt is still mounted after the scan"
