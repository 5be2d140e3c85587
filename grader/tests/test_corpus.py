"""Bad submissions (corpus.toml): each gets its verdict, with its message,
in bounded time, and no point it did not earn; review flags where asked."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from .submissions import grade, make_submission

HERE = Path(__file__).parent
CORPUS = tomllib.loads((HERE / "corpus.toml").read_text())


def attack_helpers() -> dict[str, str]:
    """The sections of data/attacks.c, by name ("// ---- name" lines)."""
    parts = re.split(r"^// ---- (\w+)\n", (HERE / "data" / "attacks.c").read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def with_helpers(spec: dict) -> dict:
    """The entry with each @@name@@ of its edits replaced by that helper."""
    helpers = attack_helpers()
    paste = lambda text: re.sub(r"@@(\w+)@@", lambda m: helpers[m[1]], text)  # noqa: E731
    return {**spec, "edit": [{**e, "with": paste(e["with"])} for e in spec.get("edit", [])]} if "edit" in spec \
        else spec


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_submission_gets_its_verdict(name, tmp_path):
    spec = CORPUS[name]
    submission = make_submission(name, with_helpers(spec), tmp_path / "submission")
    graded = grade(submission, tmp_path, spec["lab"], spec["tests"], jobs=2, extra=tuple(spec.get("args", ())))
    assert graded.tests, f"no test was graded:\n{graded.stdout}"
    assert graded.seconds < spec["max_seconds"], f"{name} took {graded.seconds:.1f} s"
    for test, result in graded.tests.items():
        if spec.get("score") == "full":
            assert result["score"] == result["max_score"], f"{test}: {result['output']}"
        else:
            assert result["score"] == 0, f"{name}: {test} earned points:\n{result['output']}"
        for needle in (spec["message"], spec.get("also", "")):
            assert needle in result["output"], f"{test}: expected {needle!r} in:\n{result['output']}"
        if "flag" in spec:
            assert any(spec["flag"] in f for f in result["flags"]), f"{test}: no flag {spec['flag']!r} in " \
                                                                   f"{result['flags']}"
        assert all(line.isprintable() for line in result["output"].splitlines()), "reports stay printable"
