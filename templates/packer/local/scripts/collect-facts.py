"""Writes image-facts.json: what an image's root filesystem trusts, runs and lets in, for anomaly detection.

Usage: collect-facts.py [--base <base-facts.json> --base-key <key>] <root> <output.json> [<disk image file>]

--base puts the facts this script wrote earlier for the image's base (the tree before the image's own changes) into
the document as "base", with the key of the inputs that made the base.

Standalone, so the same script runs on the local target's tree (root = the chroot) and inside a cloud VM (root = /).
It reads files only, except `sshd -T` when the root has sshd (run in the root through chroot when root is not /).
Password hashes are never read: users come from /etc/passwd and groups from /etc/group, never from the shadow files.
Every list is sorted, so two builds of the same content write the same document.
"""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SCHEMA = "imageforge.image-facts/v1"
# Trees that are not part of the image's content (pseudo filesystems, mount points of the running system).
SKIP_TREES = {"proc", "sys", "dev", "run"}
# World-writable places a system has by design.
TMP_TREES = ("tmp", "var/tmp", "dev/shm", "var/lock", "run/lock")
# The sysctl settings whose values are recorded (prefixes), security-relevant ones.
SYSCTL_PREFIXES = ("kernel.", "net.ipv4.", "net.ipv6.", "fs.", "vm.mmap", "user.", "dev.tty.")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inside(root, relative):
    return os.path.join(root, relative.lstrip("/"))


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return []


def config_lines(path):
    """Non-empty, non-comment lines, stripped."""
    return [line.strip() for line in read_lines(path) if line.strip() and not line.strip().startswith("#")]


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def image_path(root, path):
    return "/" + os.path.relpath(path, root).replace(os.sep, "/").lstrip("./")


def walk(root):
    """Every regular file and directory of the image, as (absolute host path, lstat), not following links."""
    for top in listdir(root):
        if top in SKIP_TREES:
            continue
        start = os.path.join(root, top)
        try:
            info = os.lstat(start)
        except FileNotFoundError:
            continue
        yield start, info
        if not stat.S_ISDIR(info.st_mode):
            continue
        for directory, dirs, files in os.walk(start):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(directory, name)
                try:
                    yield path, os.lstat(path)
                except FileNotFoundError:
                    continue


def apt_facts(root):
    sources = []
    for path in [inside(root, "etc/apt/sources.list")] + [
        os.path.join(inside(root, "etc/apt/sources.list.d"), n) for n in listdir(inside(root, "etc/apt/sources.list.d"))
    ]:
        if path.endswith(".list"):
            sources += [re.sub(r"\s+", " ", line) for line in config_lines(path)]
        elif path.endswith(".sources"):
            sources += deb822_sources(path)
    keys = []
    for directory in ("etc/apt/trusted.gpg.d", "etc/apt/keyrings", "usr/share/keyrings"):
        for name in listdir(inside(root, directory)):
            path = os.path.join(inside(root, directory), name)
            if os.path.isfile(path) and not os.path.islink(path):
                keys.append({"path": "/" + directory + "/" + name, "sha256": sha256_file(path)})
    legacy = inside(root, "etc/apt/trusted.gpg")
    if os.path.isfile(legacy):
        keys.append({"path": "/etc/apt/trusted.gpg", "sha256": sha256_file(legacy)})
    return {"sources": sorted(set(sources)), "keys": sorted(keys, key=lambda k: k["path"])}


def deb822_sources(path):
    """One 'deb URI suite component...' line per type, URI and suite of a deb822 .sources file."""
    entries, current = [], {}
    for line in read_lines(path) + [""]:
        if not line.strip():
            if current and current.get("enabled", "yes").lower() != "no":
                for kind in current.get("types", "deb").split():
                    for uri in current.get("uris", "").split():
                        for suite in current.get("suites", "").split():
                            entries.append(" ".join([kind, uri, suite] + current.get("components", "").split()))
            current = {}
        elif not line.startswith("#") and ":" in line and not line[0].isspace():
            key, value = line.split(":", 1)
            current[key.strip().lower()] = value.strip()
    return entries


def ca_certificates(root):
    """sha256 of each certificate (DER) in the system bundle."""
    import base64

    digests = set()
    block = None
    for line in read_lines(inside(root, "etc/ssl/certs/ca-certificates.crt")):
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            block = []
        elif line.startswith("-----END CERTIFICATE-----") and block is not None:
            try:
                digests.add(hashlib.sha256(base64.b64decode("".join(block))).hexdigest())
            except ValueError:
                pass
            block = None
        elif block is not None:
            block.append(line.strip())
    return sorted(digests)


