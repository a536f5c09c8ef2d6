#!/usr/bin/env bash
# The one entry point: installs prerequisites (apt packages, dotnet tools), then runs a build.cake target.
#   ./build.sh --target=Demo     build a hardened local golden image end to end
#   ./build.sh --target=Test     build and run every test (prints "N passed, N failed")
set -euo pipefail
cd "$(dirname "$0")"
eng/prereqs.sh
exec dotnet cake build.cake "$@"
