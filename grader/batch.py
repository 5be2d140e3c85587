"""Batch grading: every submission of a folder, in parallel, resumable.

    python3 -m grader batch SUBMISSIONS --jobs N --out DIR [--lab N] [--force]

SUBMISSIONS holds one folder or hand-in archive per student (its name is
the student's). Each student is graded by a separate grader process, with
the same seed and the same timeouts for everyone, and gets DIR/students/NAME/report.json plus its
logs as soon as it is done; a re-run skips students already graded (unless
--force), so an interrupted batch loses nothing. When all are done, the
batch writes DIR/grades.csv and prints a summary.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import build
from .handin import ARCHIVE_SUFFIXES

STUDENT_TIMEOUT = 1800.0  # seconds: a bound per student, far above any real grading


@dataclass(frozen=True)
class Student:
    name: str
    path: Path


def find_students(folder: Path) -> list[Student]:
    students = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        name = path.name
        for suffix in ARCHIVE_SUFFIXES:
            name = name.removesuffix(suffix)
        if path.is_dir() or path.name.endswith(ARCHIVE_SUFFIXES):
            students.append(Student(name, path))
    return students


def batch_seed(out: Path, requested: int | None) -> int:
    """One seed for the whole batch, kept in DIR/batch.json so that a
    resumed batch grades everyone with the same parameters."""
    state = out / "batch.json"
    if state.exists() and requested is None:
        return json.loads(state.read_text())["seed"]
    seed = requested if requested is not None else random.randrange(1, 1 << 31)
    out.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"seed": seed}))
    return seed


def batch_speed(out: Path) -> float:
    """One timeout multiplier for everyone, measured once on the reference
    kernel: the same timeouts for every student, and one boot instead of
    one per student."""
    from .cli import measure_speed

    return measure_speed(build.build_kernel(build.ROOT / "solutions", out / "reference").elf)


def grade_student(student: Student, out: Path, seed: int, extra: list[str]) -> dict:
    """Grades one student in its own process; returns its JSON report."""
    folder = out / "students" / student.name
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "report.json"
    argv = [sys.executable, "-m", "grader", "--submission", str(student.path.resolve()), "--seed", str(seed),
            "--jobs", "1", "--quiet", "--out", str(folder / "grade"), "--json", str(report.with_suffix(".tmp")),
            *extra]
    try:
        result = subprocess.run(argv, cwd=build.ROOT, capture_output=True, text=True, errors="replace",
                                timeout=STUDENT_TIMEOUT)
        (folder / "grader.log").write_text(result.stdout + result.stderr)
        doc = json.loads(report.with_suffix(".tmp").read_text())
    except (subprocess.TimeoutExpired, OSError, ValueError) as e:
        doc = {"score": 0, "max_score": 0, "seed": seed, "tests": [], "error": f"grading did not finish: {e}"}
        report.with_suffix(".tmp").write_text(json.dumps(doc))
    report.with_suffix(".tmp").replace(report)
    return doc


def write_grades(students: list[Student], out: Path) -> list[list[str]]:
    """DIR/grades.csv from the students' reports, with a column for each lab
    graded; returns its rows."""
    docs = {s.name: json.loads(p.read_text()) for s in students
            if (p := out / "students" / s.name / "report.json").exists()}
    labs = sorted({t["lab"] for doc in docs.values() for t in doc["tests"]})
    rows = [["student", *[f"lab{n}" for n in labs], "total", "max", "failed", "review"]]
    for name, doc in docs.items():
        per_lab = {n: sum(t["score"] for t in doc["tests"] if t["lab"] == n) for n in labs}
        failed = [t["name"] for t in doc["tests"] if t["status"] != "passed"]
        if any(t["output"].startswith("build failed") for t in doc["tests"]):
            failed.insert(0, "build failed")
        if doc.get("error"):
            failed.insert(0, doc["error"])
        review = [f"{t['name']}: {flag}" for t in doc["tests"] for flag in t.get("flags", ())]
        rows.append([name, *[f"{per_lab[n]:g}" for n in labs], f"{doc['score']:g}", f"{doc['max_score']:g}",
                     ";".join(failed), "; ".join(review)])
    with open(out / "grades.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return rows


def summary(rows: list[list[str]]) -> str:
    """The score columns as a table, then the students flagged for review."""
    header, body = rows[0], rows[1:]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 2)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-2], widths)) for r in rows]
    if body:
        means = [f"{sum(float(r[i]) for r in body) / len(body):.1f}" for i in range(1, len(header) - 2)]
        lines.append("  ".join(c.ljust(w) for c, w in zip(["average", *means], widths)))
    lines += [f"review {r[0]}: {r[-1]}" for r in body if r[-1]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader batch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", type=Path)
    ap.add_argument("--jobs", "-j", type=int, default=2, help="students graded at the same time")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--lab", type=int, action="append")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--force", action="store_true", help="grade again students already graded")
    ap.add_argument("--reference-paging", action="store_true", help="grade process.c on the reference paging.c")
    args = ap.parse_args(argv)
    students = find_students(args.submissions)
    seed = batch_seed(args.out, args.seed)
    extra = [a for n in args.lab or [] for a in ("--lab", str(n))]
    extra += ["--reference-paging"] if args.reference_paging else []
    todo = [s for s in students if args.force or not (args.out / "students" / s.name / "report.json").exists()]
    print(f"batch: {len(students)} submissions, {len(students) - len(todo)} already graded, seed {seed}", flush=True)
    build.build_trusted()
    extra += ["--speed", f"{batch_speed(args.out):.3f}"]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(grade_student, s, args.out, seed, extra): s for s in todo}
        for done, future in enumerate(as_completed(futures), 1):
            doc = future.result()
            elapsed = time.monotonic() - start
            rate = done / elapsed * 60
            left = (len(todo) - done) * elapsed / done
            note = f" ({doc['error']})" if doc.get("error") else ""
            print(f"[{done}/{len(todo)}] {futures[future].name}: {doc['score']:g}/{doc['max_score']:g}{note}  "
                  f"{rate:.1f}/min, about {left:.0f} s left", flush=True)
    rows = write_grades(students, args.out)
    print("\n" + summary(rows) + f"\n\ngrades: {args.out / 'grades.csv'}")
    return 0
