"""What a batch writes and reads back: its settings (DIR/batch.json), each
student's final record (DIR/students/NAME/report.json) and the class's
grades (DIR/grades.csv). grader/batch.py writes them; reports and
dashboards read them.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

from .results import TestResult


class BatchError(Exception):
    """A batch that cannot run as asked; the message says why."""


@dataclass(frozen=True)
class Student:
    name: str
    path: Path


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
        write_atomic(out / "batch.json", json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @staticmethod
    def load(out: Path) -> Settings | None:
        """The settings of the batch in `out`; None when there is none."""
        path = out / "batch.json"
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text())
            shard = tuple(doc["shard"]) if doc.get("shard") else None
            return Settings(doc["seed"], doc["speed"], tuple(doc["labs"]), doc["reference_paging"], shard)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BatchError(f"{path} is not from this version of the batch ({e!r}): use --force (grade everyone "
                             f"again) or another --out") from e


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

    def review(self) -> list[str]:
        """The review flags of its tests (what no correct solution does; never points)."""
        return [f"{t.name}: {flag}" for t in self.tests for flag in t.flags]

    def to_json(self) -> str:
        doc = dataclasses.asdict(self)
        doc["tests"] = [{**dataclasses.asdict(t), "output": t.output or t.summary} for t in self.tests]
        return json.dumps({**doc, "score": self.score, "max_score": self.max_score}, indent=2) + "\n"

    @staticmethod
    def from_json(text: str) -> StudentRecord:
        doc = json.loads(text)
        tests = tuple(TestResult(**{**_known(TestResult, t), "flags": tuple(t.get("flags", ()))})
                      for t in doc["tests"])
        return StudentRecord(**{**_known(StudentRecord, doc), "tests": tests, "notes": tuple(doc.get("notes", ()))})


def _known(cls, doc: dict) -> dict:
    """The keys of `doc` that are fields of dataclass `cls` (a newer record
    may have more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


def write_atomic(path: Path, text: str) -> None:
    """Writes `path` in one step: a reader (or a crash) sees the old file or
    the new one, never half of it."""
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
    rows = [["student", *[f"lab{n}" for n in labs], "total", "max", "failed", "review"]]
    for r in sorted(records, key=lambda r: r.student):
        per_lab = [f"{sum(t.score for t in r.tests if t.lab == n):g}" for n in labs]
        rows.append([r.student, *per_lab, f"{r.score:g}", f"{r.max_score:g}", ";".join(r.failed()),
                     "; ".join(r.review())])
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.getvalue())
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


