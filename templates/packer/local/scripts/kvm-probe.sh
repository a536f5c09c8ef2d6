#!/usr/bin/env bash
# Whether KVM runs a guest on this machine. Prints one line: "works", "fails (the probe guest exited <code>, expected
# 99)", "no /dev/kvm" or "no qemu-system-x86_64". Asked by the boot test (boot-test.sh) and by a worker at its start
# (its kvm capability, docs/cluster.md), so both go by the same answer.
#
# A multiboot guest of 39 bytes that writes 0x31 to the isa-debug-exit port: qemu exits 99 once it has run. Under a
# KVM that cannot run guests (nested, broken) it hangs or aborts. The answer holds until the machine reboots, so it
# is kept in <cache dir>/boot-test/kvm-probe per boot id and qemu version.
#
# Usage: kvm-probe.sh <cache dir> <scratch dir>
set -euo pipefail

cache_dir="$1"
scratch="$2"
if [[ ! -c /dev/kvm ]]; then
    echo "no /dev/kvm"
    exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "no qemu-system-x86_64"
    exit 0
fi
qemu_version="$(qemu-system-x86_64 --version | head -n 1 | sed -E 's/^QEMU emulator version ([^ ]+).*/\1/')"
probe_cache="$cache_dir/boot-test/kvm-probe"
probe_key="$(cat /proc/sys/kernel/random/boot_id) $qemu_version"
if [[ -f "$probe_cache" && "$(head -n 1 "$probe_cache")" == "$probe_key" ]]; then
    sed -n 2p "$probe_cache"
    exit 0
fi
mkdir -p "$scratch"
printf '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x10\x00\xb0\x31\xe6\xf4\xf4\xeb\xfd' \
    >"$scratch/kvm-probe.bin"
rc=0
timeout --foreground --kill-after=2 5 qemu-system-x86_64 -machine q35,accel=kvm -nodefaults -no-user-config \
    -display none -kernel "$scratch/kvm-probe.bin" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    >"$scratch/kvm-probe.log" 2>&1 || rc=$?
probe_result="fails (the probe guest exited $rc, expected 99)"
((rc != 99)) || probe_result=works
# Written under a name of its own and renamed: a boot test and a worker probing at once never read half a file.
mkdir -p "$(dirname "$probe_cache")"
printf '%s\n%s\n' "$probe_key" "$probe_result" >"$probe_cache.$$"
mv -f "$probe_cache.$$" "$probe_cache"
echo "$probe_result"
