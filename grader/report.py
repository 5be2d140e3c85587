"""Reports of a grading run; they only read TestResult records.

scoreboard() is what a student sees in the terminal (html_report.py: the
page); write_json(), write_junit() and write_gradescope() write
machine-readable files, each in one write. Every format carries the review
flags (what no correct solution does, for the instructor): they never
change points.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import html_report
from .results import PASSED, TestResult


@dataclass(frozen=True)
class Run:
    """Everything a report needs about one grading run."""

    results: tuple[TestResult, ...]
    seed: int
    kernel: str  # what was graded, e.g. "reference" or "submission ./alice"
    seconds: float
    notes: tuple[str, ...] = ()  # warnings shown above the scoreboard

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    @property
    def failed(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def flagged(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if r.flags)


REVIEW = "review (for the instructor; points unchanged)"


def review_lines(r: TestResult) -> list[str]:
    """The flags of one test, one line each."""
    return [f"{REVIEW}: {flag}" for flag in r.flags]


def scoreboard(run: Run) -> str:
    width = max([len(r.name) for r in run.results] + [4])
    out = [f"{'lab':<4}{'test':<{width + 2}}{'result':<8}{'time':>7}  points"]
    for r in run.results:
        result = "OK" if r.passed else "FAIL" if r.status == "failed" else "-"
        line = f"{r.lab:<4}{r.name:<{width + 2}}{result:<8}{r.seconds:>6.2f}s  {r.score:g}/{r.max_score:g}"
        if not r.passed:
            line += f"  {r.summary[:90]}"
        out.append(line)
        out += [f"{'':<4}  {flag[:150]}" for flag in review_lines(r)]
    out.append(f"total {run.score:g}/{run.max_score:g}   ({len(run.results) - len(run.failed)} of "
               f"{len(run.results)} tests passed, {run.seconds:.1f} s, seed {run.seed}, {run.kernel})")
    if run.flagged:
        out.append(f"flagged for review: {len(run.flagged)} tests")
    return "\n".join(out)


def to_dict(run: Run) -> dict:
    """The JSON report: the documented keys (score, max_score, seed, kernel;
    each test's lab, name, status, score, max_score, output), then the rest
    of each record, so that from_dict() gives the Run back (a batch draws a
    student's page from it)."""
    return {"score": run.score, "max_score": run.max_score, "seed": run.seed, "kernel": run.kernel,
            "seconds": round(run.seconds, 3), "notes": list(run.notes),
            "tests": [{**{k: v for k, v in asdict(r).items() if v is not None}, "output": r.output or r.summary}
                      for r in run.results]}


def from_dict(doc: dict) -> Run:
    """The Run of a JSON report (a batch's report of a student whose grading
    did not finish has no tests and an `error`)."""
    known = {f.name for f in fields(TestResult)}
    results = []
    for t in doc.get("tests", []):
        record = {k: v for k, v in t.items() if k in known}
        record.setdefault("title", t["name"])
        record.setdefault("summary", t["output"].splitlines()[0] if t["output"] else t["status"])
        record.setdefault("seconds", 0.0)
        record["flags"] = tuple(record.get("flags", ()))
        if t["status"] == PASSED:
            record["output"] = ""
        results.append(TestResult(**record))
    notes = tuple(doc.get("notes", ())) + ((doc["error"],) if doc.get("error") else ())
    return Run(tuple(results), doc.get("seed", 0), doc.get("kernel", ""), doc.get("seconds", 0.0), notes)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_json(run: Run, path: Path) -> None:
    _write(path, json.dumps(to_dict(run), indent=2) + "\n")


def write_gradescope(run: Run, path: Path) -> None:
    """Gradescope's autograder results.json (score, tests with visibility).
    A failed test's output is the HTML the student page shows for it
    (Gradescope's output_format "html"), text report included."""
    doc = {
        "score": run.score,
        "execution_time": round(run.seconds),
        "output": "\n".join((*run.notes, f"seed {run.seed}; {run.kernel}")),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": f"Lab {r.lab}: {r.title} ({r.name})", "number": f"{r.lab}.{i}", "score": r.score,
                   "max_score": r.max_score, "status": "passed" if r.passed else "failed",
                   "output": "\n".join([r.summary, *review_lines(r)]) if r.passed else html_report.test_details(r),
                   "output_format": "text" if r.passed else "html", "visibility": r.visibility,
                   "extra_data": {"review_flags": list(r.flags)}}
                  for i, r in enumerate(run.results, 1)],
    }
    _write(path, json.dumps(doc, indent=2) + "\n")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def write_junit(run: Run, path: Path) -> None:
    suites = ET.Element("testsuites", name="kestrel-grade", tests=str(len(run.results)),
                        failures=str(len(run.failed)), time=f"{run.seconds:.3f}")
    for lab in sorted({r.lab for r in run.results}):
        mine = [r for r in run.results if r.lab == lab]
        suite = ET.SubElement(suites, "testsuite", name=f"lab{lab}", tests=str(len(mine)),
                              failures=str(sum(not r.passed for r in mine)),
                              time=f"{sum(r.seconds for r in mine):.3f}")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"lab{lab}", name=r.name, time=f"{r.seconds:.3f}")
            properties = ET.SubElement(case, "properties")
            properties.append(ET.Element("property", name="points", value=f"{r.score:g}/{r.max_score:g}"))
            for flag in r.flags:
                properties.append(ET.Element("property", name="review", value=_xml_text(flag)))
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=_xml_text(r.summary))
                failure.text = _xml_text(r.output)
    _write(path, ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")
