# shellcheck shell=bash
# CIS 5.4.4 and 5.5: shadow password suite defaults in /etc/login.defs. These apply to accounts created or
# passwords changed afterwards; existing accounts keep their /etc/shadow aging fields (chage) until changed.
# A stricter site value that already satisfies the control is kept.

logindefs_require() {
    [[ -f "$(p /etc/login.defs)" ]] || skip "/etc/login.defs is absent (login package not installed)"
}

# logindefs_rule_apply <KEY> <recommended value> <check function>
logindefs_rule_apply() {
    local key="$1" value="$2" check="$3" current
    logindefs_require
    current="$(kv_get /etc/login.defs "$key")"
    if [[ -n "$current" ]] && "$check" "$current"; then
        result unchanged "$key $current"
    fi
    kv_set /etc/login.defs "$key" "$value"
    result applied "$key $value (was ${current:-unset})"
}

logindefs_rule_audit() {
    local key="$1" words="$2" check="$3" current
    logindefs_require
    current="$(kv_get /etc/login.defs "$key")"
    [[ -n "$current" ]] || result fail "$key is not set, want $words"
    "$check" "$current" || result fail "$key is $current, want $words"
    result pass "$key $current"
}

is_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
max_days_ok() { is_number "$1" && (($1 >= 1 && $1 <= 365)); }
min_days_ok() { is_number "$1" && (($1 >= 1)); }
warn_age_ok() { is_number "$1" && (($1 >= 7)); }
umask_ok() { [[ "$1" =~ ^0?[0-7]{3}$ ]] && (((8#$1 & 8#027) == 8#027)); }
encrypt_ok() { [[ "${1^^}" == SHA512 || "${1^^}" == YESCRYPT ]]; }

apply_logindefs_pass_max_days() { logindefs_rule_apply PASS_MAX_DAYS 365 max_days_ok; }
audit_logindefs_pass_max_days() { logindefs_rule_audit PASS_MAX_DAYS "1 to 365" max_days_ok; }

apply_logindefs_pass_min_days() { logindefs_rule_apply PASS_MIN_DAYS 1 min_days_ok; }
audit_logindefs_pass_min_days() { logindefs_rule_audit PASS_MIN_DAYS "1 or more" min_days_ok; }

apply_logindefs_pass_warn_age() { logindefs_rule_apply PASS_WARN_AGE 7 warn_age_ok; }
audit_logindefs_pass_warn_age() { logindefs_rule_audit PASS_WARN_AGE "7 or more" warn_age_ok; }

apply_logindefs_umask() { logindefs_rule_apply UMASK 027 umask_ok; }
audit_logindefs_umask() { logindefs_rule_audit UMASK "027 or more restrictive" umask_ok; }

# CIS Debian 11 v1.0.0 prefers yescrypt; SHA512 is what the baseline asks for and what the SSG/ANSSI content checks.
# Either passes the audit; apply writes SHA512 only when neither is configured.
apply_logindefs_encrypt_method() { logindefs_rule_apply ENCRYPT_METHOD SHA512 encrypt_ok; }
audit_logindefs_encrypt_method() { logindefs_rule_audit ENCRYPT_METHOD "SHA512 or YESCRYPT" encrypt_ok; }
