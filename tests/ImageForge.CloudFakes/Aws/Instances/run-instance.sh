#!/usr/bin/env bash
# One EC2 "instance" of the AWS fake's ChrootSshHost: a real sshd on a loopback port, chrooted into the instance's
# copy of a root tree, in a mount namespace of its own (/proc, /dev, /sys and a tmpfs /run inside the tree), so that
# nothing is mounted on the host and everything goes when the last process of the namespace ends.
#
#   run-instance.sh <root> <port> <user> <authorized key>
#
# Re-executes itself under `unshare --mount`; sshd runs in the foreground (-D) as the namespace's last process.
set -euo pipefail

if [[ "${IF_INSTANCE_NAMESPACE:-}" != 1 ]]; then
    IF_INSTANCE_NAMESPACE=1 exec unshare --mount --propagation private -- /bin/bash "${BASH_SOURCE[0]}" "$@"
fi

root="$1" port="$2" user="$3" key="$4"
[[ -x "$root/usr/sbin/sshd" ]] || {
    echo "run-instance: $root has no /usr/sbin/sshd (bootstrap it with openssh-server)" >&2
    exit 1
}

mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=0755,size=64m dev "$root/dev"
for node in null zero full random urandom tty; do
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -sf pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
# /run is a tmpfs on a booted system: what the build puts there never reaches the image.
mount -t tmpfs -o mode=0755,size=256m run "$root/run"
mkdir -p "$root/run/sshd"

home="$(chroot "$root" getent passwd "$user" | cut -d: -f6)"
[[ -n "$home" ]] || {
    echo "run-instance: no user $user in $root" >&2
    exit 1
}
install -d -m 0700 "$root$home/.ssh"
printf '%s\n' "$key" >"$root$home/.ssh/authorized_keys"
chmod 0600 "$root$home/.ssh/authorized_keys"
chroot "$root" chown -R "$user:" "$home/.ssh"
# A first boot makes the host keys an image must not ship (the clean stage removes them again).
chroot "$root" ssh-keygen -A >/dev/null

exec chroot "$root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no \
    -o UseDNS=no
