"""Labs as data: each labs/NN-name/ folder has a lab.toml read here.

    title = "Identity map"
    file = "paging.c"                  # the gap file its functions live in
    functions = ["init_paging", ...]   # its gap functions

    [tests.identity_map_32m]           # pytest function test_identity_map_32m
    title = "every frame of 32 MiB maps to itself"
    points = 5
    timeout = 2.0                      # seconds on the machine of NOMINAL_FLOOR
                                       # (grader/cli.py), about 10x the
                                       # reference's time; scaled by the
                                       # measured speed of the grading machine
    visibility = "visible"             # Gradescope: visible, hidden,
                                       # after_due_date, after_published

and, optionally, `answers = ["answers/lab1.md"]`: files the student hands in
besides the gap files (make handin packs them), and hints: where a failure
report sends the student, by symptom. The first hint whose `when` (a regular
expression) is found in the failure's message, among those for the failed
test (`tests`; none: every test of the lab), gives the link; `see` is an
anchor of the lab's handout or a path#anchor of another one:

    [[hints]]
    when = "reads still see the old frame"
    see = "#remap-old-frame"                 # handouts/01-identity-map.md#remap-old-frame
"""
from __future__ import annotations

import os
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Gradescope's Ubuntu 22.04): python3-tomli
    import tomli as tomllib
from dataclasses import dataclass
from pathlib import Path

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
_FOLDER = re.compile(r"^(\d\d)-([a-z0-9-]+)$")


class LabError(Exception):
    """A lab folder whose metadata is wrong (a kit bug, not a student's)."""


@dataclass(frozen=True)
class Hint:
    when: re.Pattern[str]
    see: str  # "#anchor" in the lab's handout, or "handouts/FILE.md#anchor"
    tests: tuple[str, ...] = ()  # empty: every test of the lab


@dataclass(frozen=True)
class TestInfo:
    __test__ = False  # not a pytest test class
    lab: int
    name: str
    title: str
    points: float
    timeout: float
    visibility: str


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str  # folder name, e.g. "01-identity-map"
    title: str
    file: str
    functions: tuple[str, ...]
    tests: tuple[TestInfo, ...]
    folder: Path
    answers: tuple[str, ...] = ()  # files the student hands in besides the gap files
    hints: tuple[Hint, ...] = ()

    @property
    def handout(self) -> str:
        return f"handouts/{self.slug}.md"

    def link(self, see: str) -> str:
        return f"{self.handout}{see}" if see.startswith("#") else see

    def hint_for(self, test: str, message: str) -> str:
        """The handout section for a failure of `test` that says `message`
        (the lab's handout itself when no hint matches)."""
        for hint in self.hints:
            if (not hint.tests or test in hint.tests) and hint.when.search(message):
                return self.link(hint.see)
        return self.handout

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)

    def test(self, name: str) -> TestInfo:
        for t in self.tests:
            if t.name == name:
                return t
        raise LabError(f"{self.folder}/lab.toml has no [tests.{name}]")


def load_lab(folder: Path) -> Lab:
    m = _FOLDER.match(folder.name)
    if not m:
        raise LabError(f"{folder}: lab folders are named NN-name")
    path = folder / "lab.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise LabError(f"{path}: {e}") from e
    number = int(m[1])
    tests = tuple(_test(number, name, spec, path) for name, spec in data.get("tests", {}).items())
    for key in ("title", "file", "functions"):
        if key not in data:
            raise LabError(f"{path}: missing '{key}'")
    return Lab(number, folder.name, data["title"], data["file"], tuple(data["functions"]), tests, folder,
               tuple(data.get("answers", ())), tuple(_hint(spec, path, tests) for spec in data.get("hints", ())))


def _hint(spec: dict, path: Path, tests: tuple[TestInfo, ...]) -> Hint:
    unknown = set(spec) - {"when", "see", "tests"}
    if unknown or not {"when", "see"} <= set(spec):
        raise LabError(f"{path}: a [[hints]] entry has `when`, `see` and maybe `tests`, not {sorted(spec)}")
    strange = set(spec.get("tests", ())) - {t.name for t in tests}
    if strange:
        raise LabError(f"{path}: hint {spec['when']!r} names tests it does not have: {sorted(strange)}")
    if "#" not in spec["see"]:
        raise LabError(f"{path}: hint {spec['when']!r}: `see` is an anchor (#name or handouts/FILE.md#name)")
    try:
        when = re.compile(spec["when"])
    except re.error as e:
        raise LabError(f"{path}: hint {spec['when']!r}: {e}") from e
    return Hint(when, spec["see"], tuple(spec.get("tests", ())))


def _test(lab: int, name: str, spec: dict, path: Path) -> TestInfo:
    unknown = set(spec) - {"title", "points", "timeout", "visibility"}
    if unknown:
        raise LabError(f"{path}: [tests.{name}] has unknown keys {sorted(unknown)}")
    visibility = spec.get("visibility", "visible")
    if visibility not in VISIBILITIES:
        raise LabError(f"{path}: [tests.{name}] visibility must be one of {VISIBILITIES}")
    try:
        return TestInfo(lab, name, spec["title"], float(spec["points"]), float(spec.get("timeout", 5.0)),
                        visibility)
    except KeyError as e:
        raise LabError(f"{path}: [tests.{name}] needs {e}") from e


def all_labs(labs_dir: Path = LABS_DIR) -> list[Lab]:
    """Every lab with a lab.toml, in lab order."""
    return [load_lab(f) for f in sorted(labs_dir.iterdir()) if (f / "lab.toml").exists()]


def session_argv(labs: list[Lab]) -> list[str]:
    """How every grading pytest session starts: the labs' test files and
    the grader's plugin. Puts the kit on PYTHONPATH too (the test files
    import the grader)."""
    kit = LABS_DIR.parent
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(kit), os.environ.get("PYTHONPATH")]))
    files = [str(f) for lab in labs for f in sorted(lab.folder.glob("test_*.py"))]
    return [*files, "-p", "grader.plugin", "-p", "no:cacheprovider", "--import-mode=importlib", f"--rootdir={kit}"]


def lab_of_function(labs: list[Lab], function: str) -> Lab | None:
    return next((lab for lab in labs if function in lab.functions), None)
