#!/usr/bin/env bash
# Stage 5 of the local target: boot the exported disk and record whether it comes up.
#
# qemu-system-x86_64 (q35, OVMF UEFI firmware) boots a throwaway copy-on-write overlay of disk.raw (qcow2 over the
# raw file, which qemu opens read-only: the artifact's bytes never change) on an emulated NVMe drive, with a NoCloud
# seed (a small FAT image labelled cidata, made with mkfs.vfat -C and mcopy: no loop device) and no network. The
# seed's user-data makes cloud-init install a unit that waits until systemd has finished starting, prints
#   imageforge-boot-ok kernel=<uname -r> state=<systemctl is-system-running> failed=<failed units> mounts=<...>
# on the serial console and powers off. The marker unit exists only in the overlay: the shipped disk stays as it was
# built, and the test also proves that cloud-init provisions the disk on its first boot.
#
# The stage reads the console until the marker, a known failure (GRUB cannot load the kernel, a kernel panic, the
# initramfs or systemd's emergency shell) or the timeout (boot_test_timeout seconds), and stops qemu if it is still
# running. KVM is used only when a tiny real guest runs under it (the probe); otherwise software emulation (TCG), or,
# with IMAGEFORGE_BOOT_TEST_KVM=required, no boot at all: the boot test fails, saying why.
# qemu stays in the build's process group, so cancelling the build stops it too.
#
# With image tests (IMAGEFORGE_IMAGE_TESTS: the checks of the definition's tests: section, one per line), the seed also
# carries image-tests.sh and the checks; the unit runs them once systemd is up, before it prints the marker, and
# each result goes to the console as "imageforge-test <n> <pass|fail> <observed>".
#
# Writes <output_dir>/boot-test.json (passed, seconds to the marker, kernel, system state, failed units, mounts,
# accelerator...), boot-test-console.log (the serial console, colour sequences removed) and, with image tests,
# image-tests.json (every check with what the guest observed), each with its .sha256.
# A failed boot is a result (exit 0, passed false): the baseline's boot_test gate decides what it means. The stage
# fails only when the test cannot run.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init boot-test

step "checking inputs"
require_env IMAGEFORGE_OUTPUT_DIR IMAGEFORGE_BOOT_TEST IMAGEFORGE_BOOT_TEST_TIMEOUT IMAGEFORGE_CACHE_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_abs_path IMAGEFORGE_CACHE_DIR
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
image_tests="${IMAGEFORGE_IMAGE_TESTS:-}"
if [[ -n "$image_tests" ]]; then
    require_abs_path IMAGEFORGE_IMAGE_TESTS
    [[ -f "$image_tests" ]] || die "IMAGEFORGE_IMAGE_TESTS names $image_tests, which does not exist"
fi
case "$IMAGEFORGE_BOOT_TEST" in
    true) ;;
    false)
        echo "boot test turned off (boot_test: false): this version has no boot-test evidence"
        exit 0
        ;;
    *) die "boot_test must be \"true\" or \"false\", got '$IMAGEFORGE_BOOT_TEST'" ;;
esac
timeout_s="$IMAGEFORGE_BOOT_TEST_TIMEOUT"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "boot_test_timeout must be a whole number of seconds, got '$timeout_s'"
for tool in qemu-system-x86_64 qemu-img mkfs.vfat mcopy python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed on the build machine (run eng/prereqs.sh)"
done
firmware=""
for candidate in /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd; do
    [[ -f "$candidate" ]] && firmware="$candidate" && break
done
[[ -n "$firmware" ]] || die "no OVMF UEFI firmware (/usr/share/ovmf/OVMF.fd); run eng/prereqs.sh (Debian package ovmf)"
disk="$output_dir/disk.raw"
[[ -f "$disk" ]] || die "$disk is missing (did the export stage run?)"
expected_mounts="$(layout_rows | cut -f3 | LC_ALL=C sort | paste -sd, -)"
dir="$IF_WORK_DIR/boot-test"
rm -rf "$dir"
mkdir -p "$dir"
qemu_version="$(qemu-system-x86_64 --version | head -n 1 | sed -E 's/^QEMU emulator version ([^ ]+).*/\1/')"

