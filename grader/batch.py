"""Batch grading: every submission of a folder, on every core, resumable,
shardable.

    python3 -m grader batch SUBMISSIONS --out DIR [--jobs N] [--lab N] [--seed N] [--speed X]
                            [--shard K/N] [--force] [--reference-paging]
    python3 -m grader batch merge OUT1 OUT2 ... --out DIR

SUBMISSIONS holds one entry per student, a folder or a hand-in archive named
after the student (grader/submission.py finds the gap files in it). The
batch builds each student's kernel, then schedules tests, not students
(grader/schedule.py): every test of every student is a task for a pool of
workers (grader/pool.py), with --jobs of them on the CPU at a time. A
student whose tests hang slows nobody else: once one of their tests times
out, their other tests, each still with its full timeout, wait beside the
others' when their guest idles (it needs no core), or run after the
others' when it spins (it keeps a core busy: real work, counted in the
ETA).

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
import dataclasses
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import build, dashboard
from .cli import measure_speed
from .gradebook import (BatchError, Settings, Student, StudentRecord, load_record, student_dir, summary,
                        write_grades)
from .labs import all_labs
from .pool import Pool
from .protocol import fnv1a64
from .schedule import Grading
from .submission import is_archive, student_name

SLOTS_PER_CORE = 3  # tasks at a time per busy core allowed: the others wait on idle guests


class Stopped(Exception):
    """The batch got a signal that ends it (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ---- Students and settings ------------------------------------------------

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
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix="reference-") as work:
        return measure_speed(build.build_kernel(build.ROOT / "solutions", Path(work)).elf)


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
                error = f" ({_clip(record.error)})" if record.error else ""
                print_line(f"[{done}/{total}] {record.student}: {record.score:g}/{record.max_score:g}{error}  "
                           f"{rate:.1f}/min, about {grading.eta(pool, now):.0f} s left")
                last_line = now
        now = time.monotonic()
        if now - last_line > 20:
            print_line(f"batch: {len(pool.running)} tasks running, about {grading.eta(pool, now):.0f} s left")
            last_line = now


def _clip(text: str, width: int = 100) -> str:
    """`text` on one line, at most `width` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 3] + "..."


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
    print(f"dashboard: {dashboard.write(args.out, args.submissions)}")
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
    settings = [(part, Settings.load(part) if part.is_dir() else None) for part in args.parts]
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
    dashboard.write(args.out)
    speeds = " ".join(sorted({f"x{s.speed:.2f}" for _, s in settings}))
    print(summary(rows) + f"\n\ngrades: {args.out / 'grades.csv'} ({len(records)} students from "
          f"{len(args.parts)} parts, seed {first.seed}, timeouts {speeds})")
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
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                    help="cores to use: tests on the CPU at a time (default: all)")
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
