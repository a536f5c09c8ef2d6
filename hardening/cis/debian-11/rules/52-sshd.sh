# shellcheck shell=bash
# CIS 5.2: SSH server configuration. Every setting is written into /etc/ssh/sshd_config itself (the SCAP content
# for Debian 11 reads only that file) and any drop-in in /etc/ssh/sshd_config.d that would override it is corrected.
# Nothing is reloaded: on a running host, reload sshd afterwards.

register_rule sshd_config_perms "cis:5.2.1" "Ensure permissions on /etc/ssh/sshd_config are configured"
apply_sshd_config_perms() {
    sshd_require
    perms_rule_apply 0600 root root /etc/ssh/sshd_config
}
audit_sshd_config_perms() {
    sshd_require
    perms_rule_audit 0600 root root /etc/ssh/sshd_config
}

# sshd_rule <rule_id> <controls> <title> <Keyword> <recommended value> <accepted regex> <accepted, in words>
sshd_rule() {
    local id="$1" controls="$2" title="$3" keyword="$4" value="$5" accept="$6" words="$7"
    register_rule "$id" "$controls" "$title"
    eval "apply_${id}() { sshd_rule_apply '$keyword' '$value' '$accept'; }"
    eval "audit_${id}() { sshd_rule_audit '$keyword' '$accept' '$words'; }"
}

sshd_rule sshd_log_level "cis:5.2.5,ssg:sshd_set_loglevel_info" "Ensure SSH LogLevel is appropriate" \
    LogLevel INFO '^(info|verbose)$' "INFO or VERBOSE"
sshd_rule sshd_permit_root_login "cis:5.2.7,ssg:sshd_disable_root_login" "Ensure SSH root login is disabled" \
    PermitRootLogin no '^no$' "no"
sshd_rule sshd_hostbased_authentication "cis:5.2.8,ssg:disable_host_auth" \
    "Ensure SSH HostbasedAuthentication is disabled" HostbasedAuthentication no '^no$' "no"
sshd_rule sshd_permit_empty_passwords "cis:5.2.9,ssg:sshd_disable_empty_passwords" \
    "Ensure SSH PermitEmptyPasswords is disabled" PermitEmptyPasswords no '^no$' "no"
sshd_rule sshd_permit_user_environment "cis:5.2.10,ssg:sshd_do_not_permit_user_env" \
    "Ensure SSH PermitUserEnvironment is disabled" PermitUserEnvironment no '^no$' "no"
sshd_rule sshd_ignore_rhosts "cis:5.2.11,ssg:sshd_disable_rhosts" "Ensure SSH IgnoreRhosts is enabled" \
    IgnoreRhosts yes '^yes$' "yes"
sshd_rule sshd_x11_forwarding "cis:5.2.12,ssg:sshd_disable_x11_forwarding" "Ensure SSH X11 forwarding is disabled" \
    X11Forwarding no '^no$' "no"
sshd_rule sshd_banner "cis:5.2.17,ssg:sshd_enable_warning_banner_net" "Ensure SSH warning banner is configured" \
    Banner /etc/issue.net '^/etc/issue\.net$' "/etc/issue.net"
sshd_rule sshd_max_auth_tries "cis:5.2.18,ssg:sshd_set_max_auth_tries" "Ensure SSH MaxAuthTries is set to 4 or less" \
    MaxAuthTries 4 '^[1-4]$' "1 to 4"
sshd_rule sshd_max_sessions "cis:5.2.20,ssg:sshd_set_max_sessions" "Ensure SSH MaxSessions is set to 10 or less" \
    MaxSessions 10 '^([1-9]|10)$' "1 to 10"
sshd_rule sshd_login_grace_time "cis:5.2.21,ssg:sshd_set_login_grace_time" \
    "Ensure SSH LoginGraceTime is set to one minute or less" LoginGraceTime 60 '^([1-9]|[1-5][0-9]|60|1m)$' \
    "1 to 60 seconds"
# OpenSSH 8.4 treats ClientAliveCountMax 0 as "never disconnect", so the CIS value (greater than zero) is used; the
# SSG/ANSSI check sshd_set_keepalive_0 (which wants 0) fails by design.
sshd_rule sshd_client_alive_interval "cis:5.2.22,ssg:sshd_set_idle_timeout" \
    "Ensure SSH Idle Timeout Interval is configured: ClientAliveInterval" ClientAliveInterval 300 \
    '^([1-9]|[1-9][0-9]|[12][0-9][0-9]|300)$' "1 to 300 seconds"
sshd_rule sshd_client_alive_count_max "cis:5.2.22" \
    "Ensure SSH Idle Timeout Interval is configured: ClientAliveCountMax" ClientAliveCountMax 3 '^[1-3]$' "1 to 3"
