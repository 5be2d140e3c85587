"""The instructor's page of a batch: OUT/index.html.

Drawn from the batch's output folder alone (OUT/grades.csv, and each
student's OUT/students/NAME/report.json beside its report.html), so every
number on it is one of grades.csv's or counts what the reports say:

- the totals as a histogram, the average per lab and the pass rate per
  test as bars;
- the trust flags the reports raise (things no correct solution does);
- the submissions that hung (timeout, output flood) or crashed (panic,
  triple fault), those where no test ran (build failed), and those the
  batch has not finished (no report.json yet);
- every student, with a link to their page;
- with the submissions folder, the pairs that share code (similarity.py).
"""
from __future__ import annotations

import csv
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import html_report, page, similarity, similarity_page, svg
from .build import ROOT
from .page import esc

HUNG = ("timeout", "output flood")
CRASHED = ("panic", "triple fault")
BINS = 10
PAIRS_SHOWN = 20


@dataclass(frozen=True)
class Student:
    row: dict[str, str]  # the student's row of grades.csv
    report: dict  # its report.json ({} when there is none)
    has_page: bool  # its report.html exists

    @property
    def name(self) -> str:
        return self.row["student"]

    def failed(self) -> set[str]:
        return set(filter(None, self.row.get("failed", "").split(";")))

    def tests(self) -> list[dict]:
        return self.report.get("tests", [])


def load(out: Path) -> tuple[list[str], list[Student]]:
    """grades.csv's columns, and its students with their reports."""
    with open(out / "grades.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    students = []
    for row in rows:
        try:
            doc = json.loads((out / "students" / row["student"] / "report.json").read_text())
        except (OSError, ValueError):
            doc = {}
        students.append(Student(row, doc, (out / "students" / row["student"] / "report.html").is_file()))
    return columns, students


def lab_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.startswith("lab") and c[3:].isdigit()]


def write(out: Path, submissions: Path | None = None) -> Path:
    """Writes OUT/index.html; with `submissions`, it has the similarity
    check of that folder (against this kit's skeleton) too."""
    columns, students = load(out)
    check = similarity.check_folder(submissions, ROOT / "kernel") if submissions else None
    return page.write(out / "index.html", dashboard(out, columns, students, check))


def dashboard(out: Path, columns: list[str], students: list[Student], check: similarity.Check | None) -> str:
    try:
        seed = f" &middot; seed {json.loads((out / 'batch.json').read_text())['seed']}"
    except (OSError, ValueError, KeyError):
        seed = ""
    totals = [float(s.row["total"]) for s in students]
    mean = f"average {statistics.mean(totals):.1f}, median {statistics.median(totals):g}" if totals else ""
    body = [f"<h1>Kestrel course dashboard</h1>\n<p class=\"muted\">{len(students)} students{seed} &middot; "
            f"{mean}</p>", "<h2>Totals</h2>", totals_histogram(students), "<h2>Labs and tests</h2>",
            lab_bars(columns, students), test_bars(students), "<h2>Trust flags</h2>", flags(students),
            "<h2>Hung or crashed</h2>", hung_or_crashed(students), not_finished(out, students),
            "<h2>Students</h2>",
            students_table(columns, students)]
    if check is not None:
        body.append(similarity_page.section(check, PAIRS_SHOWN))
    return page.document("Kestrel course dashboard", "\n".join(body))


def totals_histogram(students: list[Student]) -> str:
    top = max((float(s.row["max"]) for s in students), default=0.0)
    if not students or top <= 0:
        return "<p>No totals yet.</p>"
    counts = [0] * BINS
    for s in students:
        counts[min(BINS - 1, int(float(s.row["total"]) / top * BINS))] += 1
    return (f'<p class="muted">students by total points, out of {top:g}</p>\n'
            + svg.histogram(counts, [round(top * i / BINS, 1) for i in range(BINS + 1)]))


def lab_max(students: list[Student], lab: int) -> float:
    """A lab's points, from the reports (grades.csv has only the total)."""
    return max((sum(t["max_score"] for t in s.tests() if t["lab"] == lab) for s in students), default=0.0)


