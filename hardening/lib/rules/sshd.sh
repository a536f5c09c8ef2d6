# shellcheck shell=bash
# SSH server configuration (CIS 5.2 on Debian). Every setting is written into /etc/ssh/sshd_config itself (the SCAP
# content for Debian 11 reads only that file) and any drop-in in /etc/ssh/sshd_config.d that would override it is corrected.
# Nothing is reloaded: on a running host, reload sshd afterwards.

apply_sshd_config_perms() {
    sshd_require
    perms_rule_apply 0600 root root /etc/ssh/sshd_config
}
audit_sshd_config_perms() {
    sshd_require
    perms_rule_audit 0600 root root /etc/ssh/sshd_config
}

# sshd_define <rule_id> <Keyword> <recommended value> <accepted regex> <accepted, in words>: defines the rule's
# apply and audit functions (a profile registers the rule with its own control ids).
sshd_define() {
    local id="$1" keyword="$2" value="$3" accept="$4" words="$5"
    eval "apply_${id}() { sshd_rule_apply '$keyword' '$value' '$accept'; }"
    eval "audit_${id}() { sshd_rule_audit '$keyword' '$accept' '$words'; }"
}

sshd_define sshd_log_level LogLevel INFO '^(info|verbose)$' 'INFO or VERBOSE'
sshd_define sshd_permit_root_login PermitRootLogin no '^no$' no
sshd_define sshd_hostbased_authentication HostbasedAuthentication no '^no$' no
sshd_define sshd_permit_empty_passwords PermitEmptyPasswords no '^no$' no
sshd_define sshd_permit_user_environment PermitUserEnvironment no '^no$' no
sshd_define sshd_ignore_rhosts IgnoreRhosts yes '^yes$' yes
sshd_define sshd_x11_forwarding X11Forwarding no '^no$' no
sshd_define sshd_banner Banner /etc/issue.net '^/etc/issue\.net$' /etc/issue.net
sshd_define sshd_max_auth_tries MaxAuthTries 4 '^[1-4]$' '1 to 4'
sshd_define sshd_max_sessions MaxSessions 10 '^([1-9]|10)$' '1 to 10'
sshd_define sshd_login_grace_time LoginGraceTime 60 '^([1-9]|[1-5][0-9]|60|1m)$' '1 to 60 seconds'
# OpenSSH 8.4 treats ClientAliveCountMax 0 as "never disconnect", so the CIS value (greater than zero) is used; the
# SSG/ANSSI check sshd_set_keepalive_0 (which wants 0) fails by design.
sshd_define sshd_client_alive_interval ClientAliveInterval 300 '^([1-9]|[1-9][0-9]|[12][0-9][0-9]|300)$' '1 to 300 seconds'
sshd_define sshd_client_alive_count_max ClientAliveCountMax 3 '^[1-3]$' '1 to 3'
