"""Known mistakes (mistakes.toml): each one compiles, passes some tests of
its lab, and fails the test named for it."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader.build import GAP_FILES, ROOT

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())


def make_submission(name: str, folder: Path) -> Path:
    """The reference gap files with mistake `name` applied."""
    spec = MISTAKES[name]
    for gap in GAP_FILES:
        text = (ROOT / "solutions" / gap).read_text()
        if gap == spec["file"]:
            assert text.count(spec["replace"]) == 1, f"{name}: 'replace' must occur once in solutions/{gap}"
            text = text.replace(spec["replace"], spec["with"])
        (folder / gap).write_text(text)
    return folder


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_is_caught_by_its_test(name, tmp_path):
    spec = MISTAKES[name]
    submission = make_submission(name, tmp_path)
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--lab",
                             str(spec["lab"]), "--out", str(tmp_path / "grade"), "--json", str(out), "-q"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.exists(), result.stdout + result.stderr
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    assert not any("build failed" in t["output"] for t in tests.values()), result.stdout
    assert tests[spec["fails"]]["status"] == "failed", f"{name} ({spec['why']}) was not caught:\n{result.stdout}"
    passed = [t for t, r in tests.items() if r["status"] == "passed"]
    assert passed, f"{name} passes no test of lab {spec['lab']}: too broken to teach anything\n{result.stdout}"
    assert result.returncode != 0
