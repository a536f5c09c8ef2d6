# shellcheck shell=bash
# The rule runner shared by every hardening profile. A profile's run.sh sets IF_PROFILE_DIR (its own directory) and
# IF_LIB_DIR (this directory) and sources this file:
#
#   run.sh apply [rule-id...]   make the system compliant; one line per rule: applied|unchanged|skipped|fail
#   run.sh audit [rule-id...]   check only;                 one line per rule: pass|fail|skipped
#   run.sh list  [rule-id...]   the profile's rules: id, controls, title
#
# Output lines are tab-separated: <rule_id> <controls> <status> <detail>.
# Exit codes: 0 every rule ended well (apply: nothing failed; audit: pass or skipped), 1 at least one rule failed,
# 2 usage error (unknown mode or rule id), 3 the profile or the rule library is broken.
#
# Runs inside the image (e.g. `chroot <rootfs> bash /tmp/x/cis/debian-11/run.sh apply`, with lib/ copied beside the
# benchmark directory) or on a running host. It never starts or reloads services.
set -euo pipefail
export LC_ALL=C
umask 022

usage() {
    printf 'usage: %s apply|audit|list [rule-id...]\n' "${0##*/}" >&2
    exit 2
}

# load: the helpers, every rule implementation, then the profile's list of rules (which may add rules of its own
# in <profile>/rules/*.sh, e.g. settings only one OS has).
load() {
    # shellcheck source=SCRIPTDIR/lib.sh
    source "$IF_LIB_DIR/lib.sh"
    local rules_file
    for rules_file in "$IF_LIB_DIR"/rules/*.sh "$IF_PROFILE_DIR"/rules/*.sh; do
        [[ -f "$rules_file" ]] || continue
        # shellcheck source=/dev/null
        source "$rules_file"
    done
    [[ -f "$IF_PROFILE_DIR/profile.sh" ]] || {
        printf 'run.sh: %s has no profile.sh\n' "$IF_PROFILE_DIR" >&2
        exit 3
    }
    # shellcheck source=/dev/null
    source "$IF_PROFILE_DIR/profile.sh"
    local id
    for id in "${RULE_IDS[@]}"; do
        if ! declare -F "apply_$id" >/dev/null || ! declare -F "audit_$id" >/dev/null; then
            printf 'run.sh: rule %s lacks apply_%s or audit_%s\n' "$id" "$id" "$id" >&2
            exit 3
        fi
    done
}

# run_rule <mode> <id>: runs one rule function in a subshell with errexit, prints its report line.
# Returns 1 when the rule failed (or crashed).
run_rule() {
    local mode="$1" id="$2" rc=0 status detail log
    IF_RESULT_FILE="$(mktemp)"
    log="$(mktemp)"
    export IF_RESULT_FILE
    # Anything a rule prints goes to the log, keeping stdout to one line per rule.
    set +e
    (
        set -euo pipefail
        # A failing command substitution must fail the rule, not hide as an empty value.
        shopt -s inherit_errexit
        "${mode}_${id}"
    ) >"$log" 2>&1
    rc=$?
    set -e
    if [[ -s "$IF_RESULT_FILE" ]]; then
        IFS=$'\t' read -r status detail <"$IF_RESULT_FILE" || true
    else
        status="fail"
        detail="rule ended without a result (exit $rc): $(tail -n 3 "$log" | tr '\t\n' ' ;')"
    fi
    if ((rc != 0)) && [[ "$status" != fail ]]; then
        detail="rule exited $rc after reporting '$status': $(tail -n 3 "$log" | tr '\t\n' ' ;')"
        status="fail"
    fi
    rm -f "$IF_RESULT_FILE" "$log"
    printf '%s\t%s\t%s\t%s\n' "$id" "${RULE_CONTROLS[$id]}" "$status" "$detail"
    [[ "$status" != fail ]]
}

main() {
    (($# >= 1)) || usage
    local mode="$1"
    shift
    case "$mode" in
        apply | audit | list) ;;
        *) usage ;;
    esac
    load

    local -a selected=()
    if (($#)); then
        local id
        for id in "$@"; do
            [[ -n "${RULE_CONTROLS[$id]+set}" ]] || {
                printf 'run.sh: unknown rule id: %s\n' "$id" >&2
                exit 2
            }
            selected+=("$id")
        done
    else
        selected=("${RULE_IDS[@]}")
    fi

    if [[ "$mode" == list ]]; then
        for id in "${selected[@]}"; do
            printf '%s\t%s\t%s\n' "$id" "${RULE_CONTROLS[$id]}" "${RULE_TITLES[$id]}"
        done
        return 0
    fi

    local failed=0
    for id in "${selected[@]}"; do
        run_rule "$mode" "$id" || failed=1
    done
    return "$failed"
}

main "$@"
