"""A batch worker: one pytest session that runs lab tests as the batch asks.

    python3 -m grader worker --seed N --speed X [--lab N ...]

Started by the batch (grader/pool.py), never by hand. It collects the labs'
tests once, then reads tasks on stdin, one JSON line each, and answers each
with one JSON line on stdout:

    {"kind": "build", "student", "submission", "work", "reference_paging"}
        -> {"kernel", "warnings", "notes"} or {"error": "build failed: ..."}
    {"kind": "test", "student", "kernel", "logs", "lab", "test", "hang"}
        -> {"record": <TestResult JSON>} or {"interrupted": why}
           ("hang" is the batch's own note on the student; ignored here)

A test runs exactly as in `python3 -m grader`: the same pytest plugin, the
same `boot` fixture, its result saved under `logs`/results by the plugin. An
interrupted test (its QEMU killed from outside) has no result. Whatever
pytest and the tests print goes to stderr, which the batch keeps in a log.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import IO

import pytest

from . import plugin, submission
from .build import BuildError, reference_gap
from .labs import all_labs, session_argv


def build(task: dict) -> dict:
    """A build task: the student's kernel, or why it does not build."""
    try:
        replace = {"paging.c": reference_gap("paging.c")} if task.get("reference_paging") else {}
        kernel, notes = submission.build(Path(task["submission"]), Path(task["work"]), replace)
    except BuildError as e:
        return {"error": f"build failed: {e}"}
    return {"kernel": str(kernel.elf), "warnings": kernel.warnings, "notes": list(notes)}


class Serve:
    """The pytest plugin that replaces the test loop: runs the item each
    task names, on the task's kernel, with the task's log folder."""

    def __init__(self, tasks: IO[str], answers: IO[str]) -> None:
        self.tasks = tasks
        self.answers = answers
        self.record: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = {(int(plugin._lab_folder(i).name[:2]), plugin._test_name(i)): i for i in session.items}
        for line in self.tasks:
            task = json.loads(line)
            answer = build(task) if task["kind"] == "build" else self.run(session, items, task)
            self.answers.write(json.dumps(answer) + "\n")
            self.answers.flush()
        return True

    def run(self, session: pytest.Session, items: dict[tuple[int, str], pytest.Item], task: dict) -> dict:
        item = items.get((task["lab"], task["test"]))
        if item is None:
            return {"interrupted": f"this worker has no test {task['test']} of lab {task['lab']}"}
        session.config.option.grader_kernel = Path(task["kernel"])
        session.config.option.grader_logs = Path(task["logs"])
        item.user_properties.clear()
        for leftover in ("grader_booter", "grader_start"):  # from this item's run for another student
            item.__dict__.pop(leftover, None)
        self.record = None
        try:
            item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
        except KeyboardInterrupt as e:
            # What pytest's runtestprotocol does after a test, which the
            # interruption skipped: tear down, and forget this run's fixtures.
            session._setupstate.teardown_exact(None)
            item._request, item.funcargs = False, None
            return {"interrupted": str(e) or "interrupted"}
        if self.record is None:
            return {"interrupted": "the test ended without a result"}
        return {"record": self.record}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # the kit's own error: say it where the batch keeps it
            print(f"worker: cannot collect {report.nodeid}:\n{report.longreprtext}", file=sys.stderr)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == "grader":
                self.record = value


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader worker", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--speed", type=float, required=True)
    ap.add_argument("--lab", type=int, action="append")
    args = ap.parse_args(argv)
    # The batch ends a worker by killing its session; a worker whose batch
    # died (SIGTERM, see grader/pool.py) does the same to itself.
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    tasks = os.fdopen(os.dup(0), "r")
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    labs = [lab for lab in all_labs() if not args.lab or lab.number in args.lab]
    pytest.main([*session_argv(labs), "-p", "no:terminal", f"--grader-seed={args.seed}",
                 f"--grader-speed={args.speed:.3f}"], plugins=[Serve(tasks, answers)])
    return 0
