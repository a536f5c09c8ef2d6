# shellcheck shell=bash
# CIS 6.1.1-6.1.8: account database files and their backups ("-" suffix, written by the shadow tools).

register_rule etc_passwd_perms "cis:6.1.1,ssg:file_owner_etc_passwd,ssg:file_groupowner_etc_passwd,ssg:file_permissions_etc_passwd" \
    "Ensure permissions on /etc/passwd are configured"
apply_etc_passwd_perms() { perms_rule_apply 0644 root root /etc/passwd; }
audit_etc_passwd_perms() { perms_rule_audit 0644 root root /etc/passwd; }

register_rule etc_passwd_backup_perms "cis:6.1.2,ssg:file_owner_backup_etc_passwd,ssg:file_groupowner_backup_etc_passwd,ssg:file_permissions_backup_etc_passwd" \
    "Ensure permissions on /etc/passwd- are configured"
apply_etc_passwd_backup_perms() { perms_rule_apply 0644 root root /etc/passwd-; }
audit_etc_passwd_backup_perms() { perms_rule_audit 0644 root root /etc/passwd-; }

register_rule etc_group_perms "cis:6.1.3,ssg:file_owner_etc_group,ssg:file_groupowner_etc_group,ssg:file_permissions_etc_group" \
    "Ensure permissions on /etc/group are configured"
apply_etc_group_perms() { perms_rule_apply 0644 root root /etc/group; }
audit_etc_group_perms() { perms_rule_audit 0644 root root /etc/group; }

register_rule etc_group_backup_perms "cis:6.1.4,ssg:file_owner_backup_etc_group,ssg:file_groupowner_backup_etc_group,ssg:file_permissions_backup_etc_group" \
    "Ensure permissions on /etc/group- are configured"
apply_etc_group_backup_perms() { perms_rule_apply 0644 root root /etc/group-; }
audit_etc_group_backup_perms() { perms_rule_audit 0644 root root /etc/group-; }

# Debian's shadow files belong to group shadow (read by unix_chkpwd); CIS accepts root or shadow.
register_rule etc_shadow_perms "cis:6.1.5,ssg:file_owner_etc_shadow,ssg:file_groupowner_etc_shadow,ssg:file_permissions_etc_shadow" \
    "Ensure permissions on /etc/shadow are configured"
apply_etc_shadow_perms() { perms_rule_apply 0640 root "shadow root" /etc/shadow; }
audit_etc_shadow_perms() { perms_rule_audit 0640 root "shadow root" /etc/shadow; }

register_rule etc_shadow_backup_perms "cis:6.1.6,ssg:file_owner_backup_etc_shadow,ssg:file_groupowner_backup_etc_shadow,ssg:file_permissions_backup_etc_shadow" \
    "Ensure permissions on /etc/shadow- are configured"
apply_etc_shadow_backup_perms() { perms_rule_apply 0640 root "shadow root" /etc/shadow-; }
audit_etc_shadow_backup_perms() { perms_rule_audit 0640 root "shadow root" /etc/shadow-; }

register_rule etc_gshadow_perms "cis:6.1.7,ssg:file_owner_etc_gshadow,ssg:file_groupowner_etc_gshadow,ssg:file_permissions_etc_gshadow" \
    "Ensure permissions on /etc/gshadow are configured"
apply_etc_gshadow_perms() { perms_rule_apply 0640 root "shadow root" /etc/gshadow; }
audit_etc_gshadow_perms() { perms_rule_audit 0640 root "shadow root" /etc/gshadow; }

register_rule etc_gshadow_backup_perms "cis:6.1.8,ssg:file_owner_backup_etc_gshadow,ssg:file_groupowner_backup_etc_gshadow,ssg:file_permissions_backup_etc_gshadow" \
    "Ensure permissions on /etc/gshadow- are configured"
apply_etc_gshadow_backup_perms() { perms_rule_apply 0640 root "shadow root" /etc/gshadow-; }
audit_etc_gshadow_backup_perms() { perms_rule_audit 0640 root "shadow root" /etc/gshadow-; }
