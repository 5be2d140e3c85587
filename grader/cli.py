"""python3 -m grader: build the kernel to grade, run the lab tests, report.

    python3 -m grader [--lab N] [--test PATTERN] [--submission DIR | --reference | --upto K]
                      [--seed N] [--jobs N] [--json FILE] [--junit FILE] [--gradescope FILE] [--html [FILE]]

Without --submission, --reference or --upto it grades kernel/paging.c and
kernel/process.c of this tree, by the same rule as a submission: only those
two files count.

Subcommands: batch (a folder of submissions), handin (pack the gap files),
similarity (pairs of submissions that share code),
replay (one test's boot, optionally paused for GDB), soak (the reference,
again and again), worker (the batch's, internal); `python3 -m grader
SUBCOMMAND --help` for each.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from . import build, callwatch, html_report, report, submission
from .labs import Lab, all_labs, session_argv
from .qemu import Outcome, RunRequest, run as run_qemu
from .results import FAILED, NOT_RUN, TestResult, load_all

ROOT = build.ROOT
# python3 -m grader SUBCOMMAND ...: each is a module of this package with main(argv).
SUBCOMMANDS = ("batch", "handin", "replay", "similarity", "soak", "worker")
# Seconds a harness boot takes on the machine the lab.toml timeouts were
# measured on (2 cores, TCG, qboot); timeouts grow with the ratio of this
# machine's boot to it, never shrink.
NOMINAL_FLOOR = 0.12
# Starting pytest-xdist workers costs about 0.45 s (measured on 2 cores),
# and two QEMUs at a time run only ~1.5x faster than one: with fewer tests
# than this per worker, one process is faster.
MIN_TESTS_PER_WORKER = 4


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python3 -m grader", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--submission", type=Path,
                      help="grade the gap files of a folder or hand-in archive (found as grader/submission.py says)")
    what.add_argument("--reference", action="store_true", help="grade the reference solutions")
    what.add_argument("--upto", type=int, metavar="K", help="grade the partial skeleton for lab K")
    ap.add_argument("--reference-paging", action="store_true",
                    help="use the reference paging.c with the submission's process.c (labs 4-5 for a student "
                         "behind on labs 1-3)")
    ap.add_argument("--lab", type=int, action="append", help="only this lab (repeatable)")
    ap.add_argument("--test", default="*", help="only tests whose name matches this glob")
    ap.add_argument("--seed", type=int, help="parameters of the run (printed on every run)")
    ap.add_argument("--jobs", "-j", type=int, default=1,
                    help="pytest-xdist workers (used when there are at least 4 tests per worker)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "grade", help="build and log folder")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--junit", type=Path)
    ap.add_argument("--gradescope", type=Path)
    ap.add_argument("--html", nargs="?", const="", metavar="FILE",
                    help="the page a student reads: scoreboard, why each test failed (default file: "
                         "OUT/report.html)")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    ap.add_argument("--speed", type=float, help="timeout multiplier; default: measured from a boot of this "
                    "machine against the reference machine's")
    ap.add_argument("--deterministic", action="store_true",
                    help="run QEMU with -icount: with --seed, a run also replays the same interleaving")
    ap.add_argument("--resume", action="store_true",
                    help="keep the results of an interrupted run (same kernel and seed) and grade only the rest")
    return ap.parse_args(argv)


def describe(args: argparse.Namespace) -> str:
    """What the arguments ask to grade, in words."""
    if args.reference:
        return "reference solutions"
    if args.upto is not None:
        return f"partial skeleton for lab {args.upto}"
    what = f"submission {args.submission}" if args.submission is not None else "kernel/ gap files"
    return what + (" with the reference paging.c" if args.reference_paging else "")


def choose_kernel(args: argparse.Namespace, work: Path) -> tuple[Path, str, list[str]]:
    """Builds what the arguments ask to grade; returns the kernel, the gap
    files' compiler warnings and notes for the student."""
    build.build_trusted()
    notes: list[str] = []
    if args.reference:
        kernel = build.build_kernel(ROOT / "solutions", work / "obj")
    elif args.upto is not None:
        kernel = build.build_partial(args.upto, work)
    else:
        replace = {"paging.c": build.reference_gap("paging.c")} if args.reference_paging else {}
        kernel, stub_notes = submission.build(args.submission or ROOT / "kernel", work, replace)
        notes = [*stub_notes, *([] if args.submission else submission.changed_outside_gaps())]
    return kernel.elf, kernel.warnings, [kernel.build_mode, *notes]


