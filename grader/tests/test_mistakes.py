"""Known mistakes (mistakes.toml): each one compiles, passes some tests of
its lab, and fails the test named for it."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from .submissions import grade, make_submission

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_is_caught_by_its_test(name, tmp_path):
    spec = MISTAKES[name]
    graded = grade(make_submission(name, spec, tmp_path / "submission"), tmp_path, spec["lab"])
    assert not any("build failed" in t["output"] for t in graded.tests.values()), graded.stdout
    assert graded.tests[spec["fails"]]["status"] == "failed", f"{name} ({spec['why']}) not caught:\n{graded.stdout}"
    passed = [t for t, r in graded.tests.items() if r["status"] == "passed"]
    assert passed, f"{name} passes no test of lab {spec['lab']}: too broken to teach anything\n{graded.stdout}"
    assert graded.returncode != 0
