"""Adding a lab mid-term (handouts/instructors.md, "Adding a lab"): the demo
lab 6 of data/demo-lab, a system-call lab, added to a copy of the kit as
the guide says. A submission from before it still builds, keeps its points
on labs 1-5 (the shell included) and gets "not implemented" on lab 6."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader.build import GAP_FILES, ROOT

DEMO = Path(__file__).parent / "data" / "demo-lab"
EDITS = tomllib.loads((DEMO / "edits.toml").read_text())["edit"]


def run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def demo_files() -> list[str]:
    """Every file of the kit the demo lab adds or changes."""
    added = [p.relative_to(DEMO).as_posix() for p in DEMO.rglob("*") if p.is_file() and p.name != "edits.toml"]
    return sorted(set(added) | {e["file"] for e in EDITS})


def add_demo_lab(kit: Path) -> None:
    for path in DEMO.rglob("*"):
        if path.is_file() and path.name != "edits.toml":
            target = kit / path.relative_to(DEMO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for edit in EDITS:
        target = kit / edit["file"]
        text = target.read_text()
        if "append" in edit:
            text += edit["append"]
        else:
            assert text.count(edit["replace"]) == 1, f"demo lab: {edit['replace']!r} must occur once in {edit['file']}"
            text = text.replace(edit["replace"], edit["with"])
        target.write_text(text)


@pytest.fixture
def kit(tmp_path) -> Path:
    """A copy of the kit (its files, not its build/) with the demo lab 6,
    skeleton regenerated as the guide says."""
    kit = tmp_path / "kestrel"
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (kit / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, kit / name)
    add_demo_lab(kit)
    result = run(["make", "-s", "skeleton"], kit)
    assert result.returncode == 0, result.stderr
    assert "gap_not_implemented(__func__, 6" in (kit / "kernel" / "process.c").read_text()
    return kit


@pytest.fixture
def old_submission(tmp_path) -> Path:
    """The reference of labs 1-5: a submission from before lab 6."""
    folder = tmp_path / "old"
    folder.mkdir()
    for gap in GAP_FILES:
        shutil.copy(ROOT / "solutions" / gap, folder / gap)
    assert "sys_nprocs" not in (folder / "process.c").read_text()
    return folder


def grade(kit: Path, out: Path, *args: str) -> tuple[dict, str]:
    """Grades in `kit`; returns the JSON report and what the grader said."""
    result = run([sys.executable, "-m", "grader", *args, "--jobs", "2", "-q", "--out", str(out / "g"), "--json",
                  str(out / "r.json")], kit)
    return json.loads((out / "r.json").read_text()), result.stdout + result.stderr


def test_the_guide_names_every_file_the_demo_lab_touches():
    guide = (ROOT / "handouts" / "instructors.md").read_text()
    section = guide[guide.index("## 3. Adding or changing a lab"):guide.index("## 4. ")]
    for name in demo_files():
        shown = re.sub(r"^labs/06-nprocs/", "", name)
        assert name in section or f"`{shown}`" in section, f"the guide's 'adding a lab' never names {name}"
    assert "kernel/main.c" in section and "shell" in section


def test_a_new_lab_keeps_old_submissions_gradable(kit, old_submission, tmp_path):
    lab6, said = grade(kit, tmp_path / "reference", "--reference", "--lab", "6")
    assert lab6["score"] == lab6["max_score"] == 5, said  # the demo lab works
    # Without the grader's stubs, the old gap files do not link with the new kernel.
    link = run(["make", "-s", f"GAP_DIR={old_submission}", f"OUT={tmp_path / 'plain'}", "elf"], kit)
    assert link.returncode != 0 and "undefined reference to `sys_nprocs'" in link.stdout + link.stderr
    shutil.rmtree(kit / "solutions")  # as in a student's tree or the Gradescope package
    doc, said = grade(kit, tmp_path / "old", "--submission", str(old_submission))
    by_lab: dict[int, list[dict]] = {}
    for t in doc["tests"]:
        by_lab.setdefault(t["lab"], []).append(t)
    assert sorted(by_lab) == [1, 2, 3, 4, 5, 6], said
    for lab in range(1, 6):
        assert all(t["score"] == t["max_score"] for t in by_lab[lab]), [t["output"] for t in by_lab[lab]]
    assert any(t["name"] == "shell" for t in by_lab[5]), "the shell still runs for a student who finished lab 5"
    assert [t["score"] for t in by_lab[6]] == [0]
    assert "not implemented: sys_nprocs() is still the stub" in by_lab[6][0]["output"]
    assert "process.c has no sys_nprocs() (lab 6): graded with its stub" in said
