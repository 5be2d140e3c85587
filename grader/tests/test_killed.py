"""A QEMU killed from outside (Ctrl-C, SIGTERM, the OOM killer) ends its
boot as "interrupted": never a triple fault or a QEMU error, and never a
recorded result."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from grader import qemu
from grader.build import ROOT
from grader.qemu import Outcome

from .procs import qemus, wait_for
from .submissions import SPINS, make_submission


def catches(pid: int, sig: signal.Signals) -> bool:
    """Whether process `pid` has a handler for `sig` (/proc's SigCgt mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_killed_qemu_is_interrupted_not_a_triple_fault(reference_kernel, sig):
    # A normal boot waits in the shell: it runs until something ends it.
    results: list[qemu.RunResult] = []
    boot = threading.Thread(target=lambda: results.append(
        qemu.run(qemu.RunRequest(reference_kernel, None, {}, mem_mb=32, timeout=60))))
    boot.start()
    pid = wait_for(lambda: qemus(str(reference_kernel)), "the boot's QEMU")[0]
    if sig != signal.SIGKILL:  # QEMU catches it once set up: wait for that, the case that looked like a triple fault
        wait_for(lambda: catches(pid, sig), f"QEMU catches {sig.name}")
    os.kill(pid, sig)
    boot.join()
    result = results[0]
    # QEMU exits 0 on SIGTERM and SIGINT, as it does on a triple fault with
    # -no-reboot; the OOM killer's SIGKILL leaves no status at all.
    assert result.exit_code == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
    assert result.outcome is Outcome.INTERRUPTED, result.message
    assert f"signal {int(sig)}" in result.message


def test_the_grader_records_no_result_for_an_interrupted_test(tmp_path):
    submission = make_submission("spin", SPINS, tmp_path / "spin")  # runs until its timeout: time to kill it
    out = tmp_path / "g"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "--submission", str(submission), "--lab", "1",
                             "--test", "translate", "--out", str(out), "--json", str(tmp_path / "r.json")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    test_qemu = wait_for(lambda: qemus(str(out), "test=translate"), "the test's QEMU")[0]
    os.kill(test_qemu, signal.SIGKILL)  # as the OOM killer does
    stdout = proc.communicate(timeout=120)[0]
    test = json.loads((tmp_path / "r.json").read_text())["tests"][0]
    assert test["status"] == "not run", test
    assert "triple fault" not in stdout and "qemu error" not in stdout
    assert "interrupted: finished tests are kept; run again with --resume" in stdout
    assert not list((out / "logs" / "results").glob("lab*.json")), "an interrupted test has no result"
