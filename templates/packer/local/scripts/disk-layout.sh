#!/usr/bin/env bash
# Stage "layout" of the local target, between the scan before hardening and the hardening: decides the disk.
#
# The disk is GPT with an EFI system partition first and the root filesystem last (so cloud-init's growpart can
# grow it to the size of the cloud volume). disk_layout chooses what lies between:
#   single   ESP (128 MiB) + root (the rest)
#   cis      ESP, /tmp, /var, /var/log, /var/log/audit and /home each on their own ext4 partition, then root
# Every identifier (disk GUID, partition UUIDs, filesystem UUIDs, the ESP's volume id) is chosen here, at random per
# build, and written to <work_dir>/disk/layout.tsv, which the scan after hardening (the mount table it scans) and the
# export (the disk it assembles) read. The image gets the matching /etc/fstab, written before the hardening so the
# hardening audit and the scan after it see the fstab the disk really uses, and its first-boot configuration:
# cloud-init's datasources (NoCloud, EC2, Azure, GCE) and the mount points of the layout.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init layout

step "checking inputs"
require_env IMAGEFORGE_DISK_LAYOUT IMAGEFORGE_DISK_SIZE
if_paths
require_rootfs
layout="$IMAGEFORGE_DISK_LAYOUT"
disk_mib="$(size_to_mib "$IMAGEFORGE_DISK_SIZE")" ||
    die "disk_size '$IMAGEFORGE_DISK_SIZE' must be a whole number of MiB, with an M or G suffix (e.g. 2G, 1536M)"

# name  mount point  filesystem  size in MiB (0: the rest of the disk)  GPT type  mount options  fsck pass
# Types: the ESP; the Discoverable Partitions Specification's x86-64 root, /var and /home; generic Linux data for
# the others. Mount options follow the CIS Debian 11 benchmark (1.1.2 to 1.1.7): /tmp, /var/log and /var/log/audit
# nodev,nosuid,noexec; /var and /home nodev,nosuid (dpkg runs maintainer scripts from /var/lib/dpkg).
# The ESP has fsck pass 0: the image has no fsck.vfat (and nothing in it writes the ESP).
esp_row="esp /boot/efi vfat 128 C12A7328-F81F-11D2-BA4B-00A0C93EC93B umask=0077 0"
root_row="root / ext4 0 4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 errors=remount-ro 1"
linux_data="0FC63DAF-8483-4772-8E79-3D69D8477DE4"
case "$layout" in
    single)
        min_mib=1024
        rows=("$esp_row" "$root_row")
        ;;
    cis)
        min_mib=2048
        rows=("$esp_row"
            "tmp /tmp ext4 128 $linux_data nodev,nosuid,noexec 2"
            "var /var ext4 384 4D21B016-B534-45C2-A9FB-5C16E091FD2D nodev,nosuid 2"
            "var-log /var/log ext4 128 $linux_data nodev,nosuid,noexec 2"
            "var-log-audit /var/log/audit ext4 128 $linux_data nodev,nosuid,noexec 2"
            "home /home ext4 128 933AC7E1-2EB4-4F13-B844-0E14E2AEF915 nodev,nosuid 2"
            "$root_row")
        ;;
    *) die "disk_layout '$layout' is not one of single, cis" ;;
esac
((disk_mib >= min_mib)) || die "disk_layout $layout needs a disk_size of at least ${min_mib}M, got $IMAGEFORGE_DISK_SIZE"

step "choosing the $layout layout (${disk_mib} MiB)"
disk_dir="$IF_WORK_DIR/disk"
rm -rf "$disk_dir"
mkdir -p "$disk_dir"
new_uuid() { tr '[:upper:]' '[:lower:]' </proc/sys/kernel/random/uuid; }
table="$disk_dir/layout.tsv"
{
    printf 'disk\t%s\t%s\t%s\n' "$layout" "$disk_mib" "$(new_uuid)"
    # Partitions start at 1 MiB and are 1 MiB aligned; the last MiB holds the backup GPT.
    start=1
    number=1
    fixed=0
    for row in "${rows[@]}"; do
        read -r _ _ _ size _ <<<"$row"
        fixed=$((fixed + size))
    done
    for row in "${rows[@]}"; do
        read -r name mount fs size type options pass <<<"$row"
        ((size > 0)) || size=$((disk_mib - 2 - fixed))
        if [[ "$fs" == vfat ]]; then
            fs_id="$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n' | tr '[:lower:]' '[:upper:]')"
        else
            fs_id="$(new_uuid)"
        fi
        printf 'part\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$number" "$name" "$mount" "$fs" "$start" "$size" \
            "$type" "$(new_uuid)" "$fs_id" "$options" "$pass"
        start=$((start + size))
        number=$((number + 1))
    done
} >"$table"
awk -F'\t' '$1 == "part" { printf "  %-14s %-16s %-5s %6d MiB  %s\n", $3, $4, $5, $7, $11 }' "$table"

step "writing /etc/fstab"
r="$IF_ROOTFS"
{
    printf '# /etc/fstab of the %s disk layout, written by ImageForge (filesystems by UUID).\n' "$layout"
    printf '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>\n'
    # Parents before children (/var before /var/log), as mount order requires.
    awk -F'\t' -v OFS='\t' '$1 == "part" {
        id = ($5 == "vfat") ? substr($10, 1, 4) "-" substr($10, 5, 4) : $10
        print length($4), "UUID=" id, $4, $5, "defaults," $11, 0, $12
    }' "$table" | LC_ALL=C sort -n -s -k1,1 | cut -f2-
} >"$r/etc/fstab.partial"
chmod 0644 "$r/etc/fstab.partial"
mv -f "$r/etc/fstab.partial" "$r/etc/fstab"
# Mount points must exist in the filesystem below them; /tmp keeps its sticky, world-writable mode.
while IFS=$'\t' read -r kind _ _ mount _; do
    [[ "$kind" == part && "$mount" != / ]] || continue
    [[ -d "$r$mount" ]] || mkdir -p "$r$mount"
done <"$table"
chmod 1777 "$r/tmp"

step "configuring first boot"
# cloud-init finds its datasource among these (ds-identify checks each, in order): NoCloud for a seed disk (the boot
# test), then the three clouds this disk is made for; None lets the boot finish when none is found. The locale is
# C.UTF-8 (built into libc): cloud-init 20.4 would set en_US.UTF-8, which Debian's locale-gen does not generate on
# request, and its failing locale module fails cloud-config.service on the first boot.
if [[ -d "$r/etc/cloud/cloud.cfg.d" ]]; then
    printf '%s\n' "# Written by ImageForge: the clouds this disk is imported into, and NoCloud for its boot test." \
        "datasource_list: [NoCloud, Ec2, Azure, GCE, None]" "locale: C.UTF-8" \
        >"$r/etc/cloud/cloud.cfg.d/90_imageforge.cfg"
    chmod 0644 "$r/etc/cloud/cloud.cfg.d/90_imageforge.cfg"
else
    echo "cloud-init is not installed in the image: the disk will boot without first-boot provisioning" >&2
fi
printf 'layout %s: %s partitions, fstab with %s entries\n' "$layout" "$(grep -c '^part' "$table")" \
    "$(grep -c '^UUID=' "$r/etc/fstab")"
