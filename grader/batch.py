"""Batch grading: every submission of a folder, on every core, resumable,
shardable.

    python3 -m grader batch SUBMISSIONS --out DIR [--jobs N] [--lab N] [--seed N] [--speed X]
                            [--shard K/N] [--force] [--reference-paging]
    python3 -m grader batch merge OUT1 OUT2 ... --out DIR

SUBMISSIONS holds one entry per student, a folder or a hand-in archive named
after the student (grader/submission.py finds the gap files in it). The
batch builds each student's kernel, then schedules tests, not students:
every test of every student is a task for a pool of workers
(grader/pool.py), with --jobs of them on the CPU at a time. A student whose
tests hang slows nobody else: once one of their tests times out, their
other tests run beside the others' (a guest idling until its timeout needs
no core), each still with its full timeout.

Everyone is graded with the same seed and the same timeouts (one speed,
measured once), kept in DIR/batch.json: a re-run, and every shard, use them.

A student's result is final only when every test has one:
DIR/students/NAME/report.json, written in one step (a StudentRecord).
Nothing else is ever final. Interrupted (Ctrl-C, SIGTERM, SIGKILL of the
batch, a lost machine), the batch keeps each finished test and student, and
writes DIR/grades.csv for the students who finished; the same command again
grades exactly what is left. --force grades everyone again.

--shard K/N grades the students whose name hashes to K of N, so that N
machines share a class; give every shard the same --seed, then
`batch merge` builds one DIR/grades.csv from the shards' folders.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import shutil
import signal
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from . import build, report
from .cli import gather, measure_speed, resume
from .labs import Lab, TestInfo, all_labs
from .pool import Pool, Running
from .protocol import fnv1a64
from .results import TestResult
from .submission import is_archive, student_name

RETRIES = 2  # a test whose QEMU or worker was killed from outside is run again this many times
SLOTS_PER_CORE = 3  # tasks at a time per busy core allowed: the others wait on idle guests


class BatchError(Exception):
    """A batch that cannot run as asked; the message says why."""


class Stopped(Exception):
    """The batch got a signal that ends it (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ---- Students and settings ------------------------------------------------

@dataclass(frozen=True)
class Student:
    name: str
    path: Path


def find_students(folder: Path) -> list[Student]:
    if not folder.is_dir():
        raise BatchError(f"{folder}: not a folder of submissions")
    students = [Student(student_name(p), p) for p in sorted(folder.iterdir())
                if not p.name.startswith(".") and (p.is_dir() or is_archive(p))]
    names = [s.name for s in students]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BatchError(f"two submissions for {', '.join(twice)} (a folder and an archive?): keep one each")
    return students


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard {text}: expected K/N, as 2/8") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {text}: K must be between 1 and N")
    return k, n


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether shard K/N grades `name`: a fixed hash of the name, so a
    student's shard never depends on who else is in the folder."""
    return shard is None or fnv1a64(name) % shard[1] == shard[0] - 1


@dataclass(frozen=True)
class Settings:
    """What every student of a batch is graded with: DIR/batch.json."""

    seed: int
    speed: float  # timeout multiplier
    labs: tuple[int, ...] = ()  # () for every lab
    reference_paging: bool = False
    shard: tuple[int, int] | None = None

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "batch.json", json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @staticmethod
    def load(out: Path) -> Settings | None:
        try:
            doc = json.loads((out / "batch.json").read_text())
            shard = tuple(doc["shard"]) if doc.get("shard") else None
            return Settings(doc["seed"], doc["speed"], tuple(doc.get("labs", ())), doc.get("reference_paging", False),
                            shard)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def settings_for(args: argparse.Namespace) -> Settings:
    """This run's settings: those of the batch in DIR when it is resumed (a
    different request is an error), else new ones."""
    labs = tuple(sorted(set(args.lab or ())))
    old = None if args.force else Settings.load(args.out)
    if old:
        asked = {"--seed": (args.seed, old.seed), "--speed": (args.speed, old.speed)}
        same = {"--lab": (labs, old.labs), "--reference-paging": (args.reference_paging, old.reference_paging),
                "--shard": (args.shard, old.shard)}
        for flag, (new, kept) in [*asked.items(), *same.items()]:
            if new != kept and (flag in same or new is not None):
                raise BatchError(f"{args.out} is a batch graded with {_shown(flag, kept)}, not {_shown(flag, new)}: "
                                 f"mixing them would grade students differently; run it as before, or use --force "
                                 f"(grade everyone again) or another --out")
        return old
    if args.shard and args.seed is None:
        raise BatchError("--shard needs --seed: every shard must grade with the same seed")
    seed = args.seed if args.seed is not None else random.randrange(1, 1 << 31)
    speed = args.speed or reference_speed(args.out)
    return Settings(seed, speed, labs, args.reference_paging, args.shard)