# The evidence: the console, boot-test.json and, with image tests, image-tests.json (from what the boot left in the
# variables marker, failure, seconds, kernel_at, powered_off, accelerator and kvm_note).
write_evidence() {
    step "writing boot-test evidence"
    sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\r//g' "$console" >"$output_dir/boot-test-console.log.partial"
    mv -f "$output_dir/boot-test-console.log.partial" "$output_dir/boot-test-console.log"
    python3 "$(dirname "${BASH_SOURCE[0]}")/boot-test-json.py" >"$output_dir/boot-test.json.partial" \
        "$marker" "$failure" "$seconds" "$kernel_at" "$expected_mounts" "$powered_off" "$accelerator" "$kvm_note" \
        "$timeout_s" "$qemu_version" "$firmware"
    mv -f "$output_dir/boot-test.json.partial" "$output_dir/boot-test.json"
    sha256_file "$output_dir" boot-test-console.log
    sha256_file "$output_dir" boot-test.json
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["summary"])' "$output_dir/boot-test.json"
    if [[ -n "$image_tests" ]]; then
        python3 "$(dirname "${BASH_SOURCE[0]}")/image-tests-json.py" "$image_tests" "$output_dir/boot-test-console.log" \
            >"$output_dir/image-tests.json.partial"
        mv -f "$output_dir/image-tests.json.partial" "$output_dir/image-tests.json"
        sha256_file "$output_dir" image-tests.json
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"])' "$output_dir/image-tests.json"
    fi
}

step "probing KVM"
# KVM is opt-in (IMAGEFORGE_BOOT_TEST_KVM=1): on these build machines the probe guest can pass under the nested KVM
# while a real boot under it hangs with an empty console (seen on a quiet machine: no marker within 300 s), so a
# passing probe alone does not prove that KVM boots a disk. The probe is kvm-probe.sh's (a worker asks it too).
# IMAGEFORGE_BOOT_TEST_KVM=required (the definition's boot_test_kvm: required) boots under KVM or not at all: when
# the probe fails, the boot test fails saying so instead of falling back to software emulation.
accelerator=tcg
kvm_mode="${IMAGEFORGE_BOOT_TEST_KVM:-0}"
kvm_failure=""
if [[ "$kvm_mode" != 1 && "$kvm_mode" != required ]]; then
    kvm_note="no /dev/kvm"
    [[ ! -c /dev/kvm ]] || kvm_note="KVM not tried (IMAGEFORGE_BOOT_TEST_KVM=1 tries it where the probe passes)"
else
    probe_result="$(bash "$(dirname "${BASH_SOURCE[0]}")/kvm-probe.sh" "$IMAGEFORGE_CACHE_DIR" "$dir")"
    case "$probe_result" in
        works) accelerator=kvm kvm_note="KVM works" ;;
        no\ *) kvm_note="$probe_result" ;;
        *) kvm_note="KVM $probe_result" ;;
    esac
    if [[ "$kvm_mode" == required && "$accelerator" != kvm ]]; then
        accelerator=none
        kvm_failure="KVM is required (boot_test_kvm: required), but $kvm_note: not booted under software emulation"
    fi
fi
printf 'accelerator: %s (%s)\n' "$accelerator" "$kvm_note"
console="$dir/console.log"
: >"$console"
if [[ -n "$kvm_failure" ]]; then
    marker="" failure="$kvm_failure" seconds="" kernel_at="" powered_off=false
    write_evidence
    exit 0
fi

step "making the overlay and the NoCloud seed"
overlay="$dir/overlay.qcow2"
qemu-img create -q -f qcow2 -b "$disk" -F raw "$overlay"
cat >"$dir/meta-data" <<'EOF'
instance-id: imageforge-boot-test
local-hostname: imageforge-boot-test
EOF
# The unit lives in /run (gone at power-off) and runs its scripts through sh: /run is mounted noexec. The image tests
# run after systemd is up and before the marker, so the marker means every result is on the console.
{
    cat <<'EOF'
#cloud-config
write_files:
  - path: /run/imageforge/boot-ok.sh
    content: |
      state="$(systemctl is-system-running --wait)"
      failed="$(systemctl list-units --state=failed --plain --no-legend | cut -d' ' -f1 | paste -sd, -)"
      mounts="$(findmnt -rn -o TARGET -t ext4,vfat | LC_ALL=C sort | paste -sd, -)"
      [ ! -f /run/imageforge/image-tests.tsv ] || sh /run/imageforge/image-tests.sh /run/imageforge/image-tests.tsv >/dev/ttyS0
      echo "imageforge-boot-ok kernel=$(uname -r) state=$state failed=${failed:-none} mounts=$mounts" >/dev/ttyS0
      systemctl poweroff
  - path: /run/systemd/system/imageforge-boot-ok.service
    content: |
      [Unit]
      Description=ImageForge boot test marker
      [Service]
      Type=simple
      ExecStart=/bin/sh /run/imageforge/boot-ok.sh
EOF
    if [[ -n "$image_tests" ]]; then
        printf '  - path: /run/imageforge/image-tests.sh\n    encoding: b64\n    content: %s\n' \
            "$(base64 -w0 "$(dirname "${BASH_SOURCE[0]}")/image-tests.sh")"
        printf '  - path: /run/imageforge/image-tests.tsv\n    encoding: b64\n    content: %s\n' \
            "$(base64 -w0 "$image_tests")"
    fi
    cat <<'EOF'
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, start, --no-block, imageforge-boot-ok.service]
EOF
} >"$dir/user-data"
mkfs.vfat -C -n CIDATA "$dir/seed.img" 1024 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$dir/seed.img" "$dir/meta-data" "$dir/user-data" ::

