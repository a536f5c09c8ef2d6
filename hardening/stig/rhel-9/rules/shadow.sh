# shellcheck shell=bash
# RHEL keeps /etc/shadow and /etc/gshadow (and their "-" backups) at mode 0000, owned by root:root: only root (with
# CAP_DAC_OVERRIDE) reads them, there is no shadow group. Debian's 0640 root:shadow rules do not fit, hence this
# RHEL-only rule, kept with the profile rather than in the shared library.

IF_RHEL_SHADOW_FILES=(/etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow-)

apply_etc_shadow_files_perms() { perms_rule_apply 0000 root root "${IF_RHEL_SHADOW_FILES[@]}"; }
audit_etc_shadow_files_perms() { perms_rule_audit 0000 root root "${IF_RHEL_SHADOW_FILES[@]}"; }