def _shown(flag: str, value) -> str:
    """An option as given on the command line."""
    if value in (None, (), False):
        return f"no {flag}"
    if flag == "--lab":
        return " ".join(f"--lab {n}" for n in value)
    if flag == "--shard":
        return f"--shard {value[0]}/{value[1]}"
    return flag if value is True else f"{flag} {value}"


def reference_speed(out: Path) -> float:
    """The timeout multiplier of this machine, measured once on the
    reference kernel (grader/cli.py)."""
    build.build_trusted()
    return measure_speed(build.build_kernel(build.ROOT / "solutions", out / "reference").elf)


# ---- The record of a student ------------------------------------------------

@dataclass(frozen=True)
class StudentRecord:
    """A student's final result: DIR/students/NAME/report.json. It has the
    keys of the grader's --json report (score, max_score, seed, kernel,
    tests with lab, name, status, score, max_score, output), and more; add
    fields with a default, and old records still load."""

    student: str
    submission: str
    kernel: str  # what was graded, as the grader's total line says
    seed: int
    speed: float
    tests: tuple[TestResult, ...]
    notes: tuple[str, ...] = ()  # how the gap files were found, compiler warnings
    error: str = ""  # why no test could run (build failed: ...)
    seconds: float = 0.0  # from the start of the build to the last test

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def failed(self) -> list[str]:
        names = [t.name for t in self.tests if not t.passed]
        return ([self.error.splitlines()[0]] if self.error else []) + names

    def to_json(self) -> str:
        doc = dataclasses.asdict(self)
        doc["tests"] = [{**dataclasses.asdict(t), "output": t.output or t.summary} for t in self.tests]
        return json.dumps({**doc, "score": self.score, "max_score": self.max_score}, indent=2) + "\n"

    @staticmethod
    def from_json(text: str) -> StudentRecord:
        doc = json.loads(text)
        known = {f.name for f in dataclasses.fields(StudentRecord)}
        tests = tuple(TestResult(**{k: v for k, v in t.items() if k in {f.name for f in dataclasses.fields(
            TestResult)}}) for t in doc["tests"])
        return StudentRecord(**{**{k: v for k, v in doc.items() if k in known}, "tests": tests,
                                "notes": tuple(doc.get("notes", ()))})


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def student_dir(out: Path, name: str) -> Path:
    return out / "students" / name


def load_record(out: Path, name: str) -> StudentRecord | None:
    """The final record of `name` in `out`, or None while unfinished."""
    path = student_dir(out, name) / "report.json"
    try:
        return StudentRecord.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as e:
        raise BatchError(f"{path}: not a report of this grader ({e}): delete it to grade {name} again") from e


def write_grades(records: list[StudentRecord], path: Path) -> list[list[str]]:
    """grades.csv: a row per student, a column per lab graded; returns its
    rows."""
    labs = sorted({t.lab for r in records for t in r.tests})
    rows = [["student", *[f"lab{n}" for n in labs], "total", "max", "failed"]]
    for r in sorted(records, key=lambda r: r.student):
        per_lab = [f"{sum(t.score for t in r.tests if t.lab == n):g}" for n in labs]
        rows.append([r.student, *per_lab, f"{r.score:g}", f"{r.max_score:g}", ";".join(r.failed())])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    tmp.replace(path)
    return rows


