# shellcheck shell=bash
# Helpers shared by every hardening profile (cis/debian-11, cis/debian-12, cis/ubuntu-22.04, stig/rhel-9).
# Sourced by lib/run.sh; never executed on its own.
#
# Contract for a rule (implemented once in lib/rules/<topic>.sh, used by any number of profiles):
#   apply_<rule_id>  makes the system compliant and ends with result applied|unchanged|skipped|fail
#   audit_<rule_id>  checks only and ends with result pass|fail|skipped
# A profile (<benchmark>/<os>/profile.sh) declares the rules it runs, in order, each with that benchmark's control
# ids and title: use_rule <rule_id> <controls> <title>.
# Each function runs in its own subshell with errexit on; `result` records the outcome and ends the subshell.
# Everything here must be safe in a chroot (no service starts, no sysctl -p, no systemctl) and on a running host.

# Root of the tree the rules act on. Always "/" in production (run.sh runs inside the chroot); tests may point it
# at a scratch copy.
IF_ROOT="${IF_ROOT:-}"

# The registry, read by run.sh.
declare -ga RULE_IDS=()
declare -gA RULE_CONTROLS=()
declare -gA RULE_TITLES=()

# use_rule <rule_id> <controls> <title>
# controls: comma-separated scheme:id pairs, e.g. "cis:5.2.7,ssg:sshd_disable_root_login,stig:UBTU-22-255040".
use_rule() {
    local id="$1" controls="$2" title="$3"
    if [[ ! "$id" =~ ^[a-z][a-z0-9_]*$ ]]; then
        printf 'lib.sh: invalid rule id %q\n' "$id" >&2
        return 1
    fi
    if [[ -n "${RULE_CONTROLS[$id]+set}" ]]; then
        printf 'lib.sh: rule %s used twice\n' "$id" >&2
        return 1
    fi
    RULE_IDS+=("$id")
    RULE_CONTROLS[$id]="$controls"
    # shellcheck disable=SC2034 # read by lib/run.sh (list)
    RULE_TITLES[$id]="$title"
}

# result <status> <detail...>: record the outcome of the running rule and leave its subshell.
result() {
    local status="$1"
    shift
    local detail="$*"
    detail="${detail//$'\t'/ }"
    detail="${detail//$'\n'/; }"
    printf '%s\t%s\n' "$status" "$detail" >"$IF_RESULT_FILE"
    exit 0
}

skip() { result skipped "$@"; }

# p <absolute path>: the path as seen from the tree under IF_ROOT.
p() { printf '%s%s' "$IF_ROOT" "$1"; }

# ---------------------------------------------------------------------------------------------------------------
# Packages and commands

# pkg_installed <name>: true when the package manager of the tree (dpkg, else rpm) knows the package as installed.
pkg_installed() {
    if [[ -d "$(p /var/lib/dpkg)" ]]; then
        local status
        status="$(dpkg-query --admindir="$(p /var/lib/dpkg)" -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)"
        [[ "$status" == "installed" ]]
    elif command -v rpm >/dev/null 2>&1; then
        rpm --root="${IF_ROOT:-/}" -q --quiet "$1" 2>/dev/null
    else
        return 1
    fi
}

cron_installed() {
    [[ -x "$(p /usr/sbin/cron)" || -x "$(p /usr/sbin/crond)" ]]
}

# ---------------------------------------------------------------------------------------------------------------
# File ownership and permissions

