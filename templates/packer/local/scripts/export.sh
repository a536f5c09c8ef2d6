#!/usr/bin/env bash
# Stage 4 of the local target: export the root filesystem (cleaned by the clean stage) into output_dir:
#   rootfs.tar.zst   tar (numeric owners, xattrs, ACLs, sorted names) compressed with zstd
#   disk.raw         the bootable GPT/UEFI disk of the layout stage (<work_dir>/disk/layout.tsv), assembled without
#                    loop devices or mounts: every filesystem is made in place at its partition's offset
#                    (mkfs.ext4 -d -E offset, mkfs.vfat --offset, mtools for the ESP's one file), the partition table
#                    with sfdisk on the image file
#   disk.vhd         (disk_formats vhd) the same disk as a fixed VHD (qemu-img convert -O vpc): the raw bytes and a
#                    512-byte footer, virtual size = disk.raw's size (a multiple of 1 MiB)
#   disk.tar.gz      (disk_formats tar-gz) a GNU tar holding exactly disk.raw, gzip-compressed (GCP's import format)
#   disk.json        what the disk is: layout, partitions and their identifiers, kernel command line, formats
#   <file>.sha256    sha256sum format with the bare file name, for every artifact and both reports, computed once,
#                    while the file is written (streams) or in one sparse-aware pass (disk.raw and disk.vhd together)
#
# The flavours stage runs it again for each flavour with IMAGEFORGE_EXPORT_FLAVOUR=<name> and IMAGEFORGE_TREE=<its
# tree>: then it writes only that tree's disk, as disk-<name>.raw (+ disk-<name>.vhd, disk-<name>.tar.gz holding
# disk.raw), with the same layout and identifiers, and leaves the work directory's memory to its caller.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
flavour="${IMAGEFORGE_EXPORT_FLAVOUR:-}"
if [[ -n "$flavour" ]]; then if_init flavours; else if_init export; fi
[[ -z "$flavour" || "$flavour" =~ ^[a-z][a-z0-9-]*$ ]] || die "IMAGEFORGE_EXPORT_FLAVOUR: '$flavour' is not a flavour name"
# File names: disk.raw... for the base disk, disk-<flavour>.raw... for a flavour's.
disk_name="disk${flavour:+-$flavour}"

step "checking inputs"
require_env IMAGEFORGE_OUTPUT_DIR IMAGEFORGE_DISK_FORMATS
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_rootfs
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
scripts="$(dirname "${BASH_SOURCE[0]}")"
want_vhd=0
want_tar=0
IFS=',' read -r -a formats <<<"$IMAGEFORGE_DISK_FORMATS"
for format in "${formats[@]}"; do
    case "$format" in
        raw) ;;
        vhd) want_vhd=1 ;;
        tar-gz) want_tar=1 ;;
        *) die "disk_formats: '$format' is not one of raw, vhd, tar-gz" ;;
    esac
done
[[ ",$IMAGEFORGE_DISK_FORMATS," == *,raw,* ]] || die "disk_formats must include raw (the other formats are made from it)"
for tool in sfdisk mkfs.ext4 mkfs.vfat mmd mcopy grub-mkstandalone python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed on the build machine (run eng/prereqs.sh)"
done
((!want_vhd)) || command -v qemu-img >/dev/null 2>&1 || die "qemu-img is not installed (run eng/prereqs.sh)"
[[ -d /usr/lib/grub/x86_64-efi ]] || die "GRUB's x86_64-efi modules are missing (run eng/prereqs.sh: grub-efi-amd64-bin)"
disk_dir="$IF_WORK_DIR/disk"
read -r _ layout disk_mib disk_guid < <(grep '^disk' "$disk_dir/layout.tsv" 2>/dev/null || true)
[[ -n "${disk_guid:-}" ]] || die "no disk layout in $disk_dir/layout.tsv (did the layout stage run with the same work_dir?)"
mapfile -t rows < <(layout_rows)
mkdir -p "$output_dir"
leftover="$(mounts_inside "$IF_ROOTFS")"
[[ -z "$leftover" ]] || die "mounts are active below $IF_ROOTFS, refusing to export: $leftover"

r="$IF_ROOTFS"

