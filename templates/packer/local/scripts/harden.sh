#!/usr/bin/env bash
# Stage 2 of the local target: CIS-style hardening inside the root filesystem.
#
# Copies hardening_dir (a profile such as <hardening root>/cis/debian-11) and the shared rule library
# (<hardening root>/lib) into a temporary directory of the image, keeping their relative layout, runs `run.sh apply`
# and then `run.sh audit` in a
# chroot (with a policy-rc.d that keeps every service down), writes <output_dir>/hardening-report.tsv and removes
# the copied scripts and the policy-rc.d again. The build fails when the audit after apply finds a failing rule
# (skipped rules do not count).
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init harden

step "checking inputs"
require_env IMAGEFORGE_HARDENING_DIR IMAGEFORGE_OUTPUT_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_rootfs
hardening_dir="${IMAGEFORGE_HARDENING_DIR%/}"
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
# A profile lives two levels below the hardening root (<benchmark>/<os>); the rule library is <root>/lib.
hardening_root="$(dirname "$(dirname "$hardening_dir")")"
profile_rel="${hardening_dir#"$hardening_root"/}"
[[ -f "$hardening_dir/run.sh" && -f "$hardening_dir/profile.sh" ]] ||
    die "hardening_dir '$hardening_dir' has no run.sh and profile.sh"
[[ -f "$hardening_root/lib/run.sh" && -f "$hardening_root/lib/lib.sh" ]] ||
    die "no rule library at $hardening_root/lib (hardening_dir must be <hardening root>/<benchmark>/<os>)"
mkdir -p "$output_dir"

step "copying hardening scripts into the image"
inside="$(mktemp -d "$IF_ROOTFS/tmp/imageforge-hardening.XXXXXX")"
cleanup() {
    rm -rf --one-file-system "$inside"
    remove_policy_rcd
}
trap cleanup EXIT
mkdir -p "$inside/$profile_rel"
cp -R "$hardening_root/lib" "$inside/lib"
cp -R "$hardening_dir/." "$inside/$profile_rel/"
chown -R 0:0 "$inside"
chmod -R go-w "$inside"
in_image="/${inside#"$IF_ROOTFS"/}"
install_policy_rcd

apply_out="$IF_LOG_DIR/hardening-apply.tsv"
audit_out="$IF_LOG_DIR/hardening-audit.tsv"

step "applying hardening rules"
rc=0
if_chroot /bin/bash "$in_image/$profile_rel/run.sh" apply >"$apply_out" 2>"$IF_LOG_DIR/hardening-apply.err" || rc=$?
if ((rc > 1)); then
    cat "$IF_LOG_DIR/hardening-apply.err" >&2
    die "run.sh apply could not run (exit $rc)"
fi
awk -F'\t' '{ n[$3]++ } END { printf "apply: %d applied, %d unchanged, %d skipped, %d failed\n", n["applied"], n["unchanged"], n["skipped"], n["fail"] }' "$apply_out"

step "auditing hardening rules"
rc=0
if_chroot /bin/bash "$in_image/$profile_rel/run.sh" audit >"$audit_out" 2>"$IF_LOG_DIR/hardening-audit.err" || rc=$?
if ((rc > 1)); then
    cat "$IF_LOG_DIR/hardening-audit.err" >&2
    die "run.sh audit could not run (exit $rc)"
fi
awk -F'\t' '{ n[$3]++ } END { printf "audit: %d pass, %d skipped, %d failed\n", n["pass"], n["skipped"], n["fail"] }' "$audit_out"

step "writing hardening report"
report="$output_dir/hardening-report.tsv"
{
    printf 'rule_id\tcontrols\tmode\tresult\tdetail\n'
    awk -F'\t' -v OFS='\t' '{ print $1, $2, "apply", $3, $4 }' "$apply_out"
    awk -F'\t' -v OFS='\t' '{ print $1, $2, "audit", $3, $4 }' "$audit_out"
} >"$report.tmp"
mv -f "$report.tmp" "$report"

step "removing hardening scripts from the image"
cleanup
trap - EXIT

failed="$(awk -F'\t' '$3 == "fail" { printf "%s%s (%s)", sep, $1, $4; sep = "; " }' "$audit_out")"
apply_failed="$(awk -F'\t' '$3 == "fail" { printf "%s%s (%s)", sep, $1, $4; sep = "; " }' "$apply_out")"
[[ -z "$apply_failed" ]] || printf 'apply reported failures: %s\n' "$apply_failed" >&2
[[ -z "$failed" ]] || die "the audit after apply found failing rules: $failed"
