"""Batch grading (grader/batch.py, pool.py, worker.py), run for real: a class
graded, resumed, sharded and merged; interrupted every way a batch dies;
hanging students graded beside the others."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from grader.batch import in_shard
from grader.build import ROOT
from grader.gradebook import Settings, Student
from grader.labs import all_labs
from grader.schedule import Grading

from .procs import qemus, state, tree, wait_for
from .submissions import SLEEPS, SPINS, make_class, make_submission

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())
LAB1 = all_labs()[0]  # the lab these batches grade


def batch(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", "batch", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def qemus_of(out: Path, student: str = "") -> list[int]:
    """The QEMUs running a kernel of the batch in `out` (of one student)."""
    return qemus(f"{out}/students/{student}")


# ---- A class, graded whole, resumed, sharded ------------------------------------

def test_a_class_is_graded_resumed_and_sharded(tmp_path):
    subs = tmp_path / "class"
    expected = make_class(subs, MISTAKES["lab1_no_invlpg_on_remap"])
    out = tmp_path / "out"
    result = batch(str(subs), "--jobs", "2", "--out", str(out), "--lab", "1", "--seed", "7")
    assert result.returncode == 0, result.stdout + result.stderr

    # Every way of handing in (submissions.make_class), each with its grade.
    rows = grades(out)
    assert {name: float(row["total"]) for name, row in rows.items()} == expected, result.stdout
    assert "remap" in rows["bob"]["failed"]
    assert rows["carol"]["failed"].startswith("build failed") and "missing gap file" in rows["dave"]["failed"]
    assert "[7/7]" in result.stdout and "average" in result.stdout
    fay = json.loads((out / "students" / "fay" / "report.json").read_text())
    assert "found paging.c at fay.zip:kestrel-fay/kernel/paging.c" in fay["notes"]
    gus = json.loads((out / "students" / "gus" / "report.json").read_text())
    assert any("no file named paging.c: graded Paging.c" in n for n in gus["notes"])
    assert any("graded process_lab5.c" in n and "expects process.c" in n for n in gus["notes"])
    assert gus["seed"] == 7 and gus["score"] == LAB1.max_points and len(gus["tests"]) == len(LAB1.tests)
    assert not (out / "students" / "alice" / "work").exists(), "a finished student's build is not kept"

    # Run again: only what is missing is graded, with the same settings.
    again = batch(str(subs), "--jobs", "2", "--out", str(out), "--lab", "1")
    assert "7 already graded" in again.stdout and "[1/" not in again.stdout, again.stdout
    (out / "students" / "bob" / "report.json").unlink()
    resumed = batch(str(subs), "--jobs", "2", "--out", str(out), "--lab", "1")
    assert "6 already graded" in resumed.stdout and f"[1/1] bob: {LAB1.max_points - 3:g}/{LAB1.max_points:g}" in resumed.stdout, resumed.stdout
    mixed = batch(str(subs), "--jobs", "2", "--out", str(out), "--lab", "2")
    assert mixed.returncode == 2 and "graded with --lab 1, not --lab 2" in mixed.stderr, mixed.stderr

    # Two shards, merged, give the same grades.
    names = sorted(rows)
    assert all(sum(in_shard(n, (k, 2)) for k in (1, 2)) == 1 for n in names), "each student in one shard"
    assert {in_shard(n, (1, 2)) for n in names} == {True, False}, "this class has students in both shards"
    refused = batch(str(subs), "--shard", "1/2", "--out", str(tmp_path / "x"))
    assert refused.returncode == 2 and "--shard needs --seed" in refused.stdout + refused.stderr, refused
    speed = str(Settings.load(out).speed)  # the same timeouts as the whole batch
    parts = []
    for k in (1, 2):
        part = tmp_path / f"shard{k}"
        result = batch(str(subs), "--jobs", "2", "--out", str(part), "--lab", "1", "--seed", "7", "--speed", speed,
                       "--shard", f"{k}/2")
        assert result.returncode == 0, result.stdout + result.stderr
        assert set(grades(part)) == {n for n in names if in_shard(n, (k, 2))}
        parts.append(str(part))
    merged = batch("merge", *parts, "--out", str(tmp_path / "all"))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert grades(tmp_path / "all") == grades(out)
    assert Settings.load(tmp_path / "all").seed == 7
    (tmp_path / "other").mkdir()
    Settings(8, 1.0, (1,)).save(tmp_path / "other")
    refused = batch("merge", parts[0], str(tmp_path / "other"), "--out", str(tmp_path / "bad"))
    assert refused.returncode == 2 and "different seeds" in refused.stderr


# ---- Interrupted every way --------------------------------------------------------

def lose_machine(pid: int) -> None:
    """Kills `pid` and its descendants as a power cut would: all frozen
    first (none starts another, or acts on its parent's death), then all
    killed. One may end by itself meanwhile."""
    frozen: set[int] = set()
    while new := set(tree(pid)) - frozen:
        for each in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGSTOP)
        frozen |= new
    for each in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)


def kill_one(pids: list[int]) -> bool:
    """SIGKILL to the first of `pids` still there (a test's QEMU lives
    about 0.1 s); whether one got it."""
    for pid in pids:
        with contextlib.suppress(OSError):  # gone meanwhile
            if state(pid) == "Z":
                continue  # ended already, not yet reaped: a kill would change nothing
            os.kill(pid, signal.SIGKILL)
            return True
    return False


def interrupt(subs: Path, out: Path, how: str) -> subprocess.CompletedProcess[str]:
    """Starts the batch, waits until a student is final and QEMUs run, then
    stops it `how`; returns how it ended. No QEMU of it may survive."""
    finished = len(list(out.glob("students/*/report.json")))
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--jobs", "2", "--out", str(out),
                             "--lab", "1", "--seed", "11"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    wait_for(lambda: len(list(out.glob("students/*/report.json"))) > finished and qemus_of(out),
             "a student graded while others still are")
    if how == "SIGINT":  # Ctrl-C: the terminal signals the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    elif how == "SIGTERM":
        os.kill(proc.pid, signal.SIGTERM)
    elif how == "SIGKILL":
        os.kill(proc.pid, signal.SIGKILL)
    else:  # a lost machine: everything dies at once
        lose_machine(proc.pid)
    stdout, _ = proc.communicate(timeout=60)
    wait_for(lambda: not qemus_of(out), "every QEMU of the batch ended", bound=20)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, "")


def test_an_interrupted_batch_loses_nothing_and_records_nothing_false(tmp_path):
    subs = tmp_path / "subs"
    expected = {f"s{i:02d}": LAB1.max_points for i in range(10)} | {"zbob": LAB1.max_points - 3}
    for name in expected:
        make_submission(name, MISTAKES["lab1_no_invlpg_on_remap"] if name == "zbob" else {}, subs / name)
    out = tmp_path / "out"
    for how, code in (("SIGINT", 130), ("SIGTERM", 143), ("SIGKILL", -9), ("lost machine", -9)):
        before = {p.parent.name for p in out.glob("students/*/report.json")}
        ended = interrupt(subs, out, how)
        final = {p.parent.name: json.loads(p.read_text()) for p in out.glob("students/*/report.json")}
        assert ended.returncode == code, (how, ended.stdout)
        assert len(final) < len(expected), f"{how}: the batch went on grading everyone"
        assert before < set(final), f"{how}: no student finished in this run"
        assert f"{len(before)} already graded" in ended.stdout, ended.stdout
        for name, doc in final.items():  # a final result is a complete one
            assert doc["score"] == expected[name] and len(doc["tests"]) == len(LAB1.tests), (how, name, doc["score"])
        if code > 0:  # the batch had time to write grades.csv: the students who finished
            assert set(grades(out)) == set(final), (how, ended.stdout)
            assert f"{len(final)} of {len(expected)} students are graded" in ended.stdout
    # The last run: a QEMU killed from outside (the OOM killer) costs a re-run of its test, not a grade.
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--jobs", "2", "--out", str(out),
                             "--lab", "1", "--seed", "11"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: kill_one(qemus_of(out)), "a QEMU of the last run, killed")
    done = subprocess.CompletedProcess(proc.args, 0, proc.communicate(timeout=600)[0], "")
    assert proc.returncode == 0, done.stdout
    assert "was interrupted" in done.stdout and "grading it again" in done.stdout, done.stdout
    left = len(expected) - len(final)
    assert f"{len(final)} already graded" in done.stdout and f"[{left}/{left}]" in done.stdout
    assert {n: float(r["total"]) for n, r in grades(out).items()} == expected


# ---- Hanging students ------------------------------------------------------------

def batch_watched(subs: Path, out: Path, *args: str, student: str = "") -> tuple[str, int]:
    """Runs a batch to its end; returns what it printed and the most QEMUs
    of it (of `student`) seen running at once."""
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    most, end = 0, time.monotonic() + 600  # a guard against a hung batch, not a speed limit
    while proc.poll() is None:
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("the batch still ran after 600 s")
        most = max(most, len(qemus_of(out, student)))
        time.sleep(0.05)
    stdout = proc.communicate()[0]
    assert proc.returncode == 0, stdout
    return stdout, most


# A hanging student's tests time out whatever the timeouts are: these
# batches give --speed 1, the timeouts of lab.toml as they are.

def test_a_spinning_student_is_spread_over_the_workers(tmp_path):
    make_submission("mallory", SPINS, tmp_path / "subs" / "mallory")
    out = tmp_path / "out"
    stdout, at_once = batch_watched(tmp_path / "subs", out, "--jobs", "2", "--lab", "1", "--speed", "1",
                                    student="mallory")
    assert at_once == 2, "the hanging student's tests ran one after another (or more than 2 spun at once)"
    mallory = json.loads((out / "students" / "mallory" / "report.json").read_text())
    assert all(t["summary"].startswith("timeout") for t in mallory["tests"]) and len(mallory["tests"]) == len(LAB1.tests)
    assert "mallory: identity_map_32m timed out, its guest spinning; their other tests run after" in stdout


def test_an_idle_guest_does_not_hold_a_core(tmp_path):
    make_submission("ivan", SLEEPS, tmp_path / "subs" / "ivan")
    out = tmp_path / "out"
    stdout, at_once = batch_watched(tmp_path / "subs", out, "--jobs", "1", "--lab", "5", "--speed", "1")
    ivan = json.loads((out / "students" / "ivan" / "report.json").read_text())
    timeouts = [t for t in ivan["tests"] if t["summary"].startswith("timeout")]
    assert len(timeouts) >= 5, [t["summary"][:80] for t in ivan["tests"]]
    assert at_once > 1, "with --jobs 1, a test waiting on an idle guest kept the others from starting"
    assert "timed out, its guest idle; their other tests wait beside" in stdout


def test_the_eta_counts_the_timeouts_of_a_hanging_student(tmp_path):
    labs = [lab for lab in all_labs() if lab.number == 1]
    settings = Settings(1, 1.5, (1,))
    grading = Grading([Student("mallory", tmp_path)], settings, tmp_path, labs)

    class Idle:  # a pool with nothing running
        cores, slots, running = 2, 6, []

    grading.next_task(Idle())  # mallory's build starts
    state = grading.active[0]
    state.kernel, state.running = "kernel.elf", 0
    state.pending.extend(labs[0].tests)
    before = grading.eta(Idle(), time.monotonic())
    timeouts = sum(t.timeout * settings.speed for t in labs[0].tests)
    state.hang = "idle"  # one of mallory's tests timed out, its guest idle: the others wait in the extra slots
    assert before < timeouts / 4 <= grading.eta(Idle(), time.monotonic())
    state.hang = "spins"  # it kept a core busy: so will the others
    assert grading.eta(Idle(), time.monotonic()) >= timeouts / 2
