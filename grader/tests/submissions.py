"""Submissions made from the reference by small edits (mistakes.toml,
corpus.toml), and grading them through the real CLI."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile
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
          extra: tuple[str, ...] = ()) -> Graded:
    """Grades a submission folder with `python3 -m grader` (and `extra`
    arguments)."""
    out = work / "report.json"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--lab", str(lab),
                             "--test", tests, "--jobs", str(jobs), "--out", str(work / "grade"), "--json",
                             str(out), *extra], cwd=ROOT, capture_output=True, text=True, errors="replace",
                            timeout=600)
    seconds = time.monotonic() - start
    assert out.exists(), f"no report written:\n{result.stdout}\n{result.stderr}"
    doc = json.loads(out.read_text())
    return Graded({t["name"]: t for t in doc["tests"]}, result.stdout + result.stderr, result.returncode, seconds)


# init_paging spins with interrupts off: every test times out, its QEMU on the CPU.
SPINS = {"edit": [{"replace": "    identity_map(pmm_ram_end());",
                   "with": "    for (volatile int spin = 1; spin;) {}\n    identity_map(pmm_ram_end());"}]}
# waitpid sleeps forever: lab 5's tests time out with the guest idle.
SLEEPS = {"edit": [{"file": "process.c", "replace": "    struct process *me = process_current();\n    bool have_child",
                    "with": "    struct process *me = process_current();\n    me->wake_tick = 0x7FFFFFFF;\n"
                            "    return process_block(BLOCK_SLEEP);\n    bool have_child"}]}


def make_class(root: Path, mistake: dict) -> dict[str, float]:
    """A class as instructors receive one, in `root`: each way of handing in
    and of failing; returns each student's lab 1 score (of 20).
    `mistake` is a mistakes.toml entry that fails lab 1's remap (3 points)."""
    make_submission("alice", {}, root / "alice")  # the two files at the top
    make_submission("bob", mistake, root / "bob")
    make_submission("carol", {"edit": [{"replace": "    identity_map(pmm_ram_end());", "with": "oops"}]},
                    root / "carol")  # does not compile
    (root / "dave").mkdir()  # nothing handed in
    tree = make_submission("erin", {}, root / "erin-tree" / "kernel").parent  # make handin's archive
    from grader.handin import pack

    pack(tree, root / "erin.tar.gz")
    shutil.rmtree(tree)
    folder = make_submission("fay", {}, root / "fay-zip" / "kestrel-fay" / "kernel")  # a zipped folder
    with zipfile.ZipFile(root / "fay.zip", "w") as z:
        for gap in GAP_FILES:
            z.write(folder / gap, f"kestrel-fay/kernel/{gap}")
        z.writestr("__MACOSX/kestrel-fay/kernel/._paging.c", b"\0\5\26\7 not C")
    shutil.rmtree(root / "fay-zip")
    gus = make_submission("gus", {}, root / "gus")  # near-miss names
    (gus / "paging.c").rename(gus / "Paging.c")
    (gus / "process.c").rename(gus / "process_lab5.c")
    return {"alice": 20, "bob": 17, "carol": 0, "dave": 0, "erin": 20, "fay": 20, "gus": 20}