def filesystem_facts(root):
    special, writable, total = [], [], 0
    for path, info in walk(root):
        relative = image_path(root, path)
        if stat.S_ISREG(info.st_mode):
            total += info.st_size
            if info.st_mode & (stat.S_ISUID | stat.S_ISGID):
                special.append(
                    {
                        "path": relative,
                        "sha256": sha256_file(path),
                        "mode": format(stat.S_IMODE(info.st_mode), "04o"),
                        "uid": info.st_uid,
                        "gid": info.st_gid,
                    }
                )
        if (
            not stat.S_ISLNK(info.st_mode)
            and info.st_mode & stat.S_IWOTH
            and not any(relative == "/" + t or relative.startswith("/" + t + "/") for t in TMP_TREES)
            and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX)
        ):
            writable.append(relative)
    return special, sorted(writable), total


def systemd_facts(root):
    units = set()
    for directory in ("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"):
        base = inside(root, directory)
        for name in listdir(base):
            if name.endswith((".wants", ".requires")) and os.path.isdir(os.path.join(base, name)):
                if directory == "etc/systemd/system":
                    units.update(listdir(os.path.join(base, name)))
    enabled = sorted(u for u in units if not u.endswith(".timer"))
    timers = sorted(u for u in units if u.endswith(".timer"))
    return enabled, timers


def cron_facts(root):
    entries = []
    files = ["etc/crontab"] + ["etc/cron.d/" + n for n in listdir(inside(root, "etc/cron.d"))]
    files += ["var/spool/cron/crontabs/" + n for n in listdir(inside(root, "var/spool/cron/crontabs"))]
    for relative in files:
        for line in config_lines(inside(root, relative)):
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
                entries.append("/" + relative + ": " + re.sub(r"\s+", " ", line))
    for period in ("hourly", "daily", "weekly", "monthly"):
        for name in listdir(inside(root, "etc/cron." + period)):
            if name != ".placeholder":
                entries.append("/etc/cron." + period + "/" + name)
    return sorted(entries)


def accounts(root):
    users, groups = [], []
    for line in read_lines(inside(root, "etc/passwd")):
        fields = line.split(":")
        if len(fields) >= 7 and fields[2].isdigit() and fields[3].isdigit():
            users.append({"name": fields[0], "uid": int(fields[2]), "gid": int(fields[3]), "shell": fields[6]})
    for line in read_lines(inside(root, "etc/group")):
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit():
            members = sorted(m for m in fields[3].split(",") if m)
            groups.append({"name": fields[0], "gid": int(fields[2]), "members": members})
    return sorted(users, key=lambda u: u["name"]), sorted(groups, key=lambda g: g["name"])


def sudoers(root):
    rules = []
    files = ["etc/sudoers"] + ["etc/sudoers.d/" + n for n in listdir(inside(root, "etc/sudoers.d"))]
    for relative in files:
        if os.path.basename(relative) == "README":
            continue
        for line in config_lines(inside(root, relative)):
            rules.append("/" + relative + ": " + re.sub(r"\s+", " ", line))
    return sorted(rules)


def sshd_config(root):
    """(source, settings): `sshd -T` when it runs, else the configuration files (first value wins, as in sshd)."""
    binary = inside(root, "usr/sbin/sshd")
    if os.path.isfile(binary):
        settings = sshd_test(root)
        if settings is not None:
            return "sshd -T", settings
    settings = {}
    parse_sshd(root, "etc/ssh/sshd_config", settings, 0)
    return ("sshd_config" if settings or os.path.isfile(inside(root, "etc/ssh/sshd_config")) else "absent"), settings


