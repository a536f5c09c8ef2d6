# shellcheck shell=bash
# CIS 5.1: permissions of the cron configuration. The section applies only when a cron daemon is installed.

cron_require() {
    cron_installed || skip "cron is not installed"
}

apply_cron_crontab_perms() {
    cron_require
    perms_rule_apply 0600 root root /etc/crontab
}
audit_cron_crontab_perms() {
    cron_require
    perms_rule_audit 0600 root root /etc/crontab
}

IF_CRON_DIRS=(/etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly /etc/cron.d)
apply_cron_dirs_perms() {
    cron_require
    perms_rule_apply 0700 root root "${IF_CRON_DIRS[@]}"
}
audit_cron_dirs_perms() {
    cron_require
    perms_rule_audit 0700 root root "${IF_CRON_DIRS[@]}"
}
