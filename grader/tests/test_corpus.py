"""Bad submissions (corpus.toml): each gets its verdict, with its message,
in bounded time, and no point it did not earn."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from .submissions import grade, make_submission

CORPUS = tomllib.loads((Path(__file__).parent / "corpus.toml").read_text())


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_submission_gets_its_verdict(name, tmp_path):
    spec = CORPUS[name]
    graded = grade(make_submission(name, spec, tmp_path / "submission"), tmp_path, spec["lab"], spec["tests"],
                   jobs=2, extra=tuple(spec.get("args", ())))
    assert graded.tests, f"no test was graded:\n{graded.stdout}"
    assert graded.seconds < spec["max_seconds"], f"{name} took {graded.seconds:.1f} s"
    for test, result in graded.tests.items():
        if spec.get("score") == "full":
            assert result["score"] == result["max_score"], f"{test}: {result['output']}"
        else:
            assert result["score"] == 0, f"{name}: {test} earned points:\n{result['output']}"
        for needle in (spec["message"], spec.get("also", "")):
            assert needle in result["output"], f"{test}: expected {needle!r} in:\n{result['output']}"
        assert all(line.isprintable() for line in result["output"].splitlines()), "reports stay printable"