def lab_bars(columns: list[str], students: list[Student]) -> str:
    """The average points of each lab (grades.csv's columns) out of its points."""
    rows = [(c.replace("lab", "lab "), round(statistics.mean(float(s.row[c]) for s in students), 2),
             lab_max(students, int(c[3:]))) for c in lab_columns(columns)] if students else []
    return "<h3>Average points per lab</h3>\n" + svg.bars(rows, unit=" points") if rows else ""


def test_bars(students: list[Student]) -> str:
    """For each test, the students it passed for, of those it was graded for
    (failed = in the student's `failed` column of grades.csv)."""
    graded: dict[tuple[int, str], int] = {}
    passed: dict[tuple[int, str], int] = {}
    for s in students:
        failed = s.failed()
        for t in s.tests():
            key = (t["lab"], t["name"])
            graded[key] = graded.get(key, 0) + 1
            passed[key] = passed.get(key, 0) + (t["name"] not in failed)
    rows = [(f"lab {lab} {name}", passed[(lab, name)], graded[(lab, name)])
            for lab, name in sorted(graded, key=lambda key: key[0])]  # each lab's tests in lab.toml order
    return "<h3>Students who passed each test</h3>\n" + svg.bars(rows, unit=" students") if rows else ""


def flags(students: list[Student]) -> str:
    """Every student whose report raised a review flag, with the flags:
    the report's own, then each test's."""
    rows = [[student_link(s), "<br>".join(esc(flag_text(f)) for f in found)]
            for s in students if (found := [*s.report.get("flags", ()),
                                            *(f"{t['name']}: {f}" for t in s.tests() for f in t.get("flags", ()))])]
    if not rows:
        return "<p>No report raised a flag.</p>"
    return page.table(["student", "flags"], rows, attrs=' id="flags"')


def flag_text(flag: object) -> str:
    if isinstance(flag, dict):
        return "; ".join(f"{k}: {v}" for k, v in flag.items())
    return str(flag)


def hung_or_crashed(students: list[Student]) -> str:
    """One row per student and kind of trouble, with the tests it hit."""
    rows = []
    for s in students:
        if s.report.get("error"):
            rows.append([student_link(s), "", "no test ran", esc(s.report["error"].splitlines()[0])])
        for kind, outcomes in (("hung", HUNG), ("crashed", CRASHED)):
            hit = [t for t in s.tests() if t.get("outcome") in outcomes]
            if hit:
                tests = ", ".join(student_link(s, html_report.anchor(t["lab"], t["name"]),
                                                f"lab {t['lab']} {t['name']}")
                                  for t in hit)
                rows.append([student_link(s), tests, f"{kind} ({esc(hit[0]['outcome'])})",
                             esc(hit[0].get("summary", ""))])
    if not rows:
        return "<p>No submission hung or crashed.</p>"
    return page.table(["student", "tests", "what", "why (the first)"], rows, attrs=' id="hung-or-crashed"')


def not_finished(out: Path, students: list[Student]) -> str:
    """The students the batch started but could not finish (a folder
    without a final report.json): not in grades.csv until a re-run."""
    final = {s.name for s in students}
    names = sorted(p.name for p in (out / "students").glob("*")
                   if p.is_dir() and p.name not in final and not (p / "report.json").exists())
    if not names:
        return ""
    return (f'<p id="not-finished">Not finished, so not in grades.csv (run the same batch again to grade '
            f'them): {esc(", ".join(names))}.</p>')


def student_link(s: Student, anchor: str = "", text: str = "") -> str:
    """`text` (the student's name by default), linked to their page
    (report.html, beside report.json)."""
    text = text or s.name
    if not s.has_page:
        return esc(text)
    href = f"students/{quote(s.name)}/report.html" + (f"#{anchor}" if anchor else "")
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def students_table(columns: list[str], students: list[Student]) -> str:
    """grades.csv as it is, each name linked to the student's page."""
    shown = ["student", *lab_columns(columns), "total", "max", "failed"]
    rows = [[student_link(s), *[esc(s.row[c]) for c in shown[1:]]] for s in students]
    return page.table(shown, rows, numeric=range(1, len(shown) - 1), attrs=' id="students"')
