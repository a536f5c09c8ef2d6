#!/usr/bin/env bash
# Compliance scan of the root filesystem with OpenSCAP, run twice by the local target: before hardening (the base as
# bootstrapped) and after it. Writes <output_dir>/compliance-<phase>-results.xml (XCCDF results, ARF-free) and
# <output_dir>/compliance-<phase>-report.html.
#
# oscap scans an offline tree through OSCAP_PROBE_ROOT, and writes into the tree it scans (apt caches, temporary
# files), so it sees the root filesystem only through read-only bind mounts. They are made in a private mount
# namespace of this stage (the script re-executes itself under unshare), so they vanish with it, whatever happens.
#
# Before hardening: the scan depends only on the base tree (the cached base and packages_remove), the datastream,
# the profile, the tailoring and oscap itself, so its results are cached by a key over those
# (<cache_dir>/scan-before/<key>) and a later build of the same base copies them instead of scanning.
#
# After hardening: the scan sees the disk's mount table. Each filesystem of the layout (<work_dir>/disk/layout.tsv)
# is a read-only bind mount of the subtree that becomes its partition, with the options of the image's /etc/fstab
# (nodev, nosuid, noexec). OpenSCAP's partition probe reads <root>/proc/mounts; <root>/proc is /proc/<pid> of a
# process chrooted into the scanned tree, so the mount points read as the booted system names them (/tmp, /var...).
#
# Exit code 2 of `oscap xccdf eval` means "at least one rule failed": a result, not an error. Whether the results
# satisfy the baseline is decided by ImageForge (compliance evidence), not here.
set -euo pipefail

if [[ "${IF_SCAN_NAMESPACE:-}" != 1 ]]; then
    # unshare without --fork: the same process (and process group) continues in its own mount namespace.
    IF_SCAN_NAMESPACE=1 exec unshare --mount --propagation private -- /bin/bash "${BASH_SOURCE[0]}"
fi

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init "scan-${IMAGEFORGE_SCAN_PHASE:-unknown}"

step "checking inputs"
require_env IMAGEFORGE_SCAN_PHASE IMAGEFORGE_OUTPUT_DIR IMAGEFORGE_SCAP_DATASTREAM IMAGEFORGE_SCAP_PROFILE \
    IMAGEFORGE_CACHE_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_abs_path IMAGEFORGE_SCAP_DATASTREAM
require_abs_path IMAGEFORGE_CACHE_DIR
require_rootfs
phase="$IMAGEFORGE_SCAN_PHASE"
[[ "$phase" == before || "$phase" == after ]] || die "IMAGEFORGE_SCAN_PHASE must be 'before' or 'after', got '$phase'"
datastream="$IMAGEFORGE_SCAP_DATASTREAM"
profile="$IMAGEFORGE_SCAP_PROFILE"
tailoring="${IMAGEFORGE_SCAP_TAILORING:-}"
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
cache_dir="${IMAGEFORGE_CACHE_DIR%/}"
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
results_name="compliance-$phase-results.xml"
report_name="compliance-$phase-report.html"

# --- the cached scan before hardening ------------------------------------------------------------------------------
cached=""
if [[ "$phase" == before ]]; then
    [[ -f "$IF_WORK_DIR/base.key" ]] || die "no $IF_WORK_DIR/base.key (did the bootstrap stage run with the same work_dir?)"
    digest_of() { sha256sum "$1" | cut -c1-64; }
    key_input="$(printf '%s\n' \
        "format=imageforge-scan-before-1" \
        "$(cat "$IF_WORK_DIR/base.key")" \
        "datastream=$(digest_of "$datastream")" \
        "profile=$profile" \
        "tailoring=$([[ -z "$tailoring" ]] || digest_of "$tailoring")" \
        "oscap=$(oscap --version | head -n 1)")"
    key="$(printf '%s\n' "$key_input" | sha256sum | cut -c1-64)"
    cached="$cache_dir/scan-before/$key"
    mkdir -p "$cache_dir/scan-before"
    exec {lock_fd}>"$cache_dir/scan-before/$key.lock"
    flock "$lock_fd"
    if [[ -f "$cached/$results_name" && -f "$cached/$report_name" ]]; then
        step "cache hit, using the scan of this base ($key)"
        for name in "$results_name" "$report_name"; do
            cp -f "$cached/$name" "$output_dir/.$name.partial"
            cp -f "$cached/$name.sha256" "$output_dir/$name.sha256.tmp"
            mv -f "$output_dir/.$name.partial" "$output_dir/$name"
            mv -f "$output_dir/$name.sha256.tmp" "$output_dir/$name.sha256"
        done
        awk '{ print "before: " $0 " (cached)" }' "$cached/summary"
        exit 0
    fi
    step "cache miss, scanning this base ($key)"