def summary(rows: list[list[str]]) -> str:
    header, body = rows[0], rows[1:]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths)) for r in rows]
    if body:
        means = [f"{sum(float(r[i]) for r in body) / len(body):.1f}" for i in range(1, len(header) - 1)]
        lines.append("  ".join(c.ljust(w) for c, w in zip(["average", *means], widths)))
    return "\n".join(lines)


# ---- Grading: the schedule ----------------------------------------------------

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
    hangs: bool = False  # a test timed out: the others probably will too
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
        self.finished: list[StudentRecord] = []
        self.left_unfinished: list[InProgress] = []
        self.seconds: dict[tuple[int, str], list[float]] = {}  # wall time of each test, for the ETA
        self.build_seconds: list[float] = []
        self.hangs_idle = True  # what the last hanging test seen did: idle (True) or spin

    @property
    def done(self) -> bool:
        return not self.todo and not self.active

    # ---- Which task next --------------------------------------------------

    def next_task(self, pool: Pool) -> dict | None:
        """The next task to start, or None. Tests of students who hang go
        first while a slot beyond the cores is free (they mostly wait), and
        take every slot when nothing else is left; then the earliest
        student's tests, so that students finish in order; then the next
        build."""
        hanging = sum(1 for r in pool.running if r.task.get("hangs"))
        others_left = self.todo or any(s.pending for s in self.active if not s.hangs)
        if hanging < pool.slots - pool.cores or not others_left:
            task = self._test_of(s for s in self.active if s.hangs)
            if task:
                return task
        task = self._test_of(s for s in self.active if not s.hangs)
        if task or not self.todo:
            return task
        state = self.todo.popleft()
        self.active.append(state)
        state.started = time.monotonic()
        shutil.rmtree(state.folder / "work", ignore_errors=True)
        state.running += 1
        return {"kind": "build", "student": state.student.name, "submission": str(state.student.path.resolve()),
                "work": str(state.folder / "work"), "reference_paging": self.settings.reference_paging}

    def _test_of(self, states) -> dict | None:
        for state in states:
            if state.pending and state.kernel:
                info = state.pending.popleft()
                state.running += 1
                return {"kind": "test", "student": state.student.name, "kernel": state.kernel,
                        "logs": str(state.folder / "grade" / "logs"), "lab": info.lab, "test": info.name,
                        "hangs": state.hangs}
        return None

    # ---- Answers ------------------------------------------------------------

    def answer(self, run: Running, answer: dict | None, now: float) -> list[str]:
        """Takes a task's answer; returns lines to print (a student who
        became final is in `finished`)."""
        state = next(s for s in self.active if s.student.name == run.task["student"])
        state.running -= 1
        if run.task["kind"] == "build":
            self.build_seconds.append(now - run.started)
            return self._built(state, answer or {"interrupted": "the worker died"})
        key = (run.task["lab"], run.task["test"])
        if answer and "record" in answer:
            record = TestResult.from_json(answer["record"])
            if record.summary.startswith("timeout"):
                lines = [] if state.hangs else [f"batch: {state.student.name}: {record.name} timed out; their other "
                                                 f"tests now run beside the others' (each may take its timeout)"]
                state.hangs = True
                self.hangs_idle = run.idle(now)
            else:
                lines = []
                self.seconds.setdefault(key, []).append(record.seconds)
            return lines + self._maybe_final(state, now)
        why = (answer or {}).get("interrupted", "the worker died")
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
        if state.unfinished:
            self.active.remove(state)
            self.left_unfinished.append(state)
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
        _write_atomic(state.folder / "report.json", record.to_json())
        shutil.rmtree(state.folder / "work", ignore_errors=True)  # the kernel and objects: rebuilt on demand
        self.active.remove(state)
        self.finished.append(record)
        return []

    # ---- How long the rest takes ----------------------------------------------

    def expected(self, info: TestInfo, hangs: bool) -> float:
        """Seconds a test should take: its timeout for a student whose tests
        hang, else the median seen so far in this batch (before any, a tenth
        of its timeout: lab.toml timeouts are about 10 times the reference's
        time)."""
        timeout = info.timeout * self.settings.speed
        seen = self.seconds.get((info.lab, info.name))
        return timeout if hangs else statistics.median(seen) if seen else timeout / 10

    def eta(self, pool: Pool, now: float) -> float:
        """Seconds left: the expected cost of every test not done, timeouts
        of hanging students included, over the cores (tests that idle until
        their timeout run beside the others, in the extra slots)."""
        build_cost = statistics.median(self.build_seconds) if self.build_seconds else 2.0
        normal = build_cost * len(self.todo) + sum(
            self.expected(t, False) for _ in self.todo for t in self.tests)
        hanging = 0.0
        for state in self.active:
            cost = sum(self.expected(t, state.hangs) for t in state.pending)
            if state.hangs:
                hanging += cost
            else:
                normal += cost + (0 if state.kernel else build_cost * bool(state.running))
        for r in pool.running:
            info = next((t for t in self.tests if (t.lab, t.name) == (r.task.get("lab"), r.task.get("test"))), None)
            left = max(0.0, (self.expected(info, r.task["hangs"]) if info else build_cost) - (now - r.started))
            if r.task.get("hangs"):
                hanging += left
            else:
                normal += left
        if self.hangs_idle:
            return max(normal / pool.cores, hanging / max(1, pool.slots - pool.cores))
        return (normal + hanging) / pool.cores