step "writing $disk_name.raw ($layout layout, $disk_mib MiB, GPT/UEFI)"
# The disk is assembled in the work directory's memory (the tmpfs that holds the tree: mke2fs syncs its file when it
# is done, which costs nothing there) and copied out once, sparse, when it is complete and hashed.
stage="$IF_MEM/$disk_name"
rm -rf "$stage"
mkdir -p "$stage"
# (Assembled as disk.raw, the one member of a disk.tar.gz whichever disk it is.)
partial="$stage/disk.raw"
rm -f "$output_dir/$disk_name.raw" "$output_dir/$disk_name.vhd" "$output_dir/$disk_name.tar.gz"
truncate -s "${disk_mib}M" "$partial"

# The table first. Its identifiers come from the layout, so /etc/fstab and GRUB's configuration agree with it.
{
    printf 'label: gpt\nlabel-id: %s\nunit: sectors\nfirst-lba: 2048\n' "$disk_guid"
    for row in "${rows[@]}"; do
        IFS=$'\t' read -r _ name _ _ start size type partuuid _ <<<"$row"
        printf 'start=%s, size=%s, type=%s, uuid=%s, name="%s"\n' $((start * 2048)) $((size * 2048)) "$type" \
            "$partuuid" "$name"
    done
} >"$disk_dir/sfdisk.script"
sfdisk --quiet --no-reread --no-tell-kernel --wipe never --wipe-partitions never "$partial" <"$disk_dir/sfdisk.script" \
    >"$IF_LOG_DIR/sfdisk.log" 2>&1 || { cat "$IF_LOG_DIR/sfdisk.log" >&2; die "sfdisk could not write the partition table"; }

# Each filesystem is made from its own tree: a hard-link copy (cp -al, within the work directory's tmpfs: no file
# data is copied) of its subtree in which the mount points of the filesystems below it are emptied, so /var/log/audit's
# files go to their own partition and the /var/log partition keeps an empty audit directory (mode and owner kept).
# The tree itself stays whole, so rootfs.tar.zst is written from it while the filesystems are made.
trees="$IF_MEM/trees${flavour:+-$flavour}"
rm -rf "$trees"
mkdir -p "$trees"
separate=()
for row in "${rows[@]}"; do
    IFS=$'\t' read -r _ _ mount fs _ <<<"$row"
    [[ "$fs" != ext4 || "$mount" == / ]] || separate+=("$mount")
done
for row in "${rows[@]}"; do
    IFS=$'\t' read -r _ name mount fs _ <<<"$row"
    [[ "$fs" == ext4 ]] || continue
    cp -al "$r${mount%/}" "$trees/$name"
    for below in "${separate[@]}"; do
        [[ "$below" != "$mount" && "$below" == "${mount%/}/"* ]] || continue
        # (Already gone when a mount point above it was emptied: /var's copy loses log/audit with log.)
        [[ ! -d "$trees/$name${below#"${mount%/}"}" ]] || find "$trees/$name${below#"${mount%/}"}" -mindepth 1 -delete
    done
done

pids=()
if [[ -z "$flavour" ]]; then
    # pax headers without atime/ctime and sorted names keep the archive stable for an unchanged tree. Hashed once,
    # right after it is written, from the page cache (about 130 MiB: cheaper than teeing the stream into a hasher).
    (
        rm -f "$output_dir/rootfs.tar.zst"
        tar --create --file=- --directory="$r" --numeric-owner --xattrs --xattrs-include='*' --acls --sort=name \
            --one-file-system --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' . |
            zstd -T0 -q -f -o "$output_dir/rootfs.tar.zst.partial"
        mv -f "$output_dir/rootfs.tar.zst.partial" "$output_dir/rootfs.tar.zst"
        sha256_file "$output_dir" rootfs.tar.zst
    ) &
    pids+=("$!")
fi

