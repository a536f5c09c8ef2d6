#!/usr/bin/env bash
# mmdebstrap customize hook of the bootstrap stage: installs the image's kernel (and, through initramfs-tools, its
# initramfs) into the chroot given as $1. Usage: install-kernel.sh <chroot> <kernel package>
#
# The kernel package is normally a metapackage (linux-image-cloud-amd64) that depends on the current versioned kernel
# (linux-image-5.10.0-NN-cloud-amd64). A partial mirror may serve the versioned kernel but not the metapackage (seen
# on the build machines' mirror); then the versioned kernel it depends on is installed, with a warning: the image
# boots the same kernel, but apt inside it will not move to a later kernel ABI by itself.
set -euo pipefail

root="$1"
kernel="$2"
[[ -d "$root" && "$kernel" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || {
    echo "imageforge-error: bootstrap | install-kernel.sh <chroot> <kernel package>, got '$root' '$kernel'" >&2
    exit 2
}

in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}
install() {
    in_root apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "$@"
}

if install "$kernel"; then
    exit 0
fi
versioned="$(in_root apt-cache depends --important "$kernel" |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')"
[[ -n "$versioned" ]] || {
    echo "imageforge-error: bootstrap | could not install $kernel, and it depends on no versioned linux-image package" >&2
    exit 1
}
echo "imageforge-warning: the mirror does not serve $kernel; installing the kernel it depends on, $versioned"
install "$versioned"
