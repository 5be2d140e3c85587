"""The skeleton generator: the committed gap files are what it makes from
solutions/, no solution survives in them, and every partial skeleton
builds and stops at its first gap with that gap's message, quickly."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from grader import build, qemu
from grader.build import GAP_FILES, ROOT
from grader.labs import all_labs

from .leaks import leaked

LABS = all_labs()


def generate(reference: str, out, upto: int = 1) -> str:
    subprocess.run([sys.executable, str(ROOT / "tools" / "skeleton.py"), str(ROOT / "solutions" / reference),
                    "--upto", str(upto), "-o", str(out)], check=True, cwd=ROOT)
    return out.read_text()


@pytest.mark.parametrize("gap", GAP_FILES)
def test_committed_skeleton_is_up_to_date(gap, tmp_path):
    fresh = generate(gap, tmp_path / gap)
    assert (ROOT / "kernel" / gap).read_text() == fresh, f"kernel/{gap} is stale: run 'make skeleton'"


@pytest.mark.parametrize("gap", GAP_FILES)
def test_skeleton_keeps_no_solution(gap, tmp_path):
    skeleton = generate(gap, tmp_path / gap)
    assert "//@" not in skeleton
    assert leaked((ROOT / "solutions" / gap).read_text()), "the leak detector must find the reference itself"
    assert not leaked(skeleton), "solution code survives in the skeleton"
    functions = [f for lab in LABS if lab.file == gap for f in lab.functions]
    for function in functions:
        assert re.search(rf"\b{function}\(", skeleton), f"{function} missing from the skeleton"
    assert skeleton.count("gap_not_implemented(__func__") == len(functions)


def test_skeleton_round_trip_keeps_everything_before_lab_6(tmp_path):
    for gap in GAP_FILES:
        kept = generate(gap, tmp_path / gap, upto=99)
        reference = (ROOT / "solutions" / gap).read_text()
        assert kept == "".join(line for line in reference.splitlines(keepends=True) if "//@" not in line)


@pytest.mark.parametrize("upto", [lab.number for lab in LABS])
def test_partial_skeleton_stops_at_its_first_gap(upto, tmp_path):
    kernel = build.build_partial(upto, tmp_path).elf
    result = qemu.run(qemu.RunRequest(kernel, None, {}, mem_mb=32, timeout=15))
    # The stub itself stopped the kernel (a hang would be a timeout, a crash a panic).
    assert result.outcome is qemu.Outcome.NOT_IMPLEMENTED, result.message
    assert f"(lab {upto})" in result.message
    functions = next(lab.functions for lab in LABS if lab.number == upto)
    assert any(f"{f}()" in result.message for f in functions), result.message
