"""Known mistakes (mistakes.toml): each one compiles, passes some tests of
its lab, and fails the test named for it with a first message that names
the mistake; one that breaks every test of its lab names it in each."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from .submissions import grade, make_submission

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())


def first_message(test: dict) -> str:
    """The line a student reads first: "FAIL lab N test (0/p points): ..."."""
    return test["output"].splitlines()[0] if test["output"] else ""


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_is_caught_by_its_test(name, tmp_path):
    spec = MISTAKES[name]
    graded = grade(make_submission(name, spec, tmp_path / "submission"), tmp_path, spec["lab"])
    assert not any("build failed" in t["output"] for t in graded.tests.values()), graded.stdout
    named = graded.tests[spec["fails"]]
    assert named["status"] == "failed", f"{name} ({spec['why']}) not caught:\n{graded.stdout}"
    assert spec["message"] in first_message(named), (f"{name} ({spec['why']}): {spec['fails']} says\n  "
                                                     f"{first_message(named)}\nwhich does not say: {spec['message']}")
    passed = [t for t, r in graded.tests.items() if r["status"] == "passed"]
    if spec.get("every_test"):
        assert not passed, f"{name} breaks every test, yet {passed} passed\n{graded.stdout}"
        unnamed = {t: first_message(r) for t, r in graded.tests.items() if spec["message"] not in first_message(r)}
        assert not unnamed, f"{name}: these tests fail without saying {spec['message']!r}: {unnamed}"
    else:
        assert passed, f"{name} passes no test of lab {spec['lab']}: too broken to teach anything\n{graded.stdout}"
    assert graded.returncode != 0
