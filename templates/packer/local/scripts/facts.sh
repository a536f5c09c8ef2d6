#!/usr/bin/env bash
# Stage "facts" of the local target, on the finished tree before the export releases it: what it trusts, runs and
# lets in (apt sources and keys, CA certificates, setuid files, enabled units, cron, users, sudoers, sshd, sysctl...)
# and its size -> <output_dir>/image-facts.json (the disk's size is added from the disk artifact), the input of anomaly detection (docs/anomalies.md). The work is done by
# collect-facts.py, standalone so cloud provisioners can run the same script inside a VM (with root "/").
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init facts

step "checking inputs"
require_env IMAGEFORGE_OUTPUT_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_rootfs
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to collect the image's facts (apt-get install python3)"

step "collecting the image's facts"
# The base's own facts (bootstrap stage) go into the document with the key of the inputs that made the base.
base=()
if [[ -f "$IF_WORK_DIR/base-facts.json" && -f "$IF_WORK_DIR/base.key" ]]; then
    base=(--base "$IF_WORK_DIR/base-facts.json" --base-key "$(sed -n 's/^base=//p' "$IF_WORK_DIR/base.key")")
fi
python3 "$(dirname "${BASH_SOURCE[0]}")/collect-facts.py" "${base[@]}" "$IF_ROOTFS" "$output_dir/image-facts.json"
sha256_file "$output_dir" image-facts.json
printf 'facts: %s\n' "$output_dir/image-facts.json"
