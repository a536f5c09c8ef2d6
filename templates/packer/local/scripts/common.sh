# shellcheck shell=bash
# Shared by the local target's stage scripts (bootstrap, harden, inventory, export). Sourced, never executed.
#
# Conventions:
#   - every stage prints "imageforge-step: <stage> | <text>" at the start of each step (the C# side turns these
#     into live progress); other output stays short;
#   - a failure prints "imageforge-error: <stage> | <message>" on stderr and exits 1;
#   - inputs arrive as IMAGEFORGE_* environment variables set by the template's environment_vars;
#   - commands inside the image run through if_chroot with a clean environment (no host variable, no secret).

IF_STAGE="unknown"
IF_CHROOT_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IF_POLICY_RCD_MARK="# imageforge: temporary policy-rc.d, no service may start while the image is built"

# Packer 1.6.6 leaks file descriptors into shell-local children, and mmdebstrap then fails with "Bad fd number".
# Close every inherited descriptor above 2, except the one bash reads the running script from.
if_close_inherited_fds() {
    local entry fd target script
    script="$(readlink -f "$0")"
    for entry in "/proc/$$/fd/"*; do
        fd="${entry##*/}"
        [[ "$fd" =~ ^[0-9]+$ ]] || continue
        ((fd > 2)) || continue
        target="$(readlink "$entry" 2>/dev/null || true)"
        [[ -n "$target" && "$target" != "$script" ]] || continue
        exec {fd}>&-
    done
}

# if_init <stage>: first call of every stage script.
if_init() {
    IF_STAGE="$1"
    if_close_inherited_fds
    export LC_ALL=C
    umask 022
    trap 'if_on_error $? $LINENO "$BASH_COMMAND"' ERR
    # Turn termination signals into a normal exit so EXIT traps (cleanup of secrets, policy-rc.d) still run.
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

if_on_error() {
    local rc="$1" line="$2" command="$3"
    trap - ERR
    printf 'imageforge-error: %s | command failed with exit %s at %s line %s: %s\n' \
        "$IF_STAGE" "$rc" "${0##*/}" "$line" "$command" >&2
    exit "$rc"
}

step() { printf 'imageforge-step: %s | %s\n' "$IF_STAGE" "$*"; }

die() {
    trap - ERR
    printf 'imageforge-error: %s | %s\n' "$IF_STAGE" "$*" >&2
    exit 1
}

# require_env <NAME>...: each variable must be set and non-empty.
require_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$name is not set (the Packer template passes it from the variable of the same name)"
    done
}

