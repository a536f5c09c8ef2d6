#!/usr/bin/env bash
# The local target's stages inside a cloud VM, run as root over SSH by the azure and gcp templates (build: native):
# the compliance scan before, the hardening (apply, audit), the scan after and the package inventory, each with the
# script the local target uses. Everything was uploaded below one directory by `file` provisioners:
#
#   <dir>/common/               templates/packer/common/scripts (this script, oscap-scan.sh, vm-harden.sh)
#   <dir>/hardening/            the hardening root (lib/ and the profiles)
#   <dir>/collect-packages-dpkg.sh  the local target's inventory collector (root "/" here)
#   <dir>/scap/datastream.xml, <dir>/scap/tailoring.xml (empty: no tailoring)
#
#   vm-stages.sh <dir> <hardening profile, e.g. cis/debian-11> <scap profile id>
#
# Results go to <dir>/out (hardening-report.tsv, packages.tsv, compliance-{before,after}-{results.xml,report.html}),
# owned by the SSH user so the templates can download them (`file`, direction = "download").
set -euo pipefail
export LC_ALL=C

(($# == 3)) || {
    printf 'usage: %s <dir> <hardening profile> <scap profile>\n' "${0##*/}" >&2
    exit 2
}
dir="${1%/}" hardening_profile="$2" scap_profile="$3"
[[ "$hardening_profile" =~ ^[a-z0-9.-]+/[a-z0-9.-]+$ ]] || {
    printf 'imageforge-error: vm | hardening profile %s is not <benchmark>/<os>\n' "$hardening_profile" >&2
    exit 2
}
out="$dir/out"
mkdir -p "$out"
tailoring=()
[[ ! -s "$dir/scap/tailoring.xml" ]] || tailoring=("$dir/scap/tailoring.xml")

bash "$dir/common/oscap-scan.sh" before "$dir/scap/datastream.xml" "$scap_profile" "$out" "${tailoring[@]}"
bash "$dir/common/vm-harden.sh" "$dir/hardening/$hardening_profile" "$out"
bash "$dir/common/oscap-scan.sh" after "$dir/scap/datastream.xml" "$scap_profile" "$out" "${tailoring[@]}"
# Last: the after scan removed the scanner the before scan installed, so the inventory is what the image ships.
echo "imageforge-step: inventory | listing installed packages"
bash "$dir/collect-packages-dpkg.sh" / "$out/packages.tsv"

if [[ -n "${SUDO_USER:-}" ]]; then
    chown -R "$SUDO_USER" "$out"
fi
