#!/usr/bin/env bash
# The hardening stage inside a cloud VM (the azure and gcp templates run it with sudo over SSH): the same rule
# library and profile the local target runs in its chroot, here on the running system ("/"), then the same report.
#
#   vm-harden.sh <profile dir: <hardening root>/<benchmark>/<os>> <out dir>
#
# Writes <out dir>/hardening-report.tsv and exits 1 when the audit after apply fails a rule.
set -euo pipefail
export LC_ALL=C

(($# == 2)) || {
    printf 'usage: %s <profile dir> <out dir>\n' "${0##*/}" >&2
    exit 2
}
profile="${1%/}" out_dir="${2%/}"
[[ -f "$profile/run.sh" && -f "$profile/profile.sh" ]] || {
    printf 'imageforge-error: harden | %s has no run.sh and profile.sh (was the hardening directory uploaded?)\n' \
        "$profile" >&2
    exit 1
}
mkdir -p "$out_dir"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

for mode in apply audit; do
    echo "imageforge-step: harden | ${mode}ing hardening rules"
    rc=0
    bash "$profile/run.sh" "$mode" >"$logs/$mode.tsv" 2>"$logs/$mode.err" || rc=$?
    if ((rc > 1)); then
        cat "$logs/$mode.err" >&2
        printf 'imageforge-error: harden | run.sh %s could not run (exit %s)\n' "$mode" "$rc" >&2
        exit 1
    fi
done

echo "imageforge-step: harden | writing hardening report"
# The report's format and the verdict are the local target's (templates/packer/local/scripts/harden.sh), so the same
# evidence kind and collector apply.
report="$out_dir/hardening-report.tsv"
{
    printf 'rule_id\tcontrols\tmode\tresult\tdetail\n'
    awk -F'\t' -v OFS='\t' '{ print $1, $2, "apply", $3, $4 }' "$logs/apply.tsv"
    awk -F'\t' -v OFS='\t' '{ print $1, $2, "audit", $3, $4 }' "$logs/audit.tsv"
} >"$report.tmp"
mv -f "$report.tmp" "$report"
failed="$(awk -F'\t' '$3 == "fail" { printf "%s%s (%s)", sep, $1, $4; sep = "; " }' "$logs/audit.tsv")"
if [[ -n "$failed" ]]; then
    printf 'imageforge-error: harden | the audit after apply found failing rules: %s\n' "$failed" >&2
    exit 1
fi
