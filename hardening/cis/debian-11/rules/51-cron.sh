# shellcheck shell=bash
# CIS 5.1: permissions of the cron configuration. The section applies only when a cron daemon is installed.

cron_require() {
    cron_installed || skip "cron is not installed"
}

register_rule cron_crontab_perms "cis:5.1.2" "Ensure permissions on /etc/crontab are configured"
apply_cron_crontab_perms() {
    cron_require
    perms_rule_apply 0600 root root /etc/crontab
}
audit_cron_crontab_perms() {
    cron_require
    perms_rule_audit 0600 root root /etc/crontab
}

IF_CRON_DIRS=(/etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly /etc/cron.d)
register_rule cron_dirs_perms "cis:5.1.3,cis:5.1.4,cis:5.1.5,cis:5.1.6,cis:5.1.7" \
    "Ensure permissions on /etc/cron.hourly, cron.daily, cron.weekly, cron.monthly and cron.d are configured"
apply_cron_dirs_perms() {
    cron_require
    perms_rule_apply 0700 root root "${IF_CRON_DIRS[@]}"
}
audit_cron_dirs_perms() {
    cron_require
    perms_rule_audit 0700 root root "${IF_CRON_DIRS[@]}"
}
