# shellcheck shell=bash
# CIS 1.1.x: separate filesystems for /tmp, /var, /var/tmp, /var/log, /var/log/audit and /home.
# A root filesystem cannot create partitions: the disk layout (a later provider step or the consumer of the image)
# decides them. apply always reports skipped; audit reports pass when /etc/fstab (or the running system) has a
# separate filesystem for the mount point, skipped otherwise.

IF_PARTITION_REASON="partition layout is set by the disk, not the root filesystem"

# partition_defined <mount point>: /etc/fstab has an entry, or the running system has it mounted separately.
partition_defined() {
    local mount_point="$1"
    if [[ -f "$(p /etc/fstab)" ]] &&
        awk -v mp="$mount_point" '$1 !~ /^#/ && $2 == mp { found = 1 } END { exit !found }' "$(p /etc/fstab)"; then
        return 0
    fi
    [[ -z "$IF_ROOT" && -r /proc/self/mountinfo ]] &&
        awk -v mp="$mount_point" '$5 == mp { found = 1 } END { exit !found }' /proc/self/mountinfo
}

partition_apply() { skip "$IF_PARTITION_REASON; $1 must be a separate filesystem on the target disk"; }

partition_audit() {
    if partition_defined "$1"; then
        result pass "$1 is a separate filesystem"
    fi
    skip "$IF_PARTITION_REASON; $1 is not a separate filesystem here"
}

apply_fs_tmp_partition() { partition_apply /tmp; }
audit_fs_tmp_partition() { partition_audit /tmp; }

apply_fs_var_partition() { partition_apply /var; }
audit_fs_var_partition() { partition_audit /var; }

apply_fs_var_tmp_partition() { partition_apply /var/tmp; }
audit_fs_var_tmp_partition() { partition_audit /var/tmp; }

apply_fs_var_log_partition() { partition_apply /var/log; }
audit_fs_var_log_partition() { partition_audit /var/log; }

apply_fs_var_log_audit_partition() { partition_apply /var/log/audit; }
audit_fs_var_log_audit_partition() { partition_audit /var/log/audit; }

apply_fs_home_partition() { partition_apply /home; }
audit_fs_home_partition() { partition_audit /home; }
