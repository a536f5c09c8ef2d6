# shellcheck shell=bash
# CIS 1.7.3 and 1.7.6: the remote login banner (/etc/issue.net, shown by sshd through "Banner") says nothing about
# the operating system and is owned root:root 0644.

IF_BANNER_TEXT="Authorized uses only. All activity may be monitored and reported."

# Escapes getty/OS disclosure that CIS flags in a banner: \m \r \s \v and the OS name.
banner_discloses() {
    grep -Eqi '(\\[mrsv])|debian' "$(p /etc/issue.net)"
}

apply_issue_net_banner() {
    local changes=() out
    if [[ ! -f "$(p /etc/issue.net)" ]] || banner_discloses; then
        write_file_if_different /etc/issue.net 0644 "$IF_BANNER_TEXT" || true
        changes+=("wrote a neutral banner to /etc/issue.net")
    fi
    out="$(ensure_perms /etc/issue.net 0644 root root)"
    [[ -z "$out" ]] || changes+=("/etc/issue.net: $out")
    if ((${#changes[@]})); then
        local IFS=';'
        result applied "${changes[*]}"
    fi
    result unchanged "/etc/issue.net discloses no OS details, 0644 root:root"
}
audit_issue_net_banner() {
    [[ -f "$(p /etc/issue.net)" ]] || result fail "/etc/issue.net is missing"
    if banner_discloses; then
        result fail "/etc/issue.net discloses OS details (\\m \\r \\s \\v or the OS name)"
    fi
    local bad
    bad="$(perms_problems /etc/issue.net 0644 root root)"
    [[ -z "$bad" ]] || result fail "/etc/issue.net: $bad"
    result pass "/etc/issue.net discloses no OS details, 0644 root:root"
}
