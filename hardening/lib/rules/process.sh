# shellcheck shell=bash
# CIS 1.5: additional process hardening, plus kernel settings from the SSG/ANSSI content that have no CIS number.
# Kernel parameters go to /etc/sysctl.d/60-imageforge-hardening.conf and take effect at the next boot.

apply_kernel_aslr() { sysctl_rule_apply kernel.randomize_va_space=2; }
audit_kernel_aslr() { sysctl_rule_audit kernel.randomize_va_space=2; }

apply_coredump_suid_dumpable() { sysctl_rule_apply fs.suid_dumpable=0; }
audit_coredump_suid_dumpable() { sysctl_rule_audit fs.suid_dumpable=0; }

IF_CORE_LIMITS="/etc/security/limits.d/60-imageforge-coredump.conf"

# pam_limits reads limits.conf and limits.d; an explicit "* hard core 0" anywhere satisfies the control.
core_limit_set() {
    local file
    for file in "$(p /etc/security/limits.conf)" "$(p /etc/security/limits.d)"/*.conf; do
        [[ -f "$file" ]] || continue
        if awk '$1 !~ /^#/ && $1 == "*" && $2 == "hard" && $3 == "core" && $4 == "0" { found = 1 } END { exit !found }' \
            "$file"; then
            printf '%s' "${file#"$IF_ROOT"}"
            return 0
        fi
    done
    return 1
}

apply_coredump_hard_limit() {
    [[ -d "$(p /etc/security)" ]] || skip "PAM limits are not installed (/etc/security absent)"
    local where
    if where="$(core_limit_set)"; then
        result unchanged "* hard core 0 in $where"
    fi
    write_file_if_different "$IF_CORE_LIMITS" 0644 \
        "# Written by ImageForge hardening: no core dumps (rule coredump_hard_limit)."$'\n'"*    hard    core    0" || true
    result applied "* hard core 0 in $IF_CORE_LIMITS"
}
audit_coredump_hard_limit() {
    [[ -d "$(p /etc/security)" ]] || skip "PAM limits are not installed (/etc/security absent)"
    local where
    if where="$(core_limit_set)"; then
        result pass "* hard core 0 in $where"
    fi
    result fail "no '* hard core 0' in /etc/security/limits.conf or limits.d"
}

apply_kernel_dmesg_restrict() { sysctl_rule_apply kernel.dmesg_restrict=1; }
audit_kernel_dmesg_restrict() { sysctl_rule_audit kernel.dmesg_restrict=1; }

apply_kernel_kptr_restrict() { sysctl_rule_apply kernel.kptr_restrict=1; }
audit_kernel_kptr_restrict() { sysctl_rule_audit kernel.kptr_restrict=1; }

apply_fs_protected_links() { sysctl_rule_apply fs.protected_hardlinks=1 fs.protected_symlinks=1; }
audit_fs_protected_links() { sysctl_rule_audit fs.protected_hardlinks=1 fs.protected_symlinks=1; }
