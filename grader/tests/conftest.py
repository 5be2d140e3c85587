"""Fixtures of the grader's own tests: kernels built once per session and
per pytest-xdist worker, and a helper to boot them."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grader import build, qemu

ROOT = build.ROOT


def make(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Runs make in the repository; fails the test with its output on error."""
    result = subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def reference_kernel(worker_id: str) -> Path:
    """The kernel with the reference gap files, in a build folder of this
    pytest-xdist worker's own (the Makefile serializes build/trusted/)."""
    out = ROOT / "build" / "tests" / worker_id / "solution"
    make("SOLUTION=1", f"OUT={out}", "kernel")
    return out / "kernel.elf"


@pytest.fixture
def boot_reference(reference_kernel: Path, tmp_path: Path):
    """Boots the reference kernel with a harness test; returns the result."""

    def boot(test: str | None, timeout: float = 10.0, mem: int = 32, **params: str) -> qemu.RunResult:
        return qemu.run(qemu.RunRequest(reference_kernel, test, dict(params), mem_mb=mem, timeout=timeout,
                                        log_path=tmp_path / "serial.log"))

    return boot

# data/ holds inputs of the tests (a demo lab's own test file among them),
# not tests of the kit.
collect_ignore = ["data"]