# mkfs.ext4 runs with the image's own mke2fs.conf, so the e2fsck inside the image knows every feature it uses.
mke2fs_config="/etc/mke2fs.conf"
[[ ! -f "$r/etc/mke2fs.conf" ]] || mke2fs_config="$r/etc/mke2fs.conf"
root_uuid=""
root_partuuid=""
esp_offset=""
# make_fs <name> <mount> <fs> <start MiB> <size MiB> <fs id> <tree>: one filesystem, in place at its offset.
make_fs() {
    local name="$1" mount="$2" fs="$3" start="$4" size="$5" fs_id="$6" tree="$7" log="$IF_LOG_DIR/mkfs-$1.log"
    case "$fs" in
        ext4)
            # -I 256 also for the small ones (mke2fs.conf's "small" type would give 128-byte inodes: no dates
            # after 2038).
            if ! MKE2FS_CONFIG="$mke2fs_config" mkfs.ext4 -F -q -I 256 -L "$name" -U "$fs_id" \
                -E "offset=$((start * 1048576)),nodiscard" -d "$tree" "$partial" "$((size * 1024))k" >"$log" 2>&1; then
                cat "$log" >&2
                die "mkfs.ext4 could not build the $size MiB $mount filesystem from $(du -sm --apparent-size "$tree" | cut -f1) MiB of files: raise disk_size"
            fi
            # mkfs.ext4 -d gives the filesystem's own root directory 0755 root:root; mounted, that directory is the
            # mount point the machine sees (/tmp must stay 1777, /var/log/audit 0700), so it gets the tree's.
            printf 'sif / mode 04%04d\nsif / uid %s\nsif / gid %s\n' "$(stat -c %a "$tree")" "$(stat -c %u "$tree")" \
                "$(stat -c %g "$tree")" | debugfs -w -f - "$partial?offset=$((start * 1048576))" >>"$log" 2>&1 ||
                { cat "$log" >&2; die "could not give the $mount filesystem's root directory its mode and owner"; }
            ;;
        vfat)
            # FAT32 with 512-byte clusters: enough clusters for FAT32 in 128 MiB, as the UEFI specification asks.
            mkfs.vfat -F 32 -s 1 -S 512 -n ESP -i "$fs_id" --offset=$((start * 2048)) "$partial" $((size * 1024)) \
                >"$log" 2>&1 || { cat "$log" >&2; die "mkfs.vfat could not build the EFI system partition"; }
            ;;
        *) die "layout.tsv: unknown filesystem '$fs' for $mount" ;;
    esac
}
# The root filesystem (most of the files) runs beside the small ones; each writes only its own partition's range.
mkfs_pids=()
for row in "${rows[@]}"; do
    IFS=$'\t' read -r _ name mount fs start size _ partuuid fs_id _ <<<"$row"
    tree="$trees/$name"
    if [[ "$mount" == / ]]; then
        root_uuid="$fs_id"
        root_partuuid="$partuuid"
    fi
    [[ "$fs" != vfat ]] || esp_offset=$((start * 1048576))
    make_fs "$name" "$mount" "$fs" "$start" "$size" "$fs_id" "$tree" &
    mkfs_pids+=("$!")
done
for pid in "${mkfs_pids[@]}"; do
    wait "$pid" || die "a filesystem of the disk could not be made (logs: $IF_LOG_DIR/mkfs-*.log)"
done
# (The copies stay until the memory is released: unlinking them now would change the ctime of files tar is reading.)
[[ -n "$root_uuid" && -n "$esp_offset" ]] || die "the layout has no root filesystem or no EFI system partition"

# GRUB as one EFI binary with its configuration inside (no boot loader package in the image, nothing on the ESP to
# update), at the removable-media path every UEFI firmware boots. It finds the root filesystem by UUID and boots what
# the image's /vmlinuz and /initrd.img point to (Debian moves them to the newest kernel it installs).
cmdline="root=PARTUUID=$root_partuuid ro console=tty0 console=ttyS0,115200"
if [[ ! -e "$r/vmlinuz" || ! -e "$r/initrd.img" ]]; then
    echo "imageforge-warning: the image has no /vmlinuz or /initrd.img: the disk cannot boot (the boot test shows it)" >&2
fi
{
    # all_video: the kernel gets a framebuffer for the clouds' screenshot consoles (and GRUB no video-mode error).
    printf '%s\n' "insmod all_video" "serial --unit=0 --speed=115200" "terminal_input serial console" \
        "terminal_output serial console"
    printf 'search --no-floppy --fs-uuid --set=root %s\n' "$root_uuid"
    printf 'if linux /vmlinuz %s; then\n    if initrd /initrd.img; then\n        boot\n    fi\nfi\n' "$cmdline"
    # One line within GRUB's 80 columns, so the boot test quotes all of it.
    printf 'echo "imageforge-boot-failed: GRUB could not load /vmlinuz and /initrd.img"\n'
    printf '%s\n' "sleep 2" "halt"
} >"$disk_dir/grub.cfg"
grub-mkstandalone --format=x86_64-efi --output="$disk_dir/BOOTX64.EFI" --locales="" --themes="" --fonts="" \
    --modules="part_gpt ext2 fat search search_fs_uuid linux echo sleep halt test serial terminal" \
    "boot/grub/grub.cfg=$disk_dir/grub.cfg" >"$IF_LOG_DIR/grub-mkstandalone.log" 2>&1 ||
    { cat "$IF_LOG_DIR/grub-mkstandalone.log" >&2; die "grub-mkstandalone could not build the EFI boot loader"; }