step "booting the disk ($accelerator, timeout ${timeout_s} s)"
qemu_pid=""
stop_qemu() {
    [[ -n "$qemu_pid" ]] || return 0
    if kill -0 "$qemu_pid" 2>/dev/null; then
        kill -TERM "$qemu_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$qemu_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$qemu_pid" 2>/dev/null || true
    fi
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}
trap stop_qemu EXIT
started="$(date +%s%N)"
elapsed() { awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
qemu-system-x86_64 -machine "q35,accel=$accelerator" -m 1024 -smp 2 -nodefaults -no-user-config -display none \
    -no-reboot -bios "$firmware" -serial "file:$console" \
    -drive "if=none,id=disk,file=$overlay,format=qcow2" -device nvme,drive=disk,serial=imageforge-disk \
    -drive "if=none,id=seed,file=$dir/seed.img,format=raw,readonly=on" -device virtio-blk-pci,drive=seed \
    -nic none >"$dir/qemu.log" 2>&1 &
qemu_pid=$!

marker=""
failure=""
kernel_at=""
seconds=""
deadline=$(($(date +%s) + timeout_s))
failure_pattern='imageforge-boot-failed|Kernel panic - not syncing|You are in emergency mode|Give root password for maintenance|Dropping to a shell|\(initramfs\)'
while :; do
    if [[ -z "$kernel_at" ]] && grep -qa 'Linux version' "$console"; then
        kernel_at="$(elapsed)"
        printf 'kernel started after %s s\n' "$kernel_at"
    fi
    marker="$(grep -ao 'imageforge-boot-ok kernel=[^ ]* state=[^ ]* failed=[^ ]* mounts=[^ [:cntrl:]]*' "$console" | head -n 1 || true)"
    if [[ -n "$marker" ]]; then
        seconds="$(elapsed)"
        break
    fi
    if hit="$(grep -aE "$failure_pattern" "$console" | head -n 1)" && [[ -n "$hit" ]]; then
        # From the failure on; GRUB writes to the serial port and to the firmware's console, which OVMF also shows
        # there, so its line can come twice in a row: keep the first.
        word="$(printf '%s' "$hit" | grep -aoE "$failure_pattern" | head -n 1)"
        hit="$(printf '%s' "$hit" | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\r//g')"
        hit="$word${hit#*"$word"}"
        rest="${hit#"$word"}"
        [[ "$rest" != *"$word"* ]] || hit="$word${rest%%"$word"*}"
        hit="$(printf '%s' "$hit" | cut -c1-200)"
        failure="the console shows '$hit' after $(elapsed) s"
        sleep 2 # the lines after it say why
        break
    fi
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
        rc=0
        wait "$qemu_pid" || rc=$?
        qemu_pid=""
        failure="qemu exited ($rc) after $(elapsed) s without the marker: $(tail -n 3 "$dir/qemu.log" | tr '\n' ' ')"
        break
    fi
    if (($(date +%s) >= deadline)); then
        failure="no marker within ${timeout_s} s"
        break
    fi
    sleep 0.5
done

powered_off=false
if [[ -n "$marker" && -n "$qemu_pid" ]]; then
    # The marker unit powers the guest off; a clean power-off is part of a good boot, but not worth long.
    for _ in $(seq 1 60); do
        kill -0 "$qemu_pid" 2>/dev/null || break
        sleep 0.5
    done
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=""
        powered_off=true
    fi
fi
stop_qemu
trap - EXIT
rm -f "$overlay"

write_evidence
