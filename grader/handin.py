"""Hand-in archives: what a student submits, packed by `make handin`.

The archive holds kernel/paging.c and kernel/process.c, and the answer files
labs ask for (lab.toml `answers`). The grader reads it, like any other
submission, through grader/submission.py; packing checks that it finds the
gap files there, and warns, as `make grade` does, about edited files that
grading ignores.
"""
from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
from pathlib import Path

from .build import GAP_FILES, ROOT
from .labs import all_labs
from .submission import SubmissionError, changed_outside_gaps, find


class HandinError(Exception):
    """A tree that cannot be packed; the message says why."""


def answer_files() -> tuple[str, ...]:
    return tuple(a for lab in all_labs() for a in lab.answers)


def pack(root: Path, out: Path) -> list[str]:
    """Writes `out` (a .tar.gz) with the gap files and answer files found
    under `root`; returns the names packed."""
    names = [f"kernel/{g}" for g in GAP_FILES] + [a for a in answer_files() if (root / a).exists()]
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise HandinError(f"missing {', '.join(missing)}")
    with tarfile.open(out, "w:gz") as tar:
        for name in names:
            tar.add(root / name, arcname=name)
    with tempfile.TemporaryDirectory() as work:
        try:
            find(out, Path(work))  # what the grader will do with it
        except SubmissionError as e:
            raise HandinError(f"the grader cannot read {out.name}: {e}") from e
    return names


def main(argv: list[str]) -> int:
    """python3 -m grader handin [--out FILE]: packs this tree's gap files."""
    ap = argparse.ArgumentParser(prog="python3 -m grader handin", description=main.__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "handin.tar.gz")
    args = ap.parse_args(argv)
    for warning in changed_outside_gaps():
        print(f"handin: {warning}", file=sys.stderr)
    try:
        names = pack(ROOT, args.out)
    except HandinError as e:
        print(f"handin: {e}", file=sys.stderr)
        return 1
    print(f"handin: wrote {args.out} with {', '.join(names)}; submit that file.")
    return 0
