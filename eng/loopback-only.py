#!/usr/bin/env python3
"""Unit test suites reach nothing outside loopback (docs/testing.md, "No network in unit suites").

  eng/loopback-only.py run [--except PROJECT]... -- COMMAND...
      runs COMMAND (e.g. dotnet test tests/ImageForge.Cli.Tests -c Release --no-build) under strace, then checks
      its trace; exits with COMMAND's code when it failed, else 1 when a suite connected outside loopback, else 0.
      Without a usable strace it says so and runs COMMAND unchecked.
  eng/loopback-only.py strace-args TRACE
      prints strace's command line (one argument a line, the executable first) that writes TRACE for a later check;
      exits 1 when strace is missing or cannot trace here (no ptrace in the container).
  eng/loopback-only.py check [--except PROJECT]... TRACE
      reads a trace written with those arguments; exits 1 when a suite connected outside loopback, 2 when the file
      does not read as a test run's trace.

Every connect(2) is put down to the test project whose testhost made it, itself or through any process or thread it
started (found from clone and execve in the trace). Allowed: loopback (127.0.0.0/8, ::1, also IPv4-mapped), local
sockets (unix, netlink), anything in a network namespace the suite created (clone, unshare or setns with
CLONE_NEWNET), Chromium's IPv6 route probe (ROUTE_PROBES: a UDP connect that sends nothing), and the projects named
with --except (ImageForge.E2E uses the Debian mirror on purpose). A connect the test runner itself makes outside
loopback counts too. UDP datagrams sent without connect(2) are not seen.
"""

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

SYSCALLS = "connect,execve,clone,clone3,fork,vfork,unshare,setns"
RUNNER = "(test runner)"

LINE = re.compile(r"^(\d+)\s+(.*)$")
CONNECT = re.compile(r"^connect\(\d+, \{sa_family=(AF_INET6?),")
INET_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
INET4_ADDR = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
INET6_ADDR = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
# A clone or fork that made a task, and the new task's id.
SPAWN = re.compile(r"^(?:clone3?|v?fork)\(.*\)\s+=\s+(\d+)(?:\s|$)")
EXEC_OK = re.compile(r"^execve\(.*\)\s+=\s+0$")
# vstest starts "dotnet exec --runtimeconfig .../ImageForge.X.Tests.runtimeconfig.json ... testhost.dll".
TESTHOST = re.compile(r"/([^/\"]+)\.(?:runtimeconfig|deps)\.json\"")
NEWNET_OK = re.compile(r"^(?:unshare|setns)\(.*CLONE_NEWNET.*\)\s+=\s+0$")
UNFINISHED = " <unfinished ...>"
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
EXEC_PATH = re.compile(r'^execve\("([^"]*)"')
# Chromium asks the kernel for a route to Google's public DNS to learn whether IPv6 works: a UDP socket connected and
# closed, nothing sent (net/dns HostResolverManager's IPv6 probe, every second while it resolves).
ROUTE_PROBES = {("chromium", "2001:4860:4860::8888:443")}
EXITED = re.compile(r"^\+\+\+ (?:exited|killed) ")


def strace_args(trace):
    strace = shutil.which("strace")
    if strace is None:
        return None
    args = [strace, "-f", "--seccomp-bpf", "--quiet=attach,personality", "-e", "trace=" + SYSCALLS, "-s", "4096"]
    probe = subprocess.run(args + ["-o", "/dev/null", "true"], capture_output=True, check=False)
    return args + ["-o", trace] if probe.returncode == 0 else None


