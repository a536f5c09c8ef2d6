"""Prints image-tests.json from the checks and the serial console of the boot that ran them.

Usage: image-tests-json.py <checks.tsv> <console.log>

Each check (kind<TAB>subject<TAB>expected) gets the result the guest printed for it on the console
("imageforge-test <n> <pass|fail> <observed>", written by image-tests.sh). A check the console has no result for
failed: the guest never ran it (the boot failed, or the line was lost), and nothing was proven.
"""

import json
import re
import sys

RESULT = re.compile(r"imageforge-test (\d+) (pass|fail) ?([^\r\n]*)")


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: image-tests-json.py <checks.tsv> <console.log>")
    with open(argv[1], encoding="utf-8") as f:
        checks = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    with open(argv[2], encoding="utf-8", errors="replace") as f:
        console = f.read()
    seen = {}
    for match in RESULT.finditer(console):
        seen.setdefault(int(match.group(1)), (match.group(2) == "pass", match.group(3).strip()))
    results = []
    for n, check in enumerate(checks, start=1):
        kind, subject, expected = (check + ["", "", ""])[:3]
        passed, observed = seen.get(n, (False, "no result: the guest did not run this check"))
        results.append({"kind": kind, "subject": subject, "expected": expected, "passed": passed,
                        "observed": observed})
    failed = [r for r in results if not r["passed"]]
    summary = f"image tests: {len(results) - len(failed)} of {len(results)} passed"
    if failed:
        summary += "; failed: " + ", ".join(
            f"{r['kind']} {r['subject']}{' ' + r['expected'] if r['expected'] else ''} ({r['observed']})"
            for r in failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
    document = {
        "passed": not failed,
        "summary": summary,
        "total": len(results),
        "failed": len(failed),
        "results": results,
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
