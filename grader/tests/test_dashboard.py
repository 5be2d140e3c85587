"""The instructor's dashboard (OUT/index.html): its numbers are grades.csv's,
it lists the flags and the submissions that hung or crashed, and links to
every student's page; a real batch writes it."""
from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest

from grader import dashboard, html_report, report
from grader.gradebook import StudentRecord, student_dir, write_atomic, write_grades
from grader.build import ROOT
from grader.labs import all_labs
from grader.results import FAILED, PASSED, TestResult

from .htmlcheck import Page
from .submissions import make_submission

CORPUS = tomllib.loads((Path(__file__).parent / "corpus.toml").read_text())
TESTS = ((1, "remap", 3), (1, "translate", 3), (2, "heap_free", 4))


def record(lab: int, name: str, points: float, fail: str = "", outcome: str = "") -> TestResult:
    if not fail:
        return TestResult(lab, name, name, PASSED, points, points, "passed", "", 0.1)
    return TestResult(lab, name, name, FAILED, 0, points, f"{outcome or 'fail'}: {fail}", f"FAIL {fail}", 0.1,
                      outcome=outcome or "fail")


CLASS = {  # student -> {test: (why it failed, outcome)}
    "alice": {},
    "bob": {"remap": ("the TLB kept the old translation", "")},
    "carol": {"translate": ("no progress for 3 s", "timeout"), "heap_free": ("page fault", "panic")},
    "zoë & <o'neil>": {"remap": ("x", ""), "translate": ("y", ""), "heap_free": ("z", "")},
}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A batch's output folder as the batch writes it: final records and
    pages, grades.csv; dave's build failed, erin's report has flags and no
    page, and frank's grading was interrupted (no record yet)."""
    out = tmp_path / "out"
    records = []
    for name, failures in CLASS.items():
        results = tuple(record(lab, test, points, *failures.get(test, ("", ""))) for lab, test, points in TESTS)
        if name == "bob":  # a test's own flag, raised by the grader's watch
            results = (dataclasses.replace(results[0], flags=("read the kernel's symbol table (at x)",)),
                       *results[1:])
        records.append(StudentRecord(name, f"subs/{name}", f"submission {name}", 7, 1.0, results))
        html_report.write(report.Run(results, 7, name, 2.0), student_dir(out, name) / "report.html")
    error = "build failed: missing gap file paging.c"
    records.append(StudentRecord("dave", "subs/dave", "submission dave", 7, 1.0,
                                 tuple(record(lab, t, p, error) for lab, t, p in TESTS), error=error))
    records.append(StudentRecord("erin", "subs/erin", "submission erin", 7, 1.0,
                                 tuple(record(lab, t, p) for lab, t, p in TESTS)))
    for r in records:
        student_dir(out, r.student).mkdir(parents=True, exist_ok=True)
        doc = json.loads(r.to_json())
        if r.student == "erin":
            doc["flags"] = ["wrote to the harness's read-only data", {"test": "remap", "what": "forged end marker"}]
        write_atomic(student_dir(out, r.student) / "report.json", json.dumps(doc))
    student_dir(out, "frank").mkdir(parents=True)  # interrupted: no report.json
    write_grades(records, out / "grades.csv")
    return out


def csv_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_dashboard_numbers_are_those_of_grades_csv(out):
    page = Page(dashboard.write(out).read_text())
    rows = csv_rows(out)
    shown = page.rows("students")
    assert shown == [[r["student"], r["lab1"], r["lab2"], r["total"], r["max"], r["failed"]] for r in rows]
    # The histogram: each total counted once, in the bin that holds it.
    bins = [(g.attrs["data-bin"], int(g.attrs["data-count"])) for g in page.find("g") if "data-bin" in g.attrs]
    assert sum(n for _, n in bins) == len(rows)
    for label, count in bins:
        low, high = map(float, label.split("-"))
        inside = [r for r in rows if low <= float(r["total"]) < high or (high == 10 and float(r["total"]) == 10)]
        assert count == len(inside), label
    # The labs: the average of grades.csv's column, out of the lab's points.
    bars = {g.attrs["data-label"]: g.attrs for g in page.find("g") if "data-label" in g.attrs}
    for lab, points in (("1", 6), ("2", 4)):
        mean = round(sum(float(r[f"lab{lab}"]) for r in rows) / len(rows), 2)
        assert float(bars[f"lab {lab}"]["data-value"]) == mean and float(bars[f"lab {lab}"]["data-max"]) == points
    # The tests: students whose failed column does not name it, of those graded on it.
    for lab, test, _ in TESTS:
        graded = rows
        passed = sum(test not in r["failed"].split(";") for r in graded)
        assert bars[f"lab {lab} {test}"]["data-value"] == str(passed)
        assert bars[f"lab {lab} {test}"]["data-max"] == str(len(graded))


def test_dashboard_shows_flags_hangs_crashes_and_links_every_page(out):
    page = Page(dashboard.write(out).read_text())
    flags = page.by_id("flags").text
    assert "wrote to the harness's read-only data" in flags and "forged end marker" in flags
    assert [r[0] for r in page.rows("flags")] == ["bob", "erin"]
    assert "remap: read the kernel's symbol table (at x)" in flags
    assert "read the kernel&#x27;s symbol table (at x)" in (out / "students" / "bob" / "report.html").read_text()
    trouble = page.rows("hung-or-crashed")
    assert [r[:3] for r in trouble] == [["carol", "lab 1 translate", "hung (timeout)"],
                                        ["carol", "lab 2 heap_free", "crashed (panic)"],
                                        ["dave", "", "no test ran"]]
    assert "frank" in page.by_id("not-finished").text and "frank" not in [r["student"] for r in csv_rows(out)]
    links = {a.text: a.attrs["href"] for a in page.find("a") if a.attrs.get("href", "").endswith("report.html")}
    assert set(links) == set(CLASS)  # dave and erin have no page
    for href in links.values():
        assert (out / unquote(href)).is_file()
    assert "zoë & <o'neil>" in page.text


def test_a_batch_writes_every_page_and_the_dashboard(tmp_path):
    subs = tmp_path / "subs"
    make_submission("alice", {}, subs / "alice")
    make_submission("nully", CORPUS["null_dereference"], subs / "nully")
    (subs / "dave").mkdir()
    result = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--jobs", "2", "--out",
                             str(tmp_path / "out"), "--lab", "1", "--seed", "3"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    out = tmp_path / "out"
    assert f"dashboard: {out / 'index.html'}" in result.stdout, result.stdout + result.stderr
    page = Page((out / "index.html").read_text())
    rows = csv_rows(out)
    assert page.rows("students") == [[r["student"], r["lab1"], r["total"], r["max"], r["failed"]] for r in rows]
    assert ("nully", "crashed (panic)") in [(r[0], r[2]) for r in page.rows("hung-or-crashed")]
    assert page.rows("pairs")[0][1] == "alice & nully"  # the reference and a one-line edit of it
    for name in ("alice", "nully", "dave"):
        student = Page((out / "students" / name / "report.html").read_text())
        assert len(student.rows("scoreboard")) == len(all_labs()[0].tests) + 1  # and the total
    assert "missing gap file" in Page((out / "students" / "dave" / "report.html").read_text()).text
