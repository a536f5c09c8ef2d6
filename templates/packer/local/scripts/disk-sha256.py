"""Hashes disk.raw, and a fixed VHD made from it, in one pass (optionally copying disk.raw out on the way); writes
<name>.sha256 (sha256sum format) for each.

Usage: disk-sha256.py [--copy-to <dir> [--as <name>]] <dir> <raw name> [<vhd name>]

The raw disk is mostly holes (a 2 GiB disk holds a few hundred MiB of data). Reading holes still costs the kernel a
page of zeros each, so the file is walked with SEEK_DATA/SEEK_HOLE and the holes are fed to the hash from one buffer
of zeros. With --copy-to, the data regions are also written to <dir>/<raw name> there (holes stay holes), so the disk
assembled in memory reaches the output directory in the same pass that hashes it; the digests are written beside
the copy (named <name> with --as: a flavour's disk-<flavour>.raw, assembled as disk.raw). A fixed VHD is the raw bytes followed by a 512-byte footer (qemu-img convert -O vpc -o subformat=fixed
copies the data as it is), so its digest is the raw digest's state continued with the footer: the VHD (looked up in
the --copy-to directory when given) is checked to be exactly raw size + 512 bytes with a VHD footer ("conectix") at
the end, and is not read again.
"""

import hashlib
import os
import sys

ZEROS = bytes(1 << 20)
CHUNK = 4 << 20


def sparse_sha256(path, copy_to=None):
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    out = None
    try:
        size = os.fstat(fd).st_size
        if copy_to is not None:
            out = os.open(copy_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.ftruncate(out, size)
        position = 0
        while position < size:
            try:
                data = os.lseek(fd, position, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                data = size
            while position < data:
                n = min(len(ZEROS), data - position)
                digest.update(ZEROS if n == len(ZEROS) else ZEROS[:n])
                position += n
            if position >= size:
                break
            hole = os.lseek(fd, position, os.SEEK_HOLE)
            while position < hole:
                chunk = os.pread(fd, min(CHUNK, hole - position), position)
                if not chunk:
                    raise OSError(f"{path}: short read at {position}")
                digest.update(chunk)
                if out is not None:
                    os.pwrite(out, chunk, position)
                position += len(chunk)
    finally:
        os.close(fd)
        if out is not None:
            os.close(out)
    return digest, size


def write_sha256(directory, name, hexdigest):
    partial = os.path.join(directory, name + ".sha256.tmp")
    with open(partial, "w", encoding="ascii") as out:
        out.write(f"{hexdigest}  {name}\n")
    os.replace(partial, os.path.join(directory, name + ".sha256"))


def main(argv):
    args = argv[1:]
    target = None
    copy_name = None
    if args[:1] == ["--copy-to"]:
        target, args = args[1], args[2:]
        if args[:1] == ["--as"]:
            copy_name, args = args[1], args[2:]
    if len(args) not in (2, 3):
        sys.exit("usage: disk-sha256.py [--copy-to <dir> [--as <name>]] <dir> <raw name> [<vhd name>]")
    directory, source = args[0], args[1]
    raw = copy_name or source
    out_dir = target or directory
    copy = os.path.join(out_dir, raw + ".partial") if target else None
    digest, size = sparse_sha256(os.path.join(directory, source), copy)
    if copy is not None:
        os.replace(copy, os.path.join(out_dir, raw))
    if len(args) == 3:
        vhd = args[2]
        vhd_path = os.path.join(out_dir, vhd)
        if os.path.getsize(vhd_path) != size + 512:
            sys.exit(f"{vhd_path} is not {raw} followed by a 512-byte footer (size {os.path.getsize(vhd_path)})")
        with open(vhd_path, "rb") as f:
            f.seek(size)
            footer = f.read(512)
        if footer[:8] != b"conectix":
            sys.exit(f"{vhd_path} has no VHD footer after the disk's {size} bytes")
        vhd_digest = digest.copy()
        vhd_digest.update(footer)
        write_sha256(out_dir, vhd, vhd_digest.hexdigest())
    write_sha256(out_dir, raw, digest.hexdigest())


if __name__ == "__main__":
    main(sys.argv)
