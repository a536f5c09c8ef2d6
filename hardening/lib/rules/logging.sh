# shellcheck shell=bash
# System logging: the files rsyslog writes exist with root:adm 0640 (at most), and logrotate rotates daily.
# rsyslog creates missing log files itself at its first start, with $FileCreateMode; creating them in the image
# gives them the right owner and mode from the start and lets an offline scan see them.

rsyslog_require() {
    [[ -f "$(p /etc/rsyslog.conf)" ]] || skip "rsyslog is not installed (/etc/rsyslog.conf absent)"
}

# rsyslog_log_files: the files named by the actions of rsyslog.conf and rsyslog.d/*.conf (legacy "selector
# [-]/path" lines and action(type="omfile" file="...")), device files excluded, sorted and unique.
rsyslog_log_files() {
    local conf
    local -a confs=()
    for conf in "$(p /etc/rsyslog.conf)" "$(p /etc/rsyslog.d)"/*.conf; do
        [[ -f "$conf" ]] && confs+=("$conf")
    done
    awk '
        { sub(/^[ \t]+/, "") }
        /^#/ || /^\$/ || /^(module|input|global|include|template|ruleset)\(/ { next }
        match($0, /file="[^"]+"/) { print substr($0, RSTART + 6, RLENGTH - 7); next }
        NF >= 1 && $NF ~ /^-?\// { f = $NF; sub(/^-/, "", f); print f }
    ' "${confs[@]}" | awk '$0 !~ /^\/dev\//' | LC_ALL=C sort -u
}

apply_rsyslog_log_files() {
    rsyslog_require
    local files file changed=() out
    files="$(rsyslog_log_files)"
    [[ -n "$files" ]] || skip "rsyslog writes no log file (no file action configured)"
    while IFS= read -r file; do
        if [[ ! -e "$(p "$file")" ]]; then
            mkdir -p "$(dirname "$(p "$file")")"
            install -m 0640 -o root -g adm /dev/null "$(p "$file")"
            changed+=("$file: created root:adm 0640")
            continue
        fi
        out="$(ensure_perms "$file" 0640 root adm)"
        [[ -z "$out" ]] || changed+=("$file: $out")
    done <<<"$files"
    if ((${#changed[@]})); then
        local IFS=';'
        result applied "${changed[*]}"
    fi
    result unchanged "$(wc -l <<<"$files") log files within 0640 root:adm"
}

audit_rsyslog_log_files() {
    rsyslog_require
    local files file bad=() out
    files="$(rsyslog_log_files)"
    [[ -n "$files" ]] || skip "rsyslog writes no log file (no file action configured)"
    while IFS= read -r file; do
        if [[ ! -f "$(p "$file")" ]]; then
            bad+=("$file: missing")
            continue
        fi
        out="$(perms_problems "$file" 0640 root adm)"
        [[ -z "$out" ]] || bad+=("$file: $out")
    done <<<"$files"
    if ((${#bad[@]})); then
        local IFS=';'
        result fail "${bad[*]}"
    fi
    result pass "$(wc -l <<<"$files") log files within 0640 root:adm"
}

IF_LOGROTATE_CONF="/etc/logrotate.conf"
IF_LOGROTATE_CRON="/etc/cron.daily/logrotate"

logrotate_require() {
    [[ -f "$(p "$IF_LOGROTATE_CONF")" ]] || skip "logrotate is not installed ($IF_LOGROTATE_CONF absent)"
}

# logrotate_other_periods: lines of logrotate.conf that set weekly, monthly or yearly (globally or in a block).
logrotate_other_periods() {
    grep -En '^[[:space:]]*(weekly|monthly|yearly)[[:space:]#]*$' "$(p "$IF_LOGROTATE_CONF")" || true
}

logrotate_has_daily() {
    grep -Eq '^[[:space:]]*daily[[:space:]#]*$' "$(p "$IF_LOGROTATE_CONF")"
}

apply_logrotate_daily() {
    logrotate_require
    local changed=() target tmp
    target="$(p "$IF_LOGROTATE_CONF")"
    if [[ -n "$(logrotate_other_periods)" ]] || ! logrotate_has_daily; then
        tmp="$(mktemp "$target.imageforge.XXXXXX")"
        # Every period line (global or inside a block) becomes "daily", in its own scope; with no period line at all,
        # a global "daily" goes first.
        awk '
            { all[NR] = $0; if ($0 ~ /^[ \t]*(daily|weekly|monthly|yearly)[ \t#]*$/) has = 1 }
            END {
                if (!has) print "daily"
                for (i = 1; i <= NR; i++) {
                    line = all[i]
                    if (line ~ /^[ \t]*(weekly|monthly|yearly)[ \t#]*$/) { indent = line; sub(/[^ \t].*$/, "", indent); line = indent "daily" }
                    print line
                }
            }
        ' "$target" >"$tmp"
        chmod --reference="$target" "$tmp"
        chown --reference="$target" "$tmp"
        mv -f "$tmp" "$target"
        changed+=("rotation period daily in $IF_LOGROTATE_CONF")
    fi
    if [[ ! -f "$(p "$IF_LOGROTATE_CRON")" ]]; then
        cron_installed || {
            ((${#changed[@]} == 0)) || result fail "${changed[*]}; but no cron daemon runs $IF_LOGROTATE_CRON"
            skip "cron is not installed: a systemd timer must run logrotate"
        }
        write_file_if_different "$IF_LOGROTATE_CRON" 0755 \
            "#!/bin/sh"$'\n'"# Written by ImageForge hardening (rule logrotate_daily)."$'\n'"/usr/sbin/logrotate /etc/logrotate.conf" ||
            true
        changed+=("wrote $IF_LOGROTATE_CRON")
    fi
    if ((${#changed[@]})); then
        local IFS=';'
        result applied "${changed[*]}"
    fi
    result unchanged "logrotate rotates daily, run by $IF_LOGROTATE_CRON"
}

audit_logrotate_daily() {
    logrotate_require
    local other
    other="$(logrotate_other_periods)"
    [[ -z "$other" ]] || result fail "$IF_LOGROTATE_CONF sets another period: ${other//$'\n'/; }"
    logrotate_has_daily || result fail "$IF_LOGROTATE_CONF does not set daily"
    [[ -f "$(p "$IF_LOGROTATE_CRON")" ]] || result fail "$IF_LOGROTATE_CRON is missing"
    grep -Eq '^[[:space:]]*/usr/sbin/logrotate.*/etc/logrotate\.conf$' "$(p "$IF_LOGROTATE_CRON")" ||
        result fail "$IF_LOGROTATE_CRON does not run /usr/sbin/logrotate /etc/logrotate.conf"
    result pass "daily rotation, run by $IF_LOGROTATE_CRON"
}