def loopback(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


class Trace:
    """Follows who made which task and puts each outside connect down to a project."""

    def __init__(self):
        self.project = {}  # task -> project of the testhost above it, or RUNNER
        self.own_net = set()  # tasks in a network namespace a suite made
        self.pending = defaultdict(list)  # task seen before its parent's clone returned -> its connects
        self.outside = defaultdict(lambda: defaultdict(int))  # project -> "addr:port" -> count
        self.unfinished = {}  # task -> first half of its interrupted call
        self.exe = {}  # task -> the name of the program it runs
        self.suites = set()  # projects whose testhost the trace shows
        self.connects = 0
        self.root = None

    def feed(self, line):
        match = LINE.match(line)
        if not match:
            return
        task, call = int(match.group(1)), match.group(2)
        # A call another task interrupted comes in two halves: join them, so each rule sees the whole call.
        if call.endswith(UNFINISHED):
            self.unfinished[task] = call[: -len(UNFINISHED)]
            return
        resumed = RESUMED.match(call)
        if resumed:
            call = self.unfinished.pop(task, resumed.group(1) + "(") + resumed.group(2)
        self.call(task, call)

    def call(self, task, call):
        if self.root is None:
            self.root = task
            self.project[task] = RUNNER
        if EXITED.match(call):
            self.project.pop(task, None)
            self.exe.pop(task, None)
            self.own_net.discard(task)
            return
        spawn = SPAWN.match(call)
        if spawn:
            self.spawned(task, int(spawn.group(1)), "CLONE_NEWNET" in call)
            return
        if EXEC_OK.match(call):
            program = EXEC_PATH.match(call)
            # A program starting itself again (Chromium's helpers) stays what it was.
            if program and program.group(1) != "/proc/self/exe":
                self.exe[task] = os.path.basename(program.group(1))
            host = TESTHOST.search(call) if "testhost" in call else None
            if host:
                self.project[task] = host.group(1)
                self.suites.add(host.group(1))
            return
        if NEWNET_OK.match(call):
            self.own_net.add(task)
            return
        connect = CONNECT.match(call)
        if connect:
            self.connect(task, call)

    def spawned(self, parent, child, new_net):
        # The child keeps a project it already exec'd itself into (its lines can come before this one).
        self.project.setdefault(child, self.project.get(parent, RUNNER))
        self.exe.setdefault(child, self.exe.get(parent, ""))
        if new_net or parent in self.own_net:
            self.own_net.add(child)
        for address in self.pending.pop(child, []):
            self.count(child, address)

    def connect(self, task, call):
        self.connects += 1
        port = INET_PORT.search(call)
        address = INET4_ADDR.search(call) or INET6_ADDR.search(call)
        if address is None or loopback(address.group(1)):
            return
        where = f"{address.group(1)}:{port.group(1) if port else '?'}"
        if task in self.project:
            self.count(task, where)
        else:
            self.pending[task].append(where)

    def count(self, task, where):
        if task not in self.own_net and (self.exe.get(task, ""), where) not in ROUTE_PROBES:
            self.outside[self.project.get(task, RUNNER)][where] += 1

    def finish(self):
        # A call whose task ended before it returned (killed while connecting) still counts.
        for task, call in self.unfinished.items():
            self.call(task, call)
        self.unfinished.clear()
        # A task whose parent's clone the trace never showed returning: only the runner's can be unknown.
        for task, addresses in self.pending.items():
            for where in addresses:
                self.outside[RUNNER][where] += 1
        self.pending.clear()


def check(trace_file, excepted):
    trace = Trace()
    try:
        with open(trace_file, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                trace.feed(line.rstrip("\n"))
    except OSError as e:
        print(f"loopback-only: cannot read the trace {trace_file}: {e.strerror}; run the tests again", file=sys.stderr)
        return 2
    trace.finish()
    # Every testhost talks to its runner over loopback TCP: a trace showing no testhost or no connect was misread.
    if not trace.suites or trace.connects == 0:
        print(
            f"loopback-only: {trace_file} shows {len(trace.suites)} testhosts and {trace.connects} connects: "
            "not a trace of a test run, or strace writes another format; fix eng/loopback-only.py",
            file=sys.stderr,
        )
        return 2
    bad = {p: a for p, a in trace.outside.items() if p not in excepted}
    for project in sorted(bad):
        addresses = bad[project]
        listed = ", ".join(f"{a} ({n})" for a, n in sorted(addresses.items()))
        print(f"loopback-only: {project}: {sum(addresses.values())} connects outside loopback: {listed}")
    if bad:
        print(
            "loopback-only: unit suites must reach nothing outside loopback: point the spec's definition, mirror or "
            "module at a loopback fake (ClosedLoopback, FakeHttpServer), or move it to ImageForge.E2E; "
            f"find the spec with eng/loopback-only.py run -- dotnet test tests/<project> --filter ... (trace: {trace_file})"
        )
        return 1
    checked = sorted(trace.suites - excepted)
    print(
        f"loopback-only: no connect outside loopback from the {len(checked)} checked suites "
        f"({trace.connects} connects traced): {', '.join(checked)}"
    )
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "strace-args":
        args = strace_args(argv[1])
        if args is None:
            print("loopback-only: strace is missing or cannot trace here; the network check is off", file=sys.stderr)
            return 1
        print("\n".join(args))
        return 0
    mode, rest = (argv[0], argv[1:]) if argv else ("", [])
    excepted = set()
    while len(rest) >= 2 and rest[0] == "--except":
        excepted.add(rest[1])
        rest = rest[2:]
    if mode == "check" and len(rest) == 1:
        return check(rest[0], excepted)
    if mode == "run" and len(rest) >= 2 and rest[0] == "--":
        trace_file = tempfile.mkstemp(prefix="loopback-only-", suffix=".strace")[1]
        args = strace_args(trace_file)
        if args is None:
            os.remove(trace_file)
            print("loopback-only: strace is missing or cannot trace here; running unchecked", file=sys.stderr)
            return subprocess.run(rest[1:], check=False).returncode
        code = subprocess.run(args + rest[1:], check=False).returncode
        verdict = check(trace_file, excepted)
        if verdict == 0:
            os.remove(trace_file)  # kept when it shows a connect outside loopback, to read
        return code if code != 0 else verdict
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