# ---- The batch ------------------------------------------------------------

def run(grading: Grading, pool: Pool, print_line) -> None:
    """Starts tasks while there is room, takes answers, prints progress,
    until every student is final or cannot be finished in this run."""
    start = last_line = time.monotonic()
    total = len(grading.todo)
    while not grading.done:
        while pool.has_room() and (task := grading.next_task(pool)):
            pool.start(task)
        if not pool.running:
            break  # nothing runs and nothing can start: the rest cannot finish in this run
        for finished, answer in pool.wait(0.25):
            now = time.monotonic()
            before = len(grading.finished)
            for line in grading.answer(finished, answer, now):
                print_line(f"{line}; about {grading.eta(pool, now):.0f} s left")
            for record in grading.finished[before:]:
                done = len(grading.finished)
                rate = done / max(now - start, 1e-6) * 60
                error = f" ({record.error.splitlines()[0][:80]})" if record.error else ""
                print_line(f"[{done}/{total}] {record.student}: {record.score:g}/{record.max_score:g}{error}  "
                           f"{rate:.1f}/min, about {grading.eta(pool, now):.0f} s left")
                last_line = now
        now = time.monotonic()
        if now - last_line > 20:
            print_line(f"batch: {len(pool.running)} tasks running, about {grading.eta(pool, now):.0f} s left")
            last_line = now