def sshd_test(root):
    # sshd -T needs a host key and its privilege separation directory; the image's own keys were removed on
    # purpose, so a throwaway key in the root's /tmp stands in for them and everything made here is removed again.
    scratch = tempfile.mkdtemp(prefix="imageforge-facts-", dir=inside(root, "tmp"))
    made_run = not os.path.isdir(inside(root, "run/sshd"))
    try:
        if made_run:
            os.makedirs(inside(root, "run/sshd"), mode=0o755, exist_ok=True)
        key = "/" + os.path.relpath(scratch, root) + "/host_key"
        prefix = [] if os.path.realpath(root) == "/" else ["chroot", root]
        environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
        subprocess.run(
            prefix + ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
            check=True, capture_output=True, env=environment, timeout=60,
        )
        result = subprocess.run(
            prefix + ["/usr/sbin/sshd", "-T", "-h", key],
            check=True, capture_output=True, text=True, env=environment, timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if made_run:
            shutil.rmtree(inside(root, "run/sshd"), ignore_errors=True)
    settings = {}
    for line in result.stdout.splitlines():
        if " " in line:
            key, value = line.split(" ", 1)
            if key not in ("hostkey",):
                settings.setdefault(key.lower(), value.strip())
    return settings


def parse_sshd(root, relative, settings, depth):
    if depth > 4:
        return
    for line in config_lines(inside(root, relative)):
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts[0].lower(), parts[1].strip()
        if key == "match":
            return  # a Match block applies to some connections only; the global settings end here
        if key == "include":
            for pattern in value.split():
                import glob

                base = pattern if pattern.startswith("/") else "/etc/ssh/" + pattern
                for path in sorted(glob.glob(inside(root, base))):
                    parse_sshd(root, image_path(root, path), settings, depth + 1)
        else:
            settings.setdefault(key, value)


def authorized_keys(root):
    found = []
    for path, info in walk(root):
        if stat.S_ISREG(info.st_mode) and os.path.basename(path) in ("authorized_keys", "authorized_keys2"):
            keys = [l for l in config_lines(path)]
            found.append({"path": image_path(root, path), "sha256": sha256_file(path), "keys": len(keys)})
    return found


def sysctl_values(root):
    values = {}
    for directory in ("usr/lib/sysctl.d", "lib/sysctl.d", "etc/sysctl.d"):
        for name in listdir(inside(root, directory)):
            if name.endswith(".conf"):
                read_sysctl(inside(root, directory + "/" + name), values)
    read_sysctl(inside(root, "etc/sysctl.conf"), values)
    return {k: v for k, v in sorted(values.items()) if k.startswith(SYSCTL_PREFIXES)}


def read_sysctl(path, values):
    for line in config_lines(path):
        if "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            values[key.strip().lstrip("-").replace("/", ".")] = value.strip()


def module_blacklist(root):
    modules = set()
    for name in listdir(inside(root, "etc/modprobe.d")):
        for line in config_lines(inside(root, "etc/modprobe.d/" + name)):
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "blacklist":
                modules.add(parts[1])
            elif len(parts) >= 3 and parts[0] == "install" and parts[2] in ("/bin/true", "/bin/false", "/usr/bin/true", "/usr/bin/false"):
                modules.add(parts[1])
    return sorted(modules)


USAGE = "usage: collect-facts.py [--base <base-facts.json> --base-key <key>] <root> <output.json> [<disk image file>]"


def base_section(path, key):
    """The base's facts (a document this script wrote) with the key of the inputs that made the base."""
    if not key:
        sys.exit("collect-facts.py: --base needs --base-key, the key of the inputs that made the base")
    try:
        with open(path, encoding="utf-8") as handle:
            facts = json.load(handle)
    except (OSError, ValueError) as error:
        sys.exit(f"collect-facts.py: cannot read the base's facts {path}: {error}")
    if not isinstance(facts, dict) or facts.get("schema") != SCHEMA or "base" in facts:
        sys.exit(f"collect-facts.py: {path} is not a base facts document of {SCHEMA}")
    return {"key": key, "facts": facts}


def main(argv):
    argv = list(argv)
    options = {}
    while len(argv) > 2 and argv[1] in ("--base", "--base-key"):
        options[argv[1]] = argv[2]
        del argv[1:3]
    if len(argv) not in (3, 4) or ("--base-key" in options and "--base" not in options):
        sys.exit(USAGE)
    root, output = argv[1], argv[2]
    if not os.path.isdir(root):
        sys.exit(f"collect-facts.py: {root} is not a directory")
    special, writable, rootfs_bytes = filesystem_facts(root)
    enabled, timers = systemd_facts(root)
    users, groups = accounts(root)
    source, sshd = sshd_config(root)
    sizes = {"rootfs_bytes": rootfs_bytes}
    if len(argv) == 4 and os.path.isfile(argv[3]):
        info = os.stat(argv[3])
        sizes["disk_bytes"] = info.st_size
        sizes["disk_allocated_bytes"] = info.st_blocks * 512
    document = {
        "schema": SCHEMA,
        "apt": apt_facts(root),
        "ca_certificates": ca_certificates(root),
        "setuid_files": sorted(special, key=lambda f: f["path"]),
        "world_writable": writable,
        "systemd": {"enabled": enabled, "timers": timers},
        "cron": cron_facts(root),
        "users": users,
        "groups": groups,
        "sudoers": sudoers(root),
        "sshd": {"source": source, "settings": dict(sorted(sshd.items()))},
        "authorized_keys": sorted(authorized_keys(root), key=lambda k: k["path"]),
        "sysctl": sysctl_values(root),
        "module_blacklist": module_blacklist(root),
        "sizes": sizes,
    }
    if "--base" in options:
        document["base"] = base_section(options["--base"], options.get("--base-key"))
    partial = output + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.replace(partial, output)


if __name__ == "__main__":
    main(sys.argv)
