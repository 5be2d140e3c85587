#!/usr/bin/env python3
"""Turns the reference gap files (solutions/*.c) into student skeletons.

A reference file marks each lab's code with comment lines:

    //@ lab N body        the body of a lab function, from its '{' to its '}'
    //@ lab N private     static helpers and data that only lab N's code uses
    //@ end               closes either region

For a skeleton that keeps labs below K (K = 1: the student's starting point),
a body region of lab N >= K becomes a stub that stops the kernel with the
function's name, its lab and its handout; a private region of lab N >= K
becomes a one-line invitation. Regions of labs below K keep their code. The
marker lines themselves never reach a skeleton.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.stubs import body  # noqa: E402  (the one stub body, also used by grading)

MARKER = re.compile(r"^\s*//@\s*(?:lab\s+(\d+)\s+(body|private)|(end))\s*$")


class MarkerError(Exception):
    """A reference file whose markers do not pair up."""


@dataclass(frozen=True)
class Region:
    lab: int
    kind: str  # "body" or "private"
    lines: tuple[str, ...]


def parse(text: str, name: str) -> list[str | Region]:
    """Splits a reference file into plain lines and lab regions."""
    out: list[str | Region] = []
    open_region: tuple[int, str, int] | None = None  # lab, kind, line number
    body: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        m = MARKER.match(line)
        if not m:
            (body if open_region else out).append(line)
            continue
        if m.group(3):  # end
            if not open_region:
                raise MarkerError(f"{name}:{number}: '//@ end' without an open region")
            out.append(Region(open_region[0], open_region[1], tuple(body)))
            open_region, body = None, []
        elif open_region:
            raise MarkerError(f"{name}:{number}: region opened inside the region of line {open_region[2]}")
        else:
            open_region = (int(m.group(1)), m.group(2), number)
    if open_region:
        raise MarkerError(f"{name}:{open_region[2]}: region never closed")
    return out


def handout_for(lab: int, labs_dir: Path) -> str:
    """The handout file name of lab `lab`, from its folder labs/NN-name/."""
    folders = sorted(labs_dir.glob(f"{lab:02d}-*"))
    if len(folders) != 1:
        raise MarkerError(f"lab {lab}: expected one folder {labs_dir}/{lab:02d}-*, found {len(folders)}")
    return f"{folders[0].name}.md"


def stub(region: Region, labs_dir: Path) -> list[str]:
    if region.kind == "private":
        return [f"// Lab {region.lab}: your private helpers (static functions and data) go here.\n"]
    return body(region.lab, handout_for(region.lab, labs_dir))


def render(parts: list[str | Region], upto: int, labs_dir: Path) -> str:
    """The skeleton that keeps the reference code of labs below `upto`."""
    lines: list[str] = []
    for part in parts:
        if isinstance(part, str):
            lines.append(part)
        elif part.lab < upto:
            lines.extend(part.lines)
        else:
            lines.extend(stub(part, labs_dir))
    return "".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reference", type=Path, help="a file of solutions/")
    ap.add_argument("--upto", type=int, default=1, help="keep the reference code of labs below this one")
    ap.add_argument("--labs", type=Path, default=Path("labs"), help="the labs folder (for handout names)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        parts = parse(args.reference.read_text(), str(args.reference))
        text = render(parts, args.upto, args.labs)
    except MarkerError as e:
        print(f"skeleton: {e}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not args.output.exists() or args.output.read_text() != text:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