fi

# --- the read-only view of the tree ----------------------------------------------------------------------------------
step "mounting the root filesystem read-only"
mnt="$IF_WORK_DIR/scan-$phase"
mkdir -p "$mnt"
helper=""
cleanup() {
    [[ -z "$helper" ]] || kill "$helper" 2>/dev/null || true
    # Only this namespace holds the mounts; unmounting is tidiness, the namespace ends with this process anyway.
    umount -R "$mnt" 2>/dev/null || umount -R -l "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
    rm -f "$output_dir/.$results_name.partial" "$output_dir/.$report_name.partial"
}
trap cleanup EXIT
mount --bind "$IF_ROOTFS" "$mnt"
# A bind mount takes the read-only flag (and nodev, nosuid, noexec) only on a remount.
mount -o remount,bind,ro "$mnt"
if touch "$mnt/.imageforge-write-probe" 2>/dev/null; then
    rm -f "$mnt/.imageforge-write-probe"
    die "the bind mount $mnt is writable; refusing to let oscap scan a writable tree"
fi
if [[ "$phase" == after ]]; then
    step "mounting the disk's filesystems as its /etc/fstab does"
    mounted_points=()
    while IFS=$'\t' read -r _ _ mount fs _ _ _ _ _ options _; do
        [[ "$fs" == ext4 && "$mount" != / ]] || continue
        flags="ro"
        for option in nodev nosuid noexec; do
            [[ ",$options," != *",$option,"* ]] || flags+=",$option"
        done
        mount --bind "$IF_ROOTFS$mount" "$mnt$mount"
        mount -o "remount,bind,$flags" "$mnt$mount"
        mounted_points+=("$mount ($flags)")
    done < <(layout_rows | LC_ALL=C sort -t$'\t' -k3,3)
    # A process whose root is the scanned tree: its /proc/<pid>/mounts lists exactly the mounts below the tree, named
    # as inside it. sleep is the image's own (coreutils).
    chroot "$mnt" /bin/sleep 3600 &
    helper=$!
    mount --bind "/proc/$helper" "$mnt/proc"
    printf 'separate filesystems: %s\n' "${mounted_points[*]:-none}"
fi

step "scanning with OpenSCAP ($phase hardening)"
results_tmp="$output_dir/.$results_name.partial"
report_tmp="$output_dir/.$report_name.partial"
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
# oscap ends some labels with a carriage return (seen on a terminal-less run): dropped before splitting.
summary="$(awk -F'\t' -v ms="$elapsed_ms" '
    { gsub(/\r/, "") }
    $1 == "Result" { n[$2]++ }
    END {
        printf "%d pass, %d fail, %d notapplicable, %d error, %d unknown (oscap %d ms)\n",
            n["pass"], n["fail"], n["notapplicable"], n["error"], n["unknown"], ms
    }
' "$log")"
printf '%s: %s\n' "$phase" "$summary"

step "writing compliance results"
mv -f "$results_tmp" "$output_dir/$results_name"
mv -f "$report_tmp" "$output_dir/$report_name"
sha256_file "$output_dir" "$results_name"
sha256_file "$output_dir" "$report_name"
if [[ -n "$cached" ]]; then
    # Stored under a temporary name and renamed: another build never sees half a cache entry.
    partial_dir="$cache_dir/scan-before/.$key.partial.$$"
    rm -rf "$partial_dir"
    mkdir -p "$partial_dir"
    cp -f "$output_dir/$results_name" "$output_dir/$results_name.sha256" "$output_dir/$report_name" \
        "$output_dir/$report_name.sha256" "$partial_dir/"
    printf '%s\n' "$summary" >"$partial_dir/summary"
    printf '%s\n' "$key_input" >"$partial_dir/inputs"
    rm -rf "$cached"
    mv "$partial_dir" "$cached"
fi

step "unmounting the root filesystem"
cleanup
helper=""
trap - EXIT
[[ -z "$(mounts_below "$mnt")" ]] || die "$mnt is still mounted after the scan"
