"""What a transcript may differ in from one run to the next, and how a
generated transcript shows the paths of the machine that made it.

`display()` is applied when a transcript is made: the generator's private
folders become the paths a student sees (kernel/paging.c, build/student/,
build/grade/). `comparable()` is applied to both sides of a comparison:
it masks only what varies between two runs of the same kit (timings, the
per-run token); everything else (addresses, counts, line numbers, messages)
must be equal.
"""
from __future__ import annotations

import re
from pathlib import Path

# What a student's paths look like in a transcript.
HOME = "/home/you/kestrel"
STUDENT_BUILD = "build/student"
GRADE_OUT = f"{HOME}/build/grade"
PORT = 25000  # the GDB port of a user whose uid is a multiple of 5000

_VARIES = [
    (re.compile(r"\b\d+\.\d+s\b"), "N.NNs"),  # scoreboard and progress times
    (re.compile(r"\b\d+(?:\.\d+)? s,"), "N s,"),  # total time of a grade
    (re.compile(r"\btoken=[0-9a-f]+"), "token=..."),  # the run's token
]


def comparable(text: str) -> str:
    """The text with what varies from run to run masked, and trailing
    spaces dropped."""
    for pattern, mask in _VARIES:
        text = pattern.sub(mask, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def display(text: str, root: Path, gap_dirs: dict[Path, str], builds: dict[Path, str]) -> str:
    """The text as a student would see it: each gap folder (reference or
    private copy) shown as the folder they name, each private build folder
    as the folder they name, the kit's own path as HOME, and the kit's
    reference files as the student's gap files."""
    for folder, shown in sorted({**gap_dirs, **builds}.items(), key=lambda kv: -len(str(kv[0]))):
        text = text.replace(f"{folder}/", f"{shown}/").replace(str(folder), shown)
    text = text.replace(f"{root}/", f"{HOME}/")
    text = re.sub(r"(?<![\w/])solutions/(paging|process)\.c", r"kernel/\1.c", text)
    return text
