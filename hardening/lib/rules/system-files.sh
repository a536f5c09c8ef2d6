# shellcheck shell=bash
# CIS 6.1.1-6.1.8: account database files and their backups ("-" suffix, written by the shadow tools).

apply_etc_passwd_perms() { perms_rule_apply 0644 root root /etc/passwd; }
audit_etc_passwd_perms() { perms_rule_audit 0644 root root /etc/passwd; }

apply_etc_passwd_backup_perms() { perms_rule_apply 0644 root root /etc/passwd-; }
audit_etc_passwd_backup_perms() { perms_rule_audit 0644 root root /etc/passwd-; }

apply_etc_group_perms() { perms_rule_apply 0644 root root /etc/group; }
audit_etc_group_perms() { perms_rule_audit 0644 root root /etc/group; }

apply_etc_group_backup_perms() { perms_rule_apply 0644 root root /etc/group-; }
audit_etc_group_backup_perms() { perms_rule_audit 0644 root root /etc/group-; }

# Debian's shadow files belong to group shadow (read by unix_chkpwd); CIS accepts root or shadow.
apply_etc_shadow_perms() { perms_rule_apply 0640 root "shadow root" /etc/shadow; }
audit_etc_shadow_perms() { perms_rule_audit 0640 root "shadow root" /etc/shadow; }

apply_etc_shadow_backup_perms() { perms_rule_apply 0640 root "shadow root" /etc/shadow-; }
audit_etc_shadow_backup_perms() { perms_rule_audit 0640 root "shadow root" /etc/shadow-; }

apply_etc_gshadow_perms() { perms_rule_apply 0640 root "shadow root" /etc/gshadow; }
audit_etc_gshadow_perms() { perms_rule_audit 0640 root "shadow root" /etc/gshadow; }

apply_etc_gshadow_backup_perms() { perms_rule_apply 0640 root "shadow root" /etc/gshadow-; }
audit_etc_gshadow_backup_perms() { perms_rule_audit 0640 root "shadow root" /etc/gshadow-; }
