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

# The kernel's symbol maps (/boot/System.map-<version>) give addresses to whoever can read them; SSG wants them
# readable by root only. Debian installs them 0644; a kernel installed later in the machine brings its own again.
# (A plain loop, no process substitution: a bare chroot has no /proc.)
systemmap_rule() {
    local mode="$1" file files=()
    for file in "$(p /boot)"/System.map-*; do
        [[ ! -e "$file" ]] || files+=("${file#"$IF_ROOT"}")
    done
    "perms_rule_$mode" 0600 root root "${files[@]:-/boot/System.map}"
}
apply_systemmap_perms() { systemmap_rule apply; }
audit_systemmap_perms() { systemmap_rule audit; }
