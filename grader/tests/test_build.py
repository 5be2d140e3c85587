"""Building the kit: every path that needs the trusted objects (make, the
grader, the test suite) builds them under one lock, so builds started at
the same time on a fresh tree never race."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grader.build import ROOT


def fresh_copy(dest: Path) -> Path:
    """The kit's working tree without its build folder, as a fresh clone has it."""
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns("build", "dist", ".git", "__pycache__"))
    return dest


def test_concurrent_builds_on_a_fresh_tree_build_trusted_once(tmp_path):
    tree = fresh_copy(tmp_path / "kit")
    commands = [
        ["make", "-j2", "trusted"],
        ["make", "SOLUTION=1", "kernel"],
        ["make", "-j2", "kernel", "GAP_DIR=solutions", f"OUT={tmp_path / 'other'}"],
        [sys.executable, "-m", "grader", "--reference", "--lab", "1", "--test", "translate", "-q",
         "--out", str(tmp_path / "grade")],
    ]
    procs = [subprocess.Popen(argv, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for argv in commands]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for argv, proc, out in zip(commands, procs, outputs):
        assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{out}"
    # make echoes each compile (the grader runs it with -s): kernel/main.c,
    # a trusted source, was compiled exactly once across all of them.
    compiles = sum(out.count("-c kernel/main.c") for out in outputs)
    assert compiles == 1, f"kernel/main.c compiled {compiles} times:\n" + "\n----\n".join(outputs)
    assert "1/1" in outputs[3] or "3/3" in outputs[3], outputs[3]