# require_abs_path <NAME>: the variable holds an absolute path that is not / and has no whitespace or newline.
require_abs_path() {
    local name="$1" value="${!1:-}"
    [[ "$value" == /* ]] || die "$name must be an absolute path, got '$value'"
    [[ "$value" != "/" && ! "$value" =~ [[:space:]] ]] || die "$name must not be / or contain whitespace, got '$value'"
    [[ ! "$value" =~ (^|/)\.\.(/|$) ]] || die "$name must not contain '..', got '$value'"
}

# The stage layout below work_dir. Everything temporary lives here; the C# side removes work_dir afterwards.
if_paths() {
    require_env IMAGEFORGE_WORK_DIR
    require_abs_path IMAGEFORGE_WORK_DIR
    IF_WORK_DIR="${IMAGEFORGE_WORK_DIR%/}"
    # A tmpfs (made by the bootstrap) holding the tree and the disk while it is assembled.
    IF_MEM="$IF_WORK_DIR/mem"
    IF_ROOTFS="$IF_MEM/rootfs"
    # The flavours stage runs the clean and export stages again on a flavour's copy of the tree (below mem).
    if [[ -n "${IMAGEFORGE_TREE:-}" ]]; then
        [[ "$IMAGEFORGE_TREE" == "$IF_MEM/"* && ! "$IMAGEFORGE_TREE" =~ (^|/)\.\.(/|$) ]] ||
            die "IMAGEFORGE_TREE must be a tree below $IF_MEM, got '$IMAGEFORGE_TREE'"
        IF_ROOTFS="${IMAGEFORGE_TREE%/}"
    fi
    # IMAGEFORGE_ROOT=/: the stage runs on a running system (a cloud template's instance) instead of the tree.
    if [[ -n "${IMAGEFORGE_ROOT:-}" ]]; then
        [[ "$IMAGEFORGE_ROOT" == / ]] || die "IMAGEFORGE_ROOT must be / (the running system) or unset, got '$IMAGEFORGE_ROOT'"
        IF_ROOTFS=/
    fi
    IF_LOG_DIR="$IF_WORK_DIR/logs"
    mkdir -p "$IF_LOG_DIR"
}

require_rootfs() {
    [[ -x "$IF_ROOTFS/bin/sh" && -d "$IF_ROOTFS/var/lib/dpkg" ]] ||
        die "no root filesystem at $IF_ROOTFS (did the bootstrap stage run with the same work_dir?)"
}

# mounts_below <dir>: prints mount points at or below dir (from the mount table of this process).
mounts_below() {
    awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo
}

# mounts_inside <dir>: mount points strictly below dir.
mounts_inside() {
    awk -v dir="$1" 'index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo
}

# acquire_memory: <work_dir>/mem as a tmpfs (the tree and the disk being assembled live there: faster to write, to
# scan and to read, and gone with one unmount); a plain directory where no tmpfs can be mounted.
acquire_memory() {
    [[ ! -e "$IF_MEM" ]] || release_memory
    mkdir -m 0755 "$IF_MEM"
    if ! mount -t tmpfs -o mode=0755 imageforge-work "$IF_MEM" 2>"$IF_LOG_DIR/tmpfs.log"; then
        echo "note: no tmpfs for the work directory ($(cat "$IF_LOG_DIR/tmpfs.log")); using $IF_MEM on disk" >&2
    fi
}

# release_memory: <work_dir>/mem goes, unmounted when it is a tmpfs (its contents with it, at once), deleted
# otherwise. Refuses while anything is mounted inside it (a chroot's /proc, a scan's bind mount).
release_memory() {
    local leftover
    leftover="$(mounts_inside "$IF_MEM")"
    [[ -z "$leftover" ]] || die "mounts are still active below $IF_MEM: $leftover"
    if mountpoint -q "$IF_MEM"; then
        umount "$IF_MEM"
    fi
    rm -rf --one-file-system "$IF_MEM"
}

# if_chroot <command...>: runs a command inside the image with a clean environment.
if_chroot() {
    chroot "$IF_ROOTFS" /usr/bin/env -i PATH="$IF_CHROOT_PATH" LC_ALL=C HOME=/root TERM=dumb \
        DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true "$@"
}

# A policy-rc.d that denies every service start inside the image. An existing one (not ours) is kept aside and put
# back by remove_policy_rcd.
install_policy_rcd() {
    local file="$IF_ROOTFS/usr/sbin/policy-rc.d"
    if [[ -e "$file" ]] && ! grep -qxF "$IF_POLICY_RCD_MARK" "$file"; then
        mv "$file" "$IF_WORK_DIR/policy-rc.d.saved"
    fi
    printf '#!/bin/sh\n%s\nexit 101\n' "$IF_POLICY_RCD_MARK" >"$file"
    chmod 0755 "$file"
}

remove_policy_rcd() {
    local file="$IF_ROOTFS/usr/sbin/policy-rc.d"
    if [[ -f "$file" ]] && grep -qxF "$IF_POLICY_RCD_MARK" "$file"; then
        rm -f "$file"
    fi
    if [[ -e "$IF_WORK_DIR/policy-rc.d.saved" ]]; then
        mv "$IF_WORK_DIR/policy-rc.d.saved" "$file"
    fi
}

# installed_packages: names of the packages dpkg lists as installed in the image, sorted.
installed_packages() {
    dpkg-query --admindir="$IF_ROOTFS/var/lib/dpkg" -W -f='${db:Status-Status} ${Package}\n' |
        awk '$1 == "installed" { print $2 }' | LC_ALL=C sort
}

# sha256_file <dir> <name>: writes <name>.sha256 in sha256sum format ("<hex>  <name>") with the bare file name.
# openssl uses the CPU's SHA extensions and is about twice as fast as coreutils here; sha256sum is the fallback.
sha256_file() {
    local dir="$1" name="$2" digest
    if command -v openssl >/dev/null 2>&1; then
        digest="$(cd "$dir" && openssl dgst -sha256 -r -- "$name")"
        digest="${digest%% *}"
        [[ "$digest" =~ ^[0-9a-f]{64}$ ]] || die "openssl returned no SHA-256 for $dir/$name"
        printf '%s  %s\n' "$digest" "$name" >"$dir/$name.sha256.tmp"
    else
        (cd "$dir" && sha256sum -- "$name" >"$name.sha256.tmp")
    fi
    mv -f "$dir/$name.sha256.tmp" "$dir/$name.sha256"
}

# size_to_mib <size>: prints a disk size given as <n>M or <n>G in MiB; fails on any other form.
size_to_mib() {
    case "$1" in
        [1-9]*M) [[ "${1%M}" =~ ^[0-9]+$ ]] && printf '%s\n' "${1%M}" ;;
        [1-9]*G) [[ "${1%G}" =~ ^[0-9]+$ ]] && printf '%s\n' "$((${1%G} * 1024))" ;;
        *) return 1 ;;
    esac
}

# layout_rows: the partition rows of <work_dir>/disk/layout.tsv (written by the layout stage), tab-separated:
# number name mount fs start_mib size_mib type partuuid fs_id options pass.
layout_rows() {
    local table="$IF_WORK_DIR/disk/layout.tsv"
    [[ -f "$table" ]] || die "no disk layout at $table (did the layout stage run with the same work_dir?)"
    awk -F'\t' -v OFS='\t' '$1 == "part" { $1 = ""; sub(/^\t/, ""); print }' "$table"
}

# ... | hash_stream <dir> <name>: writes stdin to <dir>/<name> (through <name>.partial, renamed at the end) and its
# digest to <name>.sha256 in sha256sum format, in the same pass: the file is never read back to be hashed.
hash_stream() {
    local dir="$1" name="$2" digest hasher=(sha256sum)
    # openssl uses the CPU's SHA extensions (about five times coreutils' speed here).
    ! command -v openssl >/dev/null 2>&1 || hasher=(openssl dgst -sha256 -r)
    digest="$(tee "$dir/$name.partial" | "${hasher[@]}")"
    digest="${digest%% *}"
    [[ "$digest" =~ ^[0-9a-f]{64}$ ]] || die "could not write and hash $dir/$name"
    printf '%s  %s\n' "$digest" "$name" >"$dir/$name.sha256.tmp"
    mv -f "$dir/$name.partial" "$dir/$name"
    mv -f "$dir/$name.sha256.tmp" "$dir/$name.sha256"
}
