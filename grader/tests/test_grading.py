"""Grading end to end through the CLI: the reference gets full marks, the
skeleton zero with "not implemented", each partial skeleton fails exactly
its own lab, and the machine-readable reports agree with the scoreboard."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from grader.build import ROOT
from grader.labs import all_labs

LABS = all_labs()
ALL_TESTS = {(lab.number, t.name) for lab in LABS for t in lab.tests}


def run_grader(tmp_path, *args: str) -> tuple[dict, subprocess.CompletedProcess[str]]:
    out = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "grader", *args, "--jobs", "2", "--out", str(tmp_path / "g"),
                             "--json", str(out), "--junit", str(tmp_path / "junit.xml"), "--gradescope",
                             str(tmp_path / "results.json")], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert out.exists(), result.stdout + result.stderr
    return json.loads(out.read_text()), result


def test_reference_gets_full_marks(tmp_path):
    doc, result = run_grader(tmp_path, "--reference")
    failed = [t for t in doc["tests"] if t["status"] != "passed"]
    assert not failed, result.stdout
    assert {(t["lab"], t["name"]) for t in doc["tests"]} == ALL_TESTS
    assert doc["score"] == doc["max_score"] == sum(lab.max_points for lab in LABS)
    assert result.returncode == 0
    assert f"total {doc['score']:g}/{doc['max_score']:g}" in result.stdout
    gradescope = json.loads((tmp_path / "results.json").read_text())
    assert gradescope["score"] == doc["score"] and len(gradescope["tests"]) == len(ALL_TESTS)
    assert ET.parse(tmp_path / "junit.xml").getroot().get("failures") == "0"


def test_skeleton_scores_zero_with_not_implemented(tmp_path):
    doc, result = run_grader(tmp_path, "--submission", str(ROOT / "kernel"))
    assert doc["score"] == 0 and result.returncode != 0
    for test in doc["tests"]:
        assert "not implemented" in test["output"] or "blocked by" in test["output"], test["output"]
    lab1 = [t for t in doc["tests"] if t["lab"] == 1]
    assert all("init_paging() is still the stub" in t["output"] for t in lab1)
    assert ET.parse(tmp_path / "junit.xml").getroot().get("failures") == str(len(ALL_TESTS))


@pytest.mark.parametrize("upto", [lab.number for lab in LABS if lab.number > 1])
def test_partial_skeleton_fails_exactly_its_lab(upto, tmp_path):
    doc, result = run_grader(tmp_path, "--upto", str(upto))
    for test in doc["tests"]:
        if test["lab"] < upto:
            assert test["status"] == "passed", test["output"]
        elif test["lab"] == upto:
            assert "not implemented" in test["output"], test["output"]
        else:
            assert "not implemented" in test["output"] or "blocked by" in test["output"], test["output"]


def test_interrupted_run_keeps_results_and_resumes(tmp_path):
    import signal
    import time

    argv = [sys.executable, "-m", "grader", "--reference", "--lab", "1", "--lab", "2", "--seed", "77", "--jobs",
            "1", "--out", str(tmp_path / "g")]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    results = tmp_path / "g" / "logs" / "results"
    while time.monotonic() < deadline and len(list(results.glob("lab*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0]
    assert "interrupted" in output and "--resume" in output, output
    kept = {p.name for p in results.glob("lab*.json")}
    assert len(kept) >= 2
    resumed = subprocess.run([*argv[:-2], "--out", str(tmp_path / "g"), "--resume", "--json",
                              str(tmp_path / "r.json")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert f"resuming: {len(kept)} tests already graded" in resumed.stdout + resumed.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["score"] == doc["max_score"] and len(doc["tests"]) == sum(len(lab.tests) for lab in all_labs()[:2])


def test_deterministic_mode_replays_the_interleaving(tmp_path):
    """With --deterministic (QEMU -icount) and the same seed, two runs of a
    test with concurrent processes print the same log, line for line."""
    logs = []
    for run in range(2):
        out = tmp_path / f"g{run}"
        subprocess.run([sys.executable, "-m", "grader", "--reference", "--deterministic", "--seed", "31", "--lab",
                        "4", "--test", "fork_return", "-q", "--out", str(out)], cwd=ROOT, capture_output=True,
                       timeout=120)
        log = (out / "logs" / "04-fork" / "fork_return.log").read_text(errors="replace").splitlines()
        logs.append(log)
    assert len(logs[0]) > 5 and logs[0] == logs[1]