def clear_results(results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    for stale in results_dir.glob("*.json"):
        stale.unlink()


def resumed_seed(results_dir: Path) -> int | None:
    """The seed of the run whose results are in `results_dir`, if any."""
    try:
        return json.loads((results_dir / "run.json").read_text())["seed"]
    except (OSError, ValueError, KeyError):
        return None


def resume(results_dir: Path, seed: int, kernel: Path, keep: bool) -> set[str]:
    """Records which kernel and seed the results in `results_dir` belong to.
    With `keep`, returns the tests a run with the same kernel and seed already
    graded (other results are cleared)."""
    identity = {"seed": seed, "kernel": hashlib.sha256(kernel.read_bytes()).hexdigest()}
    try:
        same = json.loads((results_dir / "run.json").read_text()) == identity
    except (OSError, ValueError):
        same = False
    if not (keep and same):
        clear_results(results_dir)
    (results_dir / "run.json").write_text(json.dumps(identity))
    return {r.name for r in load_all(results_dir).values()} if keep and same else set()


def measure_speed(kernel: Path) -> float:
    """Timeout multiplier for this machine: a harness boot that runs no lab
    code, against the nominal floor."""
    result = run_qemu(RunRequest(kernel, "selftest_pass", {}, mem_mb=32, timeout=20))
    if result.outcome is not Outcome.PASS:
        return 1.0
    return max(1.0, result.elapsed / NOMINAL_FLOOR)


def selected_labs(args: argparse.Namespace) -> list[Lab]:
    labs = all_labs()
    return [lab for lab in labs if not args.lab or lab.number in args.lab]


def run_pytest(labs: list[Lab], kernel: Path, args: argparse.Namespace, seed: int, speed: float,
               skip: set[str]) -> int:
    """Runs the labs' pytest files; the plugin writes one record per test.
    Returns pytest's exit code (2: interrupted)."""
    import pytest  # Debian's python3-pytest; imported late so --help works without it

    argv = [*session_argv(labs), "-q", "--no-header", "--tb=no", "-rN", "-o", "console_output_style=classic",
            f"--grader-kernel={kernel}", f"--grader-seed={seed}",
            f"--grader-logs={args.out / 'logs'}", f"--grader-speed={speed:.3f}", f"--grader-tests={args.test}",
            f"--grader-skip={','.join(sorted(skip))}"] + (["--grader-icount"] if args.deterministic else [])
    selected = sum(fnmatch.fnmatch(t.name, args.test) and t.name not in skip for lab in labs for t in lab.tests)
    if args.jobs > 1 and selected >= MIN_TESTS_PER_WORKER * args.jobs:
        argv += ["-n", str(args.jobs)]
    plugins = [] if args.quiet else [Progress(sys.stdout)]
    with open(args.out / "pytest.log", "w") as log:
        saved = sys.stdout
        sys.stdout = log  # the scoreboard is ours; pytest's own output goes to the log
        try:
            return pytest.main(argv, plugins=plugins)
        finally:
            sys.stdout = saved


class Progress:
    """Prints one line per finished test, as results come in."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def pytest_runtest_logreport(self, report) -> None:
        for key, value in getattr(report, "user_properties", ()):
            if key == "grader":
                r = TestResult.from_json(value)
                mark = "ok  " if r.passed else "FAIL"
                print(f"  {mark} lab {r.lab} {r.name} ({r.seconds:.2f} s)", file=self.stream, flush=True)


def gather(labs: list[Lab], pattern: str, results_dir: Path, error: str | None) -> tuple[TestResult, ...]:
    """A record for every selected test: its result, or why it has none."""
    found = {} if error else load_all(results_dir)
    records = []
    for lab in labs:
        for t in lab.tests:
            if not fnmatch.fnmatch(t.name, pattern):
                continue
            r = found.get((lab.number, t.name))
            if r is None:
                summary = error.splitlines()[0] if error else "not run (the grader stopped before this test)"
                r = TestResult(lab.number, t.name, t.title, FAILED if error else NOT_RUN, 0, t.points, summary,
                               error or summary, 0.0, t.visibility)
            records.append(r)
    return tuple(records)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in SUBCOMMANDS:
        return importlib.import_module(f".{argv[0]}", __package__).main(argv[1:])
    args = parse_args(argv)
    results_dir = args.out / "logs" / "results"
    seed = resumed_seed(results_dir) if args.resume and args.seed is None else args.seed
    seed = seed if seed is not None else random.randrange(1, 1 << 31)
    print(f"grader: seed {seed} (replay with --seed {seed}, or make grade SEED={seed})", flush=True)
    start = time.monotonic()
    labs = selected_labs(args)
    notes: list[str] = []
    error = None
    if not args.resume:
        clear_results(results_dir)  # a result counts only if this run wrote it
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out, prefix="work-") as work:
        try:
            kernel, warnings, notes = choose_kernel(args, Path(work))
            if warnings:
                notes.append("compiler warnings in the gap files (not fatal):\n" + warnings)
            notes += filter(None, [callwatch.unavailable()])
            done = resume(results_dir, seed, kernel, keep=args.resume)
            if done:
                notes.append(f"resuming: {len(done)} tests already graded with this kernel and seed")
            for note in notes:
                print(note, file=sys.stderr)
            speed = args.speed or measure_speed(kernel)
            if run_pytest(labs, kernel, args, seed, speed, done) == 2:
                notes.append("interrupted: finished tests are kept; run again with --resume to finish")
        except build.BuildError as e:
            error = f"build failed: {e}"
            print(error, file=sys.stderr)
        except ImportError as e:
            error = f"grader error: {e}: run 'make deps' (python3-pytest, python3-pytest-xdist)"
            print(error, file=sys.stderr)
    run = report.Run(gather(labs, args.test, results_dir, error), seed, describe(args), time.monotonic() - start,
                     tuple(notes))
    if not error:
        for r in run.failed:
            print("\n" + r.output)
    print("\n" + report.scoreboard(run))
    for note in notes:
        if note.startswith("interrupted"):
            print(note)
    if args.json:
        report.write_json(run, args.json)
    if args.junit:
        report.write_junit(run, args.junit)
    if args.gradescope:
        report.write_gradescope(run, args.gradescope)
    if args.html is not None:
        page = html_report.write(run, Path(args.html) if args.html else args.out / "report.html")
        print(f"report: {page}")
    return 1 if run.failed or not run.results else 0
