#!/usr/bin/env bash
# OpenSCAP scan inside a running VM (cloud targets), run by a Packer `shell` provisioner before and after the
# hardening provisioner. The cloud templates (which come with the cloud providers) upload this script, the datastream
# and the optional tailoring file with `file` provisioners, run it with sudo, then download
# <out_dir>/compliance-<phase>-results.xml and -report.html with `file` provisioners (direction = "download") into the
# build's output directory, where the same evidence kinds and the same compliance collector as the local target apply.
#
#   oscap-scan.sh <phase: before|after> <datastream> <profile id> <out dir> [tailoring file]
#
# Installs the scanner when it is missing (apt or dnf), scans the running system (no OSCAP_PROBE_ROOT: inside the VM
# every probe, sysctl and systemd included, sees the real system) and treats exit code 2 ("some rule failed") as a
# result. Exit codes: 0 results written, 1 the scan could not run, 2 usage.
set -euo pipefail
export LC_ALL=C

usage() {
    printf 'usage: %s before|after <datastream> <profile> <out dir> [tailoring]\n' "${0##*/}" >&2
    exit 2
}

(($# == 4 || $# == 5)) || usage
phase="$1" datastream="$2" profile="$3" out_dir="$4" tailoring="${5:-}"
[[ "$phase" == before || "$phase" == after ]] || usage
[[ "$profile" =~ ^xccdf_[A-Za-z0-9_.-]+_profile_[A-Za-z0-9_.-]+$ ]] || {
    printf 'oscap-scan: %s is not an XCCDF profile id\n' "$profile" >&2
    exit 2
}
[[ -f "$datastream" ]] || {
    printf 'oscap-scan: datastream %s was not uploaded\n' "$datastream" >&2
    exit 1
}
[[ -z "$tailoring" || -f "$tailoring" ]] || {
    printf 'oscap-scan: tailoring file %s was not uploaded\n' "$tailoring" >&2
    exit 1
}

echo "imageforge-step: scan-$phase | installing the scanner if needed"
if ! command -v oscap >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        # policy-rc.d: installing must not start services in the image being built.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        # Debian 11 has no OpenSCAP package at all (openscap left bullseye before its release); bookworm and Ubuntu
        # call it openscap-scanner, older releases libopenscap8.
        scanner=""
        for candidate in openscap-scanner libopenscap8; do
            if apt-cache show "$candidate" >/dev/null 2>&1; then
                scanner="$candidate"
                break
            fi
        done
        [[ -n "$scanner" ]] || {
            printf 'oscap-scan: oscap is not installed and this system'"'"'s archive has no OpenSCAP package (Debian 11 has none); install oscap in the source image\n' >&2
            exit 1
        }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$scanner" >/dev/null
    elif command -v dnf >/dev/null 2>&1; then
        scanner=openscap-scanner
        dnf install -y -q "$scanner" >/dev/null
    else
        printf 'oscap-scan: no oscap and no apt-get or dnf to install it\n' >&2
        exit 1
    fi
    # The scan after hardening runs in another process: it reads which package to remove from here.
    mkdir -p "$out_dir"
    printf '%s\n' "$scanner" >"$out_dir/.installed-scanner"
fi

echo "imageforge-step: scan-$phase | scanning with OpenSCAP"
mkdir -p "$out_dir"
args=(xccdf eval --profile "$profile" --results "$out_dir/compliance-$phase-results.xml"
    --report "$out_dir/compliance-$phase-report.html")
[[ -z "$tailoring" ]] || args+=(--tailoring-file "$tailoring")
rc=0
oscap "${args[@]}" "$datastream" >"$out_dir/oscap-$phase.log" 2>&1 || rc=$?
if ((rc != 0 && rc != 2)); then
    tail -n 20 "$out_dir/oscap-$phase.log" >&2
    printf 'oscap-scan: oscap xccdf eval failed (exit %s)\n' "$rc" >&2
    exit 1
fi
# oscap ends some labels with a carriage return when it writes to no terminal (as scan.sh notes): dropped first.
awk -F'\t' -v phase="$phase" '{ gsub(/\r/, "") } $1 == "Result" { n[$2]++ }
    END { printf "%s: %d pass, %d fail, %d notapplicable, %d error\n", phase, n["pass"], n["fail"], n["notapplicable"], n["error"] }' \
    "$out_dir/oscap-$phase.log"

# The scanner is a build tool, not part of the image: removed after the last scan when a scan of this build added it.
if [[ "$phase" == after && -f "$out_dir/.installed-scanner" ]]; then
    scanner="$(cat "$out_dir/.installed-scanner")"
    if command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --auto-remove "$scanner" >/dev/null
    else
        dnf remove -y -q "$scanner" >/dev/null
    fi
    rm -f "$out_dir/.installed-scanner"
fi
