#!/usr/bin/env bash
# CIS-style hardening for Debian 12 (bookworm): the rules listed in profile.sh, implemented in ../../lib.
# Usage, output and exit codes: ../../lib/run.sh and README.md.
set -euo pipefail
IF_PROFILE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IF_LIB_DIR="$(cd "$IF_PROFILE_DIR/../../lib" && pwd)"
# shellcheck source=SCRIPTDIR/../../lib/run.sh
source "$IF_LIB_DIR/run.sh"
