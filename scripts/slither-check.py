"""Compare a Slither JSON report with the accepted findings (scripts/slither-accepted.json).

A finding is named by its detector and the contract element it is about (not by line
numbers, which move with every edit). Exit 0 when every finding is accepted, 1 when a
finding is new (each printed with Slither's description) or Slither failed.
Usage: python3 scripts/slither-check.py REPORT.json ACCEPTED.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def identity(result: dict) -> tuple[str, str]:
    element = result["elements"][0] if result.get("elements") else {}
    parent = element.get("type_specific_fields", {}).get("parent", {}).get("name")
    name = element.get("name", "?")
    return result["check"], f"{parent}.{name}" if parent else name


def main(report_path: str, accepted_path: str) -> int:
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    if not report.get("success"):
        print(f"slither failed: {report.get('error')}", file=sys.stderr)
        return 1
    results = report.get("results", {}).get("detectors", [])
    accepted = {
        (entry["check"], entry["element"]): entry["why"]
        for entry in json.loads(Path(accepted_path).read_text(encoding="utf-8"))["accepted"]
    }
    found = Counter(identity(result) for result in results)
    new = [result for result in results if identity(result) not in accepted]
    for result in new:
        check, element = identity(result)
        print(f"NEW {result['impact']}/{result['confidence']} {check} {element}")
        print("    " + result["description"].strip().replace("\n", "\n    "))
    gone = sorted(set(accepted) - set(found))
    for check, element in gone:
        print(f"no longer reported (remove from the accepted list): {check} {element}")
    print(f"slither: {len(results)} finding(s), {len(results) - len(new)} accepted, {len(new)} new")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