esp="$partial@@$esp_offset"
MTOOLS_SKIP_CHECK=1 mmd -i "$esp" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -i "$esp" "$disk_dir/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
sfdisk --verify "$partial" >"$IF_LOG_DIR/sfdisk-verify.log" 2>&1 ||
    { cat "$IF_LOG_DIR/sfdisk-verify.log" >&2; die "the partition table of disk.raw does not verify"; }
made=(raw)

# Everything below reads what is finished (disk.raw) and runs side by side, and beside rootfs.tar.zst.
outputs=()
[[ -n "$flavour" ]] || outputs+=(rootfs.tar.zst)
((!want_vhd)) || outputs+=("$disk_name.vhd")
((!want_tar)) || outputs+=("$disk_name.tar.gz")
step "writing $(printf '%s, ' "${outputs[@]}")hashing the disk"
hashed=(disk.raw)
if ((want_vhd)); then
    hashed+=("$disk_name.vhd")
    made+=(vhd)
fi
(
    if ((want_vhd)); then
        # force_size: the virtual size is exactly disk.raw's, not rounded to a CHS geometry. Zero blocks stay holes.
        qemu-img convert -f raw -O vpc -o subformat=fixed,force_size "$partial" "$output_dir/$disk_name.vhd.partial"
        mv -f "$output_dir/$disk_name.vhd.partial" "$output_dir/$disk_name.vhd"
    fi
    # One sparse-aware pass over disk.raw copies it out of memory into output_dir and gives both digests (a fixed VHD
    # is the raw bytes followed by its footer).
    python3 "$scripts/disk-sha256.py" --copy-to "$output_dir" --as "$disk_name.raw" "$stage" "${hashed[@]}"
) &
pids+=("$!")
if ((want_tar)); then
    # GNU format with sparse members, as GCP's image import takes it; disk.raw is the archive's only member. Level 1:
    # the holes and zero blocks compress the same at any level, and the data blocks gain little from a higher one.
    gzip=(gzip -1 -c)
    ! command -v pigz >/dev/null 2>&1 || gzip=(pigz -1 -c)
    (tar --create --file=- --format=gnu --sparse --directory="$stage" disk.raw | "${gzip[@]}" |
        hash_stream "$output_dir" "$disk_name.tar.gz") &
    pids+=("$!")
    made+=(tar-gz)
fi
if [[ -z "$flavour" ]]; then
    for name in packages.tsv hardening-report.tsv; do
        [[ -f "$output_dir/$name" ]] || die "$output_dir/$name is missing"
        sha256_file "$output_dir" "$name"
    done
fi
for pid in "${pids[@]}"; do
    wait "$pid" || die "could not write or hash the artifacts in $output_dir"
done
if [[ -n "$flavour" ]]; then
    # The flavour's disk has the base disk's layout (disk.json); its memory is its caller's to release.
    rm -rf "$stage" "$trees"
    for name in "$disk_name.raw" "$disk_name.vhd" "$disk_name.tar.gz"; do
        [[ ! -f "$output_dir/$name" ]] || printf '%s: %s bytes\n' "$name" "$(stat -c %s "$output_dir/$name")"
    done
    exit 0
fi

step "writing disk.json"
python3 "$scripts/disk-json.py" "$disk_dir/layout.tsv" "$cmdline" "$(IFS=,; printf '%s' "${made[*]}")" \
    >"$output_dir/disk.json.partial"
mv -f "$output_dir/disk.json.partial" "$output_dir/disk.json"
sha256_file "$output_dir" disk.json
for name in rootfs.tar.zst disk.raw disk.vhd disk.tar.gz; do
    [[ -f "$output_dir/$name" ]] || continue
    printf '%s: %s bytes (%s on disk)\n' "$name" "$(stat -c %s "$output_dir/$name")" \
        "$(du -h "$output_dir/$name" | cut -f1)"
done

step "releasing the work directory's memory"
# Everything after this stage reads the artifacts, not the tree.
release_memory
