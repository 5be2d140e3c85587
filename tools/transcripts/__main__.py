"""python3 -m tools.transcripts [--check] [--only TEXT] [--jobs N] [--work DIR]

Makes every transcript of the handouts again from the current kit and
writes it into its block (make transcripts), where it differs from what
the block holds in more than timings and tokens. --check writes nothing and
exits 1 when a block differs from what the kit prints now. --only runs the
runs whose key holds TEXT ("mistake lab1_", "gdb 01-identity-map.md",
"boot 05-waitpid.md")."""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.build import ROOT

from . import kinds, plan
from .markdown import Marker, MarkerError, identity, replace_blocks


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tools.transcripts", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare only; write nothing")
    ap.add_argument("--only", default="", help="only the runs whose key holds this text")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="runs at a time")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "transcripts", help="kernels and logs")
    args = ap.parse_args(argv)
    try:
        todo = [j for j in plan.jobs(plan.all_markers()) if args.only in j.key]
    except MarkerError as e:
        print(f"transcripts: {e}", file=sys.stderr)
        return 1
    kit = kinds.Kit(args.work)
    print(f"transcripts: {len(todo)} runs for {sum(len(j.markers) for j in todo)} blocks", flush=True)
    failed = 0
    results: dict[Marker, str] = {}

    def one(job: plan.Job) -> None:
        nonlocal failed
        try:
            results.update(plan.run(job, kit))
            print(f"  done   {job.key}", flush=True)
        except (kinds.GenerateError, MarkerError, AssertionError) as e:
            failed += 1
            print(f"  FAILED {job.key}: {e}", flush=True)

    # Kernels first, one at a time (builds share build/trusted/), then the runs.
    for source in sorted({m.option("kernel", "reference") for j in todo for m in j.markers if j.kind != "mistake"}):
        kit.kernel(source)
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, todo))
    if args.check:
        problems = plan.drift(results)
        for p in problems:
            print(p)
        return 1 if problems or failed else 0
    by_doc: dict[Path, dict[tuple, str]] = defaultdict(dict)
    for marker, text in results.items():
        if plan.drift({marker: text}):  # a block that differs only in timings stays as it is
            by_doc[marker.doc][identity(marker)] = text
    for doc, blocks in by_doc.items():
        if replace_blocks(doc, blocks):
            print(f"transcripts: rewrote {doc.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
