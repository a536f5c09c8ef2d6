"""Prints disk.json: what the exported disk is, from the layout stage's layout.tsv.

Usage: disk-json.py <layout.tsv> <kernel command line> <formats, comma-separated>

The document names the disk (GPT, UEFI, size, layout), each partition with its offsets, type and identifiers, the
kernel command line GRUB boots, and the files the disk was written as (every format is made from disk.raw).
"""

import json
import sys

FILES = {"raw": "disk.raw", "vhd": "disk.vhd", "tar-gz": "disk.tar.gz"}
KINDS = {"raw": "disk-raw", "vhd": "disk-vhd", "tar-gz": "disk-tar-gz"}
MIB = 1 << 20


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: disk-json.py <layout.tsv> <kernel command line> <formats>")
    disk = None
    partitions = []
    with open(argv[1], encoding="utf-8") as table:
        for line in table:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "disk":
                disk = {"layout": fields[1], "size_bytes": int(fields[2]) * MIB, "guid": fields[3]}
            elif fields[0] == "part":
                number, name, mount, fs, start, size, type_guid, partuuid, fs_id, options, _ = fields[1:]
                fs_uuid = f"{fs_id[:4]}-{fs_id[4:]}" if fs == "vfat" else fs_id
                partitions.append(
                    {
                        "number": int(number),
                        "name": name,
                        "mount_point": mount,
                        "filesystem": fs,
                        "start_bytes": int(start) * MIB,
                        "size_bytes": int(size) * MIB,
                        "type_guid": type_guid.lower(),
                        "partuuid": partuuid,
                        "filesystem_uuid": fs_uuid,
                        "mount_options": options,
                    }
                )
    if disk is None:
        sys.exit(f"{argv[1]} has no disk line")
    formats = [
        {"format": f, "kind": KINDS[f], "file": FILES[f]} | ({} if f == "raw" else {"made_from": FILES["raw"]})
        for f in argv[3].split(",")
    ]
    document = {
        "partition_table": "gpt",
        "boot": "uefi",
        "boot_loader": "GRUB (grub-mkstandalone, x86_64-efi) at EFI/BOOT/BOOTX64.EFI",
        "kernel_command_line": argv[2],
        **disk,
        "partitions": partitions,
        "formats": formats,
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
