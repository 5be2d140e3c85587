"""Result records: one per test, written as soon as the test ends.

Running and reporting are separate (as in pytest itself): the pytest plugin
writes a TestResult for each test; reports (scoreboard, JSON, JUnit,
Gradescope, HTML) only read them. A failed test's record may also carry
structured evidence for reports that draw it (shapes in grader/evidence.py):
the trace diff, the crash triage, memory maps. All of it is plain JSON.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class
    lab: int
    name: str
    title: str
    status: str  # PASSED, FAILED or NOT_RUN
    score: float
    max_score: float
    summary: str  # one line
    output: str  # what the student reads: the failure report, or "" on a pass
    seconds: float
    visibility: str = "visible"
    log: str = ""  # path of the saved serial log
    seed: int = 0
    outcome: str = ""  # the boot's verdict (qemu.Outcome value) of a failed test; "" if it never booted
    trace: dict | None = None  # evidence.TraceDiff: the trace failure, expected lines against the log
    triage: dict | None = None  # evidence.Triage: what crashed, where, and why that usually happens
    memory_maps: list[dict] | None = None  # evidence.MemoryMap pictures (physical, virtual) of the failure
    flags: tuple[str, ...] = ()  # for the instructor's review: what no correct solution does (never points)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> TestResult:
        fields = json.loads(text)
        return TestResult(**{**fields, "flags": tuple(fields.get("flags", ()))})


def save(result: TestResult, folder: Path) -> Path:
    """Writes the record atomically (a killed run never leaves half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lab{result.lab}-{result.name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(result.to_json())
    tmp.replace(path)
    return path


def load_all(folder: Path) -> dict[tuple[int, str], TestResult]:
    out: dict[tuple[int, str], TestResult] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("lab*.json")):
            try:
                r = TestResult.from_json(path.read_text())
            except (ValueError, TypeError):
                continue  # a record from another version: ignore
            out[(r.lab, r.name)] = r
    return out