# mode_within <actual octal> <allowed octal>: true when actual sets no bit outside allowed ("or more restrictive").
mode_within() {
    (((8#$1 & ~8#$2 & 8#7777) == 0))
}

# perms_problems <path> <max mode> <owner> <allowed groups, space-separated>
# Prints what is wrong (empty when compliant).
perms_problems() {
    local path="$1" mode="$2" owner="$3" groups="$4"
    local stat_out actual_mode actual_owner actual_group problems=()
    stat_out="$(stat -L -c '%a %U %G' "$(p "$path")")"
    read -r actual_mode actual_owner actual_group <<<"$stat_out"
    mode_within "$actual_mode" "$mode" || problems+=("mode $actual_mode exceeds $mode")
    [[ "$actual_owner" == "$owner" ]] || problems+=("owner $actual_owner is not $owner")
    [[ " $groups " == *" $actual_group "* ]] || problems+=("group $actual_group is not ${groups// / or }")
    local IFS=';'
    printf '%s' "${problems[*]}"
}

# ensure_perms <path> <max mode> <owner> <allowed groups>: clears mode bits beyond the maximum (never adds bits)
# and fixes owner and group (to the first allowed group). Prints what was changed; empty when nothing was.
ensure_perms() {
    local path="$1" mode="$2" owner="$3" groups="$4"
    local target stat_out actual_mode actual_owner actual_group changes=()
    target="$(p "$path")"
    stat_out="$(stat -L -c '%a %U %G' "$target")"
    read -r actual_mode actual_owner actual_group <<<"$stat_out"
    if ! mode_within "$actual_mode" "$mode"; then
        local new_mode
        new_mode="$(printf '%o' $((8#$actual_mode & 8#$mode)))"
        chmod "$new_mode" "$target"
        changes+=("mode $actual_mode->$new_mode")
    fi
    if [[ "$actual_owner" != "$owner" ]]; then
        chown "$owner" "$target"
        changes+=("owner $actual_owner->$owner")
    fi
    if [[ " $groups " != *" $actual_group "* ]]; then
        local group="${groups%% *}"
        chgrp "$group" "$target"
        changes+=("group $actual_group->$group")
    fi
    local IFS=','
    printf '%s' "${changes[*]}"
}

# A permissions rule over a fixed list of paths. Missing paths are skipped individually; all missing -> skipped.
perms_rule_apply() {
    local mode="$1" owner="$2" groups="$3"
    shift 3
    local path changed=() present=0 out
    for path in "$@"; do
        [[ -e "$(p "$path")" ]] || continue
        present=1
        out="$(ensure_perms "$path" "$mode" "$owner" "$groups")"
        [[ -z "$out" ]] || changed+=("$path: $out")
    done
    ((present)) || skip "not present: $*"
    if ((${#changed[@]})); then
        local IFS=';'
        result applied "${changed[*]}"
    fi
    result unchanged "$* within $mode $owner:${groups// /|}"
}

perms_rule_audit() {
    local mode="$1" owner="$2" groups="$3"
    shift 3
    local path bad=() present=0 out
    for path in "$@"; do
        [[ -e "$(p "$path")" ]] || continue
        present=1
        out="$(perms_problems "$path" "$mode" "$owner" "$groups")"
        [[ -z "$out" ]] || bad+=("$path: $out")
    done
    ((present)) || skip "not present: $*"
    if ((${#bad[@]})); then
        local IFS=';'
        result fail "${bad[*]}"
    fi
    result pass "$* within $mode $owner:${groups// /|}"
}

# write_file_if_different <path> <mode> <content>: atomically replaces the file when its content differs.
# Returns 0 when the file was written, 1 when it already had that content.
write_file_if_different() {
    local path="$1" mode="$2" content="$3" target tmp
    target="$(p "$path")"
    if [[ -f "$target" ]] && [[ "$(cat "$target")" == "$content" ]]; then
        return 1
    fi
    mkdir -p "$(dirname "$target")"
    tmp="$(mktemp "$target.imageforge.XXXXXX")"
    printf '%s\n' "$content" >"$tmp"
    chmod "$mode" "$tmp"
    chown root:root "$tmp"
    mv -f "$tmp" "$target"
    return 0
}

# ---------------------------------------------------------------------------------------------------------------
# Key/value files (login.defs style: "KEY VALUE", the last active definition wins)

# kv_get <file> <KEY>: the value of the last active definition, empty when none.
kv_get() {
    local file="$1" key="$2"
    [[ -f "$(p "$file")" ]] || return 0
    awk -v key="$key" '
        { sub(/^[ \t]+/, "") }
        /^#/ { next }
        $1 == key { value = $2; found = 1 }
        END { if (found) print value }
    ' "$(p "$file")"
}

# kv_set <file> <KEY> <VALUE>: rewrites every active definition of KEY, or appends one.
kv_set() {
    local file="$1" key="$2" value="$3" target tmp
    target="$(p "$file")"
    tmp="$(mktemp "$target.imageforge.XXXXXX")"
    awk -v key="$key" -v value="$value" '
        {
            line = $0
            stripped = line
            sub(/^[ \t]+/, "", stripped)
            split(stripped, f, /[ \t]+/)
            if (stripped !~ /^#/ && f[1] == key) { print key "\t" value; done = 1; next }
            print line
        }
        END { if (!done) print key "\t" value }
    ' "$target" >"$tmp"
    chmod --reference="$target" "$tmp"
    chown --reference="$target" "$tmp"
    mv -f "$tmp" "$target"
}

# ---------------------------------------------------------------------------------------------------------------
# sysctl: persistent configuration only (a chroot has no kernel of its own to ask)

IF_SYSCTL_FILE="/etc/sysctl.d/60-imageforge-hardening.conf"

# The files systemd-sysctl and `sysctl --system` read, in the order they are applied (a later value wins).
# Same-named files: the first directory wins (/etc overrides /run overrides /usr/local/lib overrides /usr/lib).
sysctl_config_files() {
    local dir file base
    declare -A chosen=()
    for dir in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d; do
        for file in "$(p "$dir")"/*.conf; do
            [[ -e "$file" ]] || continue
            base="${file##*/}"
            [[ -n "${chosen[$base]+set}" ]] || chosen[$base]="$file"
        done
    done
    if ((${#chosen[@]})); then
        printf '%s\n' "${!chosen[@]}" | LC_ALL=C sort | while IFS= read -r base; do
            printf '%s\n' "${chosen[$base]}"
        done
    fi
    if [[ -f "$(p /etc/sysctl.conf)" ]]; then
        printf '%s\n' "$(p /etc/sysctl.conf)"
    fi
}

# sysctl_effective <key>: prints "<value>\t<file>" for the value the configuration ends up with; empty when unset.
sysctl_effective() {
    local key="$1" list
    local -a files
    list="$(sysctl_config_files)"
    [[ -n "$list" ]] || return 0
    mapfile -t files <<<"$list"
    awk -v key="$key" '
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
        {
            line = trim($0)
            if (line == "" || line ~ /^[#;]/) next
            eq = index(line, "=")
            if (eq == 0) next
            k = trim(substr(line, 1, eq - 1))
            sub(/^-/, "", k)
            gsub(/\//, ".", k)
            if (k != key) next
            v = trim(substr(line, eq + 1))
            gsub(/[ \t]+/, " ", v)
            value = v; file = FILENAME; found = 1
        }
        END { if (found) printf "%s\t%s\n", value, file }
    ' "${files[@]}"
}

# sysctl_rule_apply <key=value>...: writes the keys into the ImageForge sysctl file.
sysctl_rule_apply() {
    local file pair key value changed=() bad=() effective
    file="$(p "$IF_SYSCTL_FILE")"
    if [[ ! -f "$file" ]]; then
        mkdir -p "$(dirname "$file")"
        printf '# Written by ImageForge hardening (hardening/lib). Loaded at boot by systemd-sysctl or\n# procps; edit through the hardening rules, not by hand.\n' >"$file"
        chmod 0644 "$file"
    fi
    for pair in "$@"; do
        key="${pair%%=*}"
        value="${pair#*=}"
        if [[ "$(sysctl_file_value "$file" "$key")" != "$value" ]]; then
            sysctl_file_set "$file" "$key" "$value"
            changed+=("$key=$value")
        fi
        effective="$(sysctl_effective "$key")"
        if [[ "${effective%%$'\t'*}" != "$value" ]]; then
            bad+=("$key is overridden to '${effective%%$'\t'*}' by ${effective#*$'\t'}")
        fi
    done
    if ((${#bad[@]})); then
        local IFS=';'
        result fail "${bad[*]}"
    fi
    if ((${#changed[@]})); then
        result applied "set in $IF_SYSCTL_FILE: ${changed[*]}"
    fi
    result unchanged "already set: $*"
}

sysctl_rule_audit() {
    local pair key value effective bad=()
    for pair in "$@"; do
        key="${pair%%=*}"
        value="${pair#*=}"
        effective="$(sysctl_effective "$key")"
        if [[ -z "$effective" ]]; then
            bad+=("$key not configured")
        elif [[ "${effective%%$'\t'*}" != "$value" ]]; then
            bad+=("$key=${effective%%$'\t'*} in ${effective#*$'\t'}, want $value")
        fi
    done
    if ((${#bad[@]})); then
        local IFS=';'
        result fail "${bad[*]}"
    fi
    result pass "configured: $* (applied at next boot)"
}

sysctl_file_value() {
    awk -v key="$2" '
        { line = $0; sub(/^[ \t]+/, "", line) }
        line ~ /^[#;]/ { next }
        {
            eq = index(line, "=")
            if (eq == 0) next
            k = substr(line, 1, eq - 1); gsub(/[ \t]/, "", k)
            if (k == key) { v = substr(line, eq + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); value = v }
        }
        END { print value }
    ' "$1"
}

sysctl_file_set() {
    local file="$1" key="$2" value="$3" tmp
    tmp="$(mktemp "$file.imageforge.XXXXXX")"
    awk -v key="$key" -v value="$value" '
        {
            line = $0; sub(/^[ \t]+/, "", line)
            eq = index(line, "=")
            if (line !~ /^[#;]/ && eq > 0) {
                k = substr(line, 1, eq - 1); gsub(/[ \t]/, "", k)
                if (k == key) { if (!done) print key " = " value; done = 1; next }
            }
            print $0
        }
        END { if (!done) print key " = " value }
    ' "$file" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$file"
}

# ---------------------------------------------------------------------------------------------------------------
# sshd_config
#
# Debian 11's sshd_config starts with "Include /etc/ssh/sshd_config.d/*.conf" and sshd keeps the FIRST value it
# reads for a keyword, so a drop-in overrides the main file. The SCAP content for Debian 11 (SSG 0.1.65) reads only
# /etc/ssh/sshd_config. The rules therefore write the setting into sshd_config itself and also correct any drop-in
# that sets a different value; the audit checks the value sshd will actually use.

IF_SSHD_CONFIG="/etc/ssh/sshd_config"

sshd_require() {
    [[ -f "$(p "$IF_SSHD_CONFIG")" ]] || skip "openssh-server is not installed ($IF_SSHD_CONFIG absent)"
}

# sshd_files: the config files in the order sshd reads them (Include expanded in place), up to the first Match.
# Prints "<file>" lines; used for drop-in correction.
sshd_files() {
    _sshd_walk files "" "$IF_SSHD_CONFIG" 0 || true
}

# sshd_effective <keyword>: "<value>\t<file>" of the first global definition sshd reads; empty when none.
sshd_effective() {
    _sshd_walk value "${1,,}" "$IF_SSHD_CONFIG" 0 || true
}

# _sshd_walk <mode> <keyword> <file> <depth>. Returns 2 when a Match line ended the global section.
_sshd_walk() {
    local mode="$1" keyword="$2" file="$3" depth="$4" line word rest arg included
    ((depth <= 8)) || return 0
    [[ -f "$(p "$file")" ]] || return 0
    [[ "$mode" != files ]] || printf '%s\n' "$file"
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line#"${line%%[![:space:]]*}"}"
        [[ -n "$line" && "$line" != \#* ]] || continue
        _sshd_split "$line"
        word="${_SSHD_WORD,,}"
        rest="$_SSHD_REST"
        case "$word" in
            match) return 2 ;;
            include)
                local -a patterns
                read -r -a patterns <<<"$rest"
                for arg in "${patterns[@]}"; do
                    [[ "$arg" == /* ]] || arg="/etc/ssh/$arg"
                    # Expand the glob inside the tree being checked; sshd sorts the matches.
                    # (No process substitution anywhere: a bare chroot has no /proc, hence no /dev/fd.)
                    local globbed
                    globbed="$(_sshd_glob "$arg" || true)"
                    while IFS= read -r included; do
                        [[ -n "$included" ]] || continue
                        _sshd_walk "$mode" "$keyword" "$included" $((depth + 1)) || return $?
                        if [[ "$mode" == value && -n "$_SSHD_FOUND" ]]; then return 0; fi
                    done <<<"$globbed"
                done
                ;;
            *)
                if [[ "$mode" == value && "$word" == "$keyword" ]]; then
                    _SSHD_FOUND=1
                    printf '%s\t%s\n' "$rest" "$file"
                    return 0
                fi
                ;;
        esac
    done <"$(p "$file")"
    return 0
}
_SSHD_FOUND=""

_sshd_glob() {
    local match
    compgen -G "$(p "$1")" | LC_ALL=C sort | while IFS= read -r match; do
        if [[ -f "$match" ]]; then printf '%s\n' "${match#"$IF_ROOT"}"; fi
    done
}

# _sshd_split <line>: keyword and argument, separated by whitespace and/or "=".
_sshd_split() {
    local line="$1"
    _SSHD_WORD="${line%%[[:space:]=]*}"
    _SSHD_REST="${line:${#_SSHD_WORD}}"
    _SSHD_REST="${_SSHD_REST#"${_SSHD_REST%%[![:space:]]*}"}"
    _SSHD_REST="${_SSHD_REST#=}"
    _SSHD_REST="${_SSHD_REST#"${_SSHD_REST%%[![:space:]]*}"}"
    _SSHD_REST="${_SSHD_REST%"${_SSHD_REST##*[![:space:]]}"}"
    # An unquoted "#" after the argument starts a comment.
    _SSHD_REST="${_SSHD_REST%%[[:space:]]#*}"
}

# _sshd_rewrite <file> <Keyword> <value> <insert when absent: 0|1>
# Rewrites every global (before the first Match) definition of the keyword in one file. When the file has none and
# insertion is requested, adds the line before the first Match block (or at the end).
# Prints "changed" when the file was modified.
_sshd_rewrite() {
    local file="$1" keyword="$2" value="$3" insert="$4" target tmp
    target="$(p "$file")"
    tmp="$(mktemp "$target.imageforge.XXXXXX")"
    awk -v kw="${keyword,,}" -v keyword="$keyword" -v value="$value" -v insert="$insert" -v flag="$tmp.flag" '
        function word(s,   w) { sub(/^[ \t]+/, "", s); w = s; sub(/[ \t=].*$/, "", w); return tolower(w) }
        function arg(s,   a) {
            a = s; sub(/^[ \t]+/, "", a); sub(/^[^ \t=]+/, "", a); sub(/^[ \t]*=?[ \t]*/, "", a)
            sub(/[ \t]+#.*$/, "", a); sub(/[ \t]+$/, "", a); return a
        }
        {
            s = $0; sub(/^[ \t]+/, "", s)
            if (!inmatch && s !~ /^#/ && word(s) == "match") {
                inmatch = 1
                if (insert && !seen) { print keyword " " value; seen = 1; changed = 1 }
            }
            if (!inmatch && s !~ /^#/ && s != "" && word(s) == kw) {
                seen = 1
                if (arg(s) != value) { print keyword " " value; changed = 1; next }
            }
            print $0
        }
        END {
            if (insert && !seen) { print keyword " " value; changed = 1 }
            if (changed) print "changed" > flag
        }
    ' "$target" >"$tmp"
    if [[ -s "$tmp.flag" ]]; then
        chmod --reference="$target" "$tmp"
        chown --reference="$target" "$tmp"
        mv -f "$tmp" "$target"
        echo changed
    else
        rm -f "$tmp"
    fi
    rm -f "$tmp.flag"
}

# sshd_main_value <Keyword>: the global value in the main file itself (what the SCAP content reads); empty when none.
sshd_main_value() {
    local keyword="${1,,}"
    awk -v kw="$keyword" '
        function word(s,   w) { sub(/^[ \t]+/, "", s); w = s; sub(/[ \t=].*$/, "", w); return tolower(w) }
        function arg(s,   a) {
            a = s; sub(/^[ \t]+/, "", a); sub(/^[^ \t=]+/, "", a); sub(/^[ \t]*=?[ \t]*/, "", a)
            sub(/[ \t]+#.*$/, "", a); sub(/[ \t]+$/, "", a); return a
        }
        { s = $0; sub(/^[ \t]+/, "", s); if (s ~ /^#/ || s == "") next }
        word(s) == "match" { exit }
        word(s) == kw { print arg(s); exit }
    ' "$(p "$IF_SSHD_CONFIG")"
}

# sshd_validate: `sshd -t` when the tree can run it (host keys present); restores nothing, just reports.
sshd_validate() {
    local sshd made_run=0 out rc=0
    sshd="$(p /usr/sbin/sshd)"
    [[ -z "$IF_ROOT" && -x "$sshd" ]] || return 0
    compgen -G "/etc/ssh/ssh_host_*_key" >/dev/null || return 0
    if [[ ! -d /run/sshd ]]; then
        mkdir -p /run/sshd
        made_run=1
    fi
    out="$("$sshd" -t -f "$IF_SSHD_CONFIG" 2>&1)" || rc=$?
    ((made_run == 0)) || rmdir /run/sshd 2>/dev/null || true
    if ((rc != 0)); then
        printf '%s' "$out"
        return 1
    fi
}

# sshd_rule_apply <Keyword> <value> [accepted values regex]: makes the keyword's effective value compliant.
# When the effective value already matches the accepted regex and the main file carries it, nothing changes.
sshd_rule_apply() {
    local keyword="$1" value="$2" accept="${3:-}" effective before main changed=() file out
    sshd_require
    [[ -n "$accept" ]] || accept="^${value}\$"
    effective="$(sshd_effective "$keyword")"
    before="${effective%%$'\t'*}"
    main="$(sshd_main_value "$keyword")"
    if [[ -n "$effective" && "${before,,}" =~ ${accept,,} && "${main,,}" =~ ${accept,,} ]]; then
        result unchanged "$keyword $before"
    fi
    # Settle on one value: keep an accepted value already in use, otherwise the recommended one.
    local want="$value"
    if [[ -n "$effective" && "${before,,}" =~ ${accept,,} ]]; then want="$before"; fi
    out="$(_sshd_rewrite "$IF_SSHD_CONFIG" "$keyword" "$want" 1)"
    [[ -z "$out" ]] || changed+=("$IF_SSHD_CONFIG")
    local files
    files="$(sshd_files)"
    while IFS= read -r file; do
        [[ -n "$file" && "$file" != "$IF_SSHD_CONFIG" ]] || continue
        out="$(_sshd_rewrite "$file" "$keyword" "$want" 0)"
        [[ -z "$out" ]] || changed+=("$file")
    done <<<"$files"
    effective="$(sshd_effective "$keyword")"
    if [[ "${effective%%$'\t'*}" != "$want" ]]; then
        result fail "$keyword is still '${effective%%$'\t'*}' (from ${effective#*$'\t'})"
    fi
    if ! out="$(sshd_validate)"; then
        result fail "sshd -t rejects the configuration after setting $keyword: $out"
    fi
    result applied "$keyword $want (was ${before:-unset}) in ${changed[*]}"
}

# sshd_match_values <Keyword>: "<value>\t<file>" for every definition inside a Match block (main file and drop-ins).
sshd_match_values() {
    local keyword="${1,,}" file files
    files="$(sshd_files)"
    while IFS= read -r file; do
        [[ -n "$file" ]] || continue
        awk -v kw="$keyword" -v name="$file" '
            function word(s,   w) { sub(/^[ \t]+/, "", s); w = s; sub(/[ \t=].*$/, "", w); return tolower(w) }
            function arg(s,   a) {
                a = s; sub(/^[ \t]+/, "", a); sub(/^[^ \t=]+/, "", a); sub(/^[ \t]*=?[ \t]*/, "", a)
                sub(/[ \t]+#.*$/, "", a); sub(/[ \t]+$/, "", a); return a
            }
            { s = $0; sub(/^[ \t]+/, "", s); if (s ~ /^#/ || s == "") next }
            word(s) == "match" { inmatch = 1; next }
            inmatch && word(s) == kw { printf "%s\t%s\n", arg(s), name }
        ' "$(p "$file")"
    done <<<"$files"
}

# sshd_rule_audit <Keyword> <accepted values regex> <description>
# Also fails when a Match block sets a value that is not accepted (apply leaves Match blocks alone: they are site
# decisions, so such a finding needs a person).
sshd_rule_audit() {
    local keyword="$1" accept="$2" want="$3" effective value main matches line
    sshd_require
    matches="$(sshd_match_values "$keyword")"
    while IFS= read -r line; do
        [[ -n "$line" ]] || continue
        value="${line%%$'\t'*}"
        if [[ ! "${value,,}" =~ ${accept,,} ]]; then
            result fail "a Match block in ${line#*$'\t'} sets $keyword ${line%%$'\t'*}, want $want"
        fi
    done <<<"$matches"
    effective="$(sshd_effective "$keyword")"
    value="${effective%%$'\t'*}"
    main="$(sshd_main_value "$keyword")"
    if [[ -z "$effective" ]]; then
        result fail "$keyword not set (sshd default applies), want $want"
    fi
    if [[ ! "${value,,}" =~ ${accept,,} ]]; then
        result fail "$keyword is '$value' (from ${effective#*$'\t'}), want $want"
    fi
    if [[ ! "${main,,}" =~ ${accept,,} ]]; then
        result fail "$keyword is '$value' only through ${effective#*$'\t'}; $IF_SSHD_CONFIG itself has '${main:-nothing}'"
    fi
    result pass "$keyword $value"
}
