"""Counts passed/failed/skipped end-to-end checks from the clients' own reports (used by e2e/run.sh).

    tally.py tap FILE                       node --test TAP output ("# pass N", "# fail N")
    tally.py junit FILE                     pytest --junit-xml output
    tally.py conformance DIR BASELINE       conformance results dir (one checks.json per scenario)
    tally.py baseline BASELINE              lint: every expected failure carries a reason

Prints one line "PASSED FAILED SKIPPED". A missing or unreadable report counts as one failure.
For conformance, a scenario passes when none of its checks is FAILURE or WARNING (the suite's own
rule); a failing scenario listed in the baseline is an expected failure (counted as skipped); a
listed scenario that passes is a stale entry (counted as failed, as the suite itself does).
Standard library only: it runs before and without the venv.
"""

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def tap(path: Path) -> tuple[int, int, int]:
    text = path.read_text()
    passed = re.search(r"^# pass (\d+)$", text, re.M)
    failed = re.search(r"^# fail (\d+)$", text, re.M)
    skipped = re.search(r"^# skipped (\d+)$", text, re.M)
    if not passed or not failed:
        return 0, 1, 0
    return int(passed[1]), int(failed[1]), int(skipped[1]) if skipped else 0


def junit(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failed = skipped = 0
    for s in suites:
        total += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    if total == 0:
        return 0, 1, 0
    return total - failed - skipped, failed, skipped


def baseline_entries(path: Path) -> list[tuple[str, str]]:
    """(scenario, reason) for each `  - scenario  # reason` line under `server:`."""
    entries = []
    for line in path.read_text().splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.-]+)\s*(?:#\s*(.*))?$", line)
        if m:
            entries.append((m[1], (m[2] or "").strip()))
    return entries


def baseline(path: Path) -> tuple[int, int, int]:
    bad = [name for name, reason in baseline_entries(path) if len(reason) < 10]
    for name in bad:
        print(f"expected failure without a reason: {name}", file=sys.stderr)
    return (0, 1, 0) if bad else (1, 0, 0)


def conformance(results: Path, base: Path) -> tuple[int, int, int]:
    expected = {name for name, _ in baseline_entries(base)}
    outcome: dict[str, bool] = {}
    for checks in sorted(results.glob("*/checks.json")):
        m = re.match(r"^server-(.+)-\d{4}-\d{2}-\d{2}T.*$", checks.parent.name)
        scenario = m[1] if m else checks.parent.name
        statuses = {c.get("status") for c in json.loads(checks.read_text())}
        ok = not statuses & {"FAILURE", "WARNING"}
        outcome[scenario] = outcome.get(scenario, True) and ok
    if not outcome:
        return 0, 1, 0
    passed = failed = skipped = 0
    for scenario, ok in sorted(outcome.items()):
        listed = scenario in expected
        if ok and not listed:
            passed += 1
        elif not ok and listed:
            skipped += 1
        else:
            failed += 1
            why = "stale expected failure (now passes)" if ok else "unexpected failure"
            print(f"conformance: {scenario}: {why}", file=sys.stderr)
    return passed, failed, skipped


def main() -> None:
    kind, *args = sys.argv[1:]
    try:
        if kind == "tap":
            counts = tap(Path(args[0]))
        elif kind == "junit":
            counts = junit(Path(args[0]))
        elif kind == "conformance":
            counts = conformance(Path(args[0]), Path(args[1]))
        elif kind == "baseline":
            counts = baseline(Path(args[0]))
        else:
            raise SystemExit(f"unknown report kind {kind}")
    except (OSError, ValueError, ET.ParseError) as e:
        print(f"tally: {kind}: {e}", file=sys.stderr)
        counts = (0, 1, 0)
    print(*counts)


if __name__ == "__main__":
    main()
