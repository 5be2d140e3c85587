"""Submissions made from the reference by small edits (mistakes.toml,
corpus.toml), and grading them through the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grader.build import GAP_FILES, ROOT


def edits(spec: dict) -> list[dict]:
    """The edits of an entry: a list under `edit`, or one replace/with pair."""
    if "edit" in spec:
        return spec["edit"]
    if "replace" in spec:
        return [{"file": spec.get("file", "paging.c"), "replace": spec["replace"], "with": spec["with"]}]
    return []


def make_submission(name: str, spec: dict, folder: Path) -> Path:
    """The reference gap files with the entry's edits, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for gap in GAP_FILES:
        if gap == spec.get("remove"):
            continue
        text = (ROOT / "solutions" / gap).read_text()
        for edit in edits(spec):
            if edit.get("file", "paging.c") == gap:
                assert text.count(edit["replace"]) == 1, f"{name}: {edit['replace']!r} must occur once in {gap}"
                text = text.replace(edit["replace"], edit["with"])
        (folder / gap).write_text(text)
    return folder


@dataclass(frozen=True)
class Graded:
    tests: dict[str, dict]  # name -> the JSON report's test entry
    stdout: str
    returncode: int
    seconds: float


def grade(submission: Path, work: Path, lab: int, tests: str = "*", jobs: int = 1,
          extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Graded:
    """Grades a submission folder with `python3 -m grader` (and `extra`
    arguments, and `env` added to the environment)."""
    out = work / "report.json"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--lab", str(lab),
                             "--test", tests, "--jobs", str(jobs), "--out", str(work / "grade"), "--json",
                             str(out), *extra], cwd=ROOT, capture_output=True, text=True, errors="replace",
                            timeout=600, env={**os.environ, **(env or {})})
    seconds = time.monotonic() - start
    assert out.exists(), f"no report written:\n{result.stdout}\n{result.stderr}"
    doc = json.loads(out.read_text())
    return Graded({t["name"]: t for t in doc["tests"]}, result.stdout + result.stderr, result.returncode, seconds)