def grade(args: argparse.Namespace) -> int:
    students = [s for s in find_students(args.submissions) if in_shard(s.name, args.shard)]
    if args.force:
        for s in students:
            shutil.rmtree(student_dir(args.out, s.name), ignore_errors=True)
    build.build_trusted()
    settings = settings_for(args)
    settings.save(args.out)
    labs = [lab for lab in all_labs() if not settings.labs or lab.number in settings.labs]
    final = {s.name: r for s in students if (r := load_record(args.out, s.name))}
    todo = [s for s in students if s.name not in final]
    shard = f", shard {settings.shard[0]}/{settings.shard[1]}" if settings.shard else ""
    print(f"batch: {len(students)} submissions{shard}, {len(final)} already graded, seed {settings.seed}, "
          f"timeouts x{settings.speed:.2f}", flush=True)
    grading = Grading(todo, settings, args.out, labs)
    worker = [sys.executable, "-m", "grader", "worker", "--seed", str(settings.seed), "--speed",
              f"{settings.speed:.3f}", *[a for n in settings.labs for a in ("--lab", str(n))]]
    pool = Pool(worker, args.jobs, SLOTS_PER_CORE * args.jobs, args.out / "workers.log")
    stopped: int | None = None
    try:
        run(grading, pool, lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        stopped = signal.SIGINT
    except Stopped as e:
        stopped = e.signum
    finally:
        pool.close()  # ends every worker, QEMU and compiler still running
    records = [r for s in students if (r := load_record(args.out, s.name))]  # what is final is on disk
    rows = write_grades(records, args.out / "grades.csv")
    print("\n" + summary(rows) + f"\n\ngrades: {args.out / 'grades.csv'}")
    unfinished = len(students) - len(records)
    if stopped is not None:
        print(f"interrupted ({signal.Signals(stopped).name}): {len(records)} of {len(students)} students are "
              f"graded (in grades.csv); run the same command again to grade the {unfinished} others")
        return 128 + stopped
    if unfinished:
        print(f"batch: {unfinished} students are not finished (see above); run the same command again")
        return 1
    return 0


def merge(argv: list[str]) -> int:
    """python3 -m grader batch merge OUT1 OUT2 ... --out DIR: one grades.csv
    (and one students/ folder) from the output folders of a batch's shards."""
    ap = argparse.ArgumentParser(prog="python3 -m grader batch merge", description=merge.__doc__)
    ap.add_argument("parts", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    settings = [(part, Settings.load(part)) for part in args.parts]
    missing = [str(part) for part, s in settings if s is None]
    if missing:
        raise BatchError(f"not the output of a batch (no batch.json): {', '.join(missing)}")
    seeds = {s.seed for _, s in settings}
    if len(seeds) > 1:
        raise BatchError(f"the parts were graded with different seeds ({sorted(seeds)}): their grades do not mix")
    shards = sorted(s.shard for _, s in settings if s.shard)
    if shards and shards != [(k, shards[0][1]) for k in range(1, shards[0][1] + 1)]:
        print(f"merge: warning: shards {', '.join(f'{k}/{n}' for k, n in shards)} are not exactly 1/N to N/N",
              file=sys.stderr)
    records: dict[str, StudentRecord] = {}
    unfinished = []
    for part, _ in settings:
        for folder in sorted((part / "students").glob("*")) if (part / "students").is_dir() else []:
            record = load_record(part, folder.name)
            if record is None:
                unfinished.append(f"{folder.name} ({part})")
                continue
            if record.student in records:
                raise BatchError(f"{record.student} was graded in two parts: keep one")
            records[record.student] = record
            target = student_dir(args.out, record.student)
            if folder.resolve() != target.resolve():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(folder, target)
    first = settings[0][1]
    dataclasses.replace(first, shard=None).save(args.out)
    rows = write_grades(list(records.values()), args.out / "grades.csv")
    print(summary(rows) + f"\n\ngrades: {args.out / 'grades.csv'} ({len(records)} students from "
          f"{len(args.parts)} parts, seed {first.seed})")
    if unfinished:
        print(f"merge: not finished, not in grades.csv: {', '.join(unfinished)}")
        return 1
    return 0


def _stop(signum: int, _frame) -> None:
    raise Stopped(signum)


def main(argv: list[str]) -> int:
    if argv[:1] == ["merge"]:
        try:
            return merge(argv[1:])
        except BatchError as e:
            print(f"merge: {e}", file=sys.stderr)
            return 2
    ap = argparse.ArgumentParser(prog="python3 -m grader batch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", type=Path)
    ap.add_argument("--jobs", "-j", type=int, default=2, help="cores to use (tests running on the CPU at a time)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--lab", type=int, action="append")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--speed", type=float, help="timeout multiplier; default: measured once on this machine")
    ap.add_argument("--shard", type=parse_shard, metavar="K/N", help="grade only shard K of N (needs --seed)")
    ap.add_argument("--force", action="store_true", help="grade again students already graded")
    ap.add_argument("--reference-paging", action="store_true", help="grade process.c on the reference paging.c")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:  # not under nohup
        signal.signal(signal.SIGHUP, _stop)
    try:
        return grade(args)
    except (BatchError, build.BuildError) as e:
        print(f"batch: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("batch: interrupted before grading started", file=sys.stderr)
        return 128 + signal.SIGINT
    except Stopped as e:
        print(f"batch: stopped by {e} before grading started", file=sys.stderr)
        return 128 + e.signum
