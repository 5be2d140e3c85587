"""Known mistakes (mistakes.toml): each one compiles, passes some tests of
its lab, and fails the test named for it with a first message that names
the mistake; one that breaks every test of its lab names it in each. Its
report links the handout's entry for its symptom, and the reports the
handouts quote of it are what this run prints (tools/transcripts/): a
mistake a handout quotes is graded with the handout's seed."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tools.transcripts import kinds, markdown, plan

from .submissions import grade, make_submission

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())
QUOTED: dict[str, list[markdown.Marker]] = {}  # mistake -> the handouts' blocks that quote it
for _m in plan.all_markers():
    if _m.kind == "mistake":
        QUOTED.setdefault(_m.args[0], []).append(_m)


def first_message(test: dict) -> str:
    """The line a student reads first: "FAIL lab N test (0/p points): ..."."""
    return test["output"].splitlines()[0] if test["output"] else ""


def handout_link(test: dict) -> str:
    """Where the report sends the student: its `handout:` line."""
    return next((ln.removeprefix("handout: ") for ln in test["output"].splitlines() if ln.startswith("handout: ")), "")


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_is_caught_by_its_test(name, tmp_path):
    spec = MISTAKES[name]
    quoted = QUOTED.get(name, [])
    submission = make_submission(name, spec, tmp_path / "submission")
    graded = grade(submission, tmp_path, spec["lab"], extra=kinds.grade_arguments(quoted))
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
    assert "#" in handout_link(named), f"{name}: no hint of lab {spec['lab']}'s lab.toml matches\n  {named['output']}"

    for marker in quoted:  # the handouts quote this very run...
        test, entry = kinds.mistake_test(marker), markdown.entry_anchor(marker)
        if entry and marker.option("part") != "scoreboard":  # ...in the entry its report links
            assert handout_link(graded.tests[test]) == f"handouts/{marker.doc.name}#{entry}", \
                f"{marker.where}: {name}'s {test} report links {handout_link(graded.tests[test])}, not this entry"
    shown = kinds.Graded(graded.tests, graded.stdout, tmp_path / "grade", submission)
    problems = plan.drift({m: kinds.render_mistake(m, shown) for m in quoted})
    assert not problems, f"the handouts' reports of {name} differ from this run: run make transcripts " \
                         f"ONLY='mistake {name}'\n" + "\n".join(problems)
