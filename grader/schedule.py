"""The batch's schedule: which task to start next, what an answer means,
and how long the rest will take (grader/batch.py drives it, grader/pool.py
runs the tasks)."""
from __future__ import annotations

import shutil
import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from . import html_report, report
from .cli import gather, resume
from .gradebook import Settings, Student, StudentRecord, student_dir, write_atomic
from .labs import Lab, TestInfo
from .pool import Pool, Running
from .qemu import Outcome
from .results import TestResult

RETRIES = 2  # a test whose QEMU or worker was killed from outside is run again this many times
WORKER_DIED = "its worker died: see workers.log"
AHEAD_PER_SLOT = 4  # students built (not final) at a time per slot: how far ahead hangs are looked for


@dataclass
class InProgress:
    """A student being graded."""

    student: Student
    folder: Path
    started: float | None = None
    kernel: str = ""
    notes: tuple[str, ...] = ()
    pending: deque[TestInfo] = field(default_factory=deque)  # tests not started
    running: int = 0
    tries: dict[str, int] = field(default_factory=dict)
    tests_started: int = 0  # in this run
    # A test timed out, so the others probably will too: "idle" when its
    # guest idled until the timeout, "spins" when it kept a core busy.
    hang: str = ""
    unfinished: str = ""  # why the student cannot be finished in this run

    @property
    def results(self) -> Path:
        return self.folder / "grade" / "logs" / "results"


