"""python3 -m grader soak [--runs N] [--jobs N] (make soak): grades the
reference again and again with fresh seeds. Any failure, or any review flag
on the reference, is a flaky test or a bug; it is reported with the seed
that replays it."""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from .build import ROOT


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader soak", description=__doc__)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "soak")
    args = ap.parse_args(argv)
    failing: list[tuple[int, list[str]]] = []
    for i in range(1, args.runs + 1):
        start = time.monotonic()
        seed = random.randrange(1, 1 << 31)
        report_path = args.out / "report.json"
        subprocess.run([sys.executable, "-m", "grader", "--reference", "--seed", str(seed), "--jobs",
                        str(args.jobs), "--quiet", "--out", str(args.out), "--json", str(report_path)], cwd=ROOT,
                       capture_output=True, timeout=1800)
        doc = json.loads(report_path.read_text()) if report_path.exists() else {"tests": [], "score": 0,
                                                                                 "max_score": 0}
        failed = [f"lab {t['lab']} {t['name']}: {t['output'].splitlines()[0]}" for t in doc["tests"]
                  if t["status"] != "passed"] or ([] if doc["tests"] else ["no report"])
        failed += [f"lab {t['lab']} {t['name']}: flagged: {flag}" for t in doc["tests"] for flag in t.get("flags", ())]
        print(f"run {i}/{args.runs} seed {seed}: {doc['score']:g}/{doc['max_score']:g}"
              f"{'  FAILED' if failed else ''}  ({time.monotonic() - start:.0f} s)", flush=True)
        if failed:
            failing.append((seed, failed))
            report_path.replace(args.out / f"failed-{seed}.json")
    for seed, failed in failing:
        print(f"\nseed {seed} failed; replay with: make grade SOLUTION=1 SEED={seed}")
        print("\n".join("  " + f for f in failed))
    print(f"\nsoak: {args.runs} runs, {len(failing)} with failures")
    return 1 if failing else 0