class Grading:
    """One run of a batch: which task to start next, what an answer means,
    and how long the rest will take."""

    def __init__(self, students: list[Student], settings: Settings, out: Path, labs: list[Lab]) -> None:
        self.settings = settings
        self.out = out
        self.labs = labs
        self.tests = [t for lab in labs for t in lab.tests]
        self.todo = deque(InProgress(s, student_dir(out, s.name)) for s in students)  # not built yet
        self.active: list[InProgress] = []  # built or building, not final
        self.finished: list[StudentRecord] = []  # in this run
        self.seconds: dict[tuple[int, str], list[float]] = {}  # wall time of each test, for the ETA
        self.build_seconds: list[float] = []

    @property
    def done(self) -> bool:
        return not self.todo and not self.active

    # ---- Which task next --------------------------------------------------

    def next_task(self, pool: Pool) -> dict | None:
        """The next task to start, or None. In this order:

        - a test of a student whose tests idle until their timeout, while a
          slot beyond the cores is free (such a test needs no core), or
          when nothing else is left;
        - the next build, up to AHEAD_PER_SLOT x slots students built and
          not final;
        - a test of the student with the fewest tests started: tests go
          round the students, so a test that hangs (in whichever lab) is
          met early and its wait overlaps everyone else's work;
        - a test of a student whose tests spin until their timeout: real
          CPU work, after everyone else's.
        """
        waiting = sum(1 for r in pool.running if r.task.get("hang") == "idle")
        others_left = self.todo or any(s.pending for s in self.active if s.hang != "idle")
        if waiting < pool.slots - pool.cores or not others_left:
            task = self._test_of([s for s in self.active if s.hang == "idle"])
            if task:
                return task
        if self.todo and len(self.active) < AHEAD_PER_SLOT * pool.slots:
            state = self.todo.popleft()
            self.active.append(state)
            state.started = time.monotonic()
            shutil.rmtree(state.folder / "work", ignore_errors=True)
            state.running += 1
            return {"kind": "build", "student": state.student.name, "submission": str(state.student.path.resolve()),
                    "work": str(state.folder / "work"), "reference_paging": self.settings.reference_paging}
        return self._test_of([s for s in self.active if not s.hang]) or self._test_of(
            [s for s in self.active if s.hang == "spins"])

    def _test_of(self, states: list[InProgress]) -> dict | None:
        ready = [s for s in states if s.pending and s.kernel and not s.unfinished]
        if not ready:
            return None
        state = min(ready, key=lambda s: s.tests_started)  # the first such student on a tie
        info = state.pending.popleft()
        state.running += 1
        state.tests_started += 1
        return {"kind": "test", "student": state.student.name, "kernel": state.kernel,
                "logs": str(state.folder / "grade" / "logs"), "lab": info.lab, "test": info.name,
                "hang": state.hang}

    # ---- Answers ------------------------------------------------------------

    def answer(self, run: Running, answer: dict | None, now: float) -> list[str]:
        """Takes a task's answer; returns lines to print (a student who
        became final is in `finished`)."""
        state = next(s for s in self.active if s.student.name == run.task["student"])
        state.running -= 1
        if run.task["kind"] == "build":
            self.build_seconds.append(now - run.started)
            return self._built(state, answer or {"interrupted": WORKER_DIED})
        key = (run.task["lab"], run.task["test"])
        if answer and "record" in answer:
            record = TestResult.from_json(answer["record"])
            if record.outcome == Outcome.TIMEOUT.value:
                new = not state.hang
                state.hang = "idle" if run.mostly_idle() else "spins"
                how = ("idle; their other tests wait beside" if state.hang == "idle"
                       else "spinning; their other tests run after")
                lines = [f"batch: {state.student.name}: {record.name} timed out, its guest {how} the others' "
                         f"(each may take its timeout)"] if new else []
            else:
                lines = []
                self.seconds.setdefault(key, []).append(record.seconds)
            return lines + self._maybe_final(state, now)
        why = (answer or {}).get("interrupted", WORKER_DIED)
        tries = state.tries[run.task["test"]] = state.tries.get(run.task["test"], 0) + 1
        if tries > RETRIES:
            state.unfinished = f"{run.task['test']} was interrupted {tries} times ({why})"
            return self._maybe_final(state, now)
        state.pending.appendleft(next(t for t in self.tests if (t.lab, t.name) == key))
        return [f"batch: {state.student.name}: {run.task['test']} was interrupted ({why}): grading it again"]

    def _built(self, state: InProgress, answer: dict) -> list[str]:
        if "interrupted" in answer:
            state.unfinished = f"the build was interrupted ({answer['interrupted']})"
            return self._maybe_final(state, time.monotonic())
        if "error" in answer:
            return self._final(state, answer["error"])
        state.kernel = answer["kernel"]
        state.notes = tuple(answer["notes"]) + ((
            "compiler warnings in the gap files (not fatal):\n" + answer["warnings"],) if answer["warnings"] else ())
        graded = resume(state.results, self.settings.seed, Path(state.kernel), keep=True)
        state.pending = deque(t for t in self.tests if t.name not in graded)
        return self._maybe_final(state, time.monotonic())

    def _maybe_final(self, state: InProgress, now: float) -> list[str]:
        if state.running or (state.pending and not state.unfinished):
            return []
        if state.unfinished:  # no record: the next run grades what is left
            self.active.remove(state)
            return [f"batch: {state.student.name} is not finished: {state.unfinished}"]
        return self._final(state, None)

    def _final(self, state: InProgress, error: str | None) -> list[str]:
        """Writes the student's record, in one step, and their grader.log."""
        results = gather(self.labs, "*", state.results, error)
        s = self.settings
        what = f"submission {state.student.path}" + (" with the reference paging.c" if s.reference_paging else "")
        seconds = time.monotonic() - (state.started or time.monotonic())
        record = StudentRecord(state.student.name, str(state.student.path), what, s.seed, s.speed, results,
                               state.notes, error or "", round(seconds, 2))
        run = report.Run(results, s.seed, what, seconds, state.notes)
        log = [*state.notes, *([error] if error else [r.output for r in run.failed]), report.scoreboard(run)]
        state.folder.mkdir(parents=True, exist_ok=True)
        (state.folder / "grader.log").write_text("\n\n".join(log) + "\n")
        html_report.write(run, state.folder / "report.html")
        write_atomic(state.folder / "report.json", record.to_json())  # last: the record makes it final
        shutil.rmtree(state.folder / "work", ignore_errors=True)  # the kernel and objects: rebuilt on demand
        self.active.remove(state)
        self.finished.append(record)
        return []

    # ---- How long the rest takes ----------------------------------------------

    def expected(self, info: TestInfo, hang: str) -> float:
        """Seconds a test should take: its timeout for a student whose tests
        hang, else the median seen so far in this batch (before any, a tenth
        of its timeout: lab.toml timeouts are about 10 times the reference's
        time)."""
        timeout = info.timeout * self.settings.speed
        seen = self.seconds.get((info.lab, info.name))
        return timeout if hang else statistics.median(seen) if seen else timeout / 10

    def eta(self, pool: Pool, now: float) -> float:
        """Seconds left: the expected time of every task not done (builds,
        tests, the timeouts of students who hang) over the cores; tests that
        idle until their timeout wait beside the others, in the slots
        beyond the cores."""
        build = statistics.median(self.build_seconds) if self.build_seconds else 2.0
        work = build * len(self.todo) + len(self.todo) * sum(self.expected(t, "") for t in self.tests)
        waits = 0.0
        for state in self.active:
            left = sum(self.expected(t, state.hang) for t in state.pending)
            if state.hang == "idle":
                waits += left
            else:
                work += left
        for r in pool.running:
            info = next((t for t in self.tests if (t.lab, t.name) == (r.task.get("lab"), r.task.get("test"))), None)
            left = max(0.0, (self.expected(info, r.task["hang"]) if info else build) - (now - r.started))
            if r.task.get("hang") == "idle":
                waits += left
            else:
                work += left
        return max(work / pool.cores, waits / max(1, pool.slots - pool.cores))
