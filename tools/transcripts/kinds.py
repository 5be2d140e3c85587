"""What makes each kind of transcript, from the current kit.

    mistake NAME [test=T] [part=summary|report|detail|scoreboard|seed] [grep=RE] [deterministic=1]
        the grader's report on a known mistake (grader/tests/mistakes.toml)
        or a handout example (examples.toml), graded with SEED (and QEMU's
        -icount with deterministic=1): the first line of test T's report
        (default: the test the mistake fails), the whole report, the part
        between its first line and its footer, the scoreboard, or the line
        that names the run's seed; grep keeps the lines it matches.
    gdb [session=NAME] [kernel=SOURCE] [test=T] [seed=N] [deterministic=1] [type=LINE] [show=header|A-B]
        a GDB session (the body: one command a line) attached to QEMU as
        `make qemu-gdb [TEST=T SEED=N]` starts it, with the kit's .gdbinit,
        as `make gdb` runs it (with DETERMINISTIC=1: QEMU's -icount, so
        processes interleave the same way every time). Markers with the same session share one run
        and each shows a part: `header` (what `make gdb` prints before the
        first prompt) or commands A to B. `{{path:text}}` in a command
        becomes path:N, N the one line of that file holding `text`. `type`
        is typed at the shell's first prompt.
    qemu-gdb [test=T] [kernel=SOURCE] [seed=N]
        what `make qemu-gdb [TEST=T SEED=N]` prints before GDB attaches.
    boot [kernel=SOURCE] [mem=SIZE] [from=RE] [cut=RE]
        `make qemu-nox`: what the terminal shows; the body's lines are typed
        at the shell's prompts, one a prompt. `from` starts the transcript
        at the first line matching RE (after a "..." line); `cut` drops the
        lines matching RE, and shows one "..." for them after the command
        they came from.

SOURCE is where the gap files come from: reference (the default),
skeleton (the kit's kernel/, as a student starts), upto:K (the partial
skeleton for lab K: labs before K done) or mistake:NAME.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader import build
from grader.build import ROOT

from . import normalize
from .markdown import Marker

SEED = 4242  # the run every transcript shows (make grade SEED=4242)
MISTAKES_FILE = ROOT / "grader" / "tests" / "mistakes.toml"
EXAMPLES_FILE = Path(__file__).with_name("examples.toml")
SESSION_TIMEOUT = 120.0  # seconds for one GDB session or one boot, on a loaded machine


# A transcript shows make as a student runs it from a shell: not as a
# sub-make of `make transcripts` or `make check` (make[1]: ..., directories).
_MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS")


def shell_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES}, **extra}


class GenerateError(Exception):
    """A transcript that cannot be made: the kit changed under its marker."""


def known_mistakes() -> dict[str, dict]:
    return tomllib.loads(MISTAKES_FILE.read_text())


def examples() -> dict[str, dict]:
    return tomllib.loads(EXAMPLES_FILE.read_text())


def mistakes() -> dict[str, dict]:
    """Every submission a `mistake` marker may name."""
    return {**known_mistakes(), **examples()}


@dataclass
class Kit:
    """The kernels transcripts run, built once each, in `work` (runs share
    a Kit across threads: a kernel is built by one while the others wait,
    never rebuilt under a QEMU or a GDB that reads it)."""

    work: Path
    _built: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # source -> (gap dir, out dir)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def gap_dir(self, source: str) -> Path:
        return self._build(source)[0]

    def kernel(self, source: str) -> Path:
        return self._build(source)[1] / "kernel.elf"

    def out(self, source: str) -> Path:
        return self._build(source)[1]

    def _build(self, source: str) -> tuple[Path, Path]:
        with self._lock:
            if source not in self._built:
                folder = self.work / source.replace(":", "-")
                gaps = self._gap_files(source, folder / "src")
                try:
                    build.build_trusted()
                    build.build_kernel(gaps, folder / "obj")
                except build.BuildError as e:
                    raise GenerateError(f"kernel {source} does not build: {e}") from e
                self._built[source] = (gaps, folder / "obj")
            return self._built[source]

    @staticmethod
    def _gap_files(source: str, src: Path) -> Path:
        kind, _, arg = source.partition(":")
        if kind == "reference":
            return ROOT / "solutions"
        if kind == "skeleton":
            return ROOT / "kernel"
        src.mkdir(parents=True, exist_ok=True)
        if kind == "upto":
            for gap in build.GAP_FILES:
                subprocess.run([sys.executable, str(ROOT / "tools" / "skeleton.py"), str(ROOT / "solutions" / gap),
                                "--upto", arg, "--labs", str(ROOT / "labs"), "-o", str(src / gap)], check=True)
            return src
        if kind == "mistake":
            from grader.tests.submissions import make_submission

            spec = mistakes().get(arg)
            if spec is None:
                raise GenerateError(f"no mistake {arg} in {MISTAKES_FILE.name} or {EXAMPLES_FILE.name}")
            return make_submission(arg, spec, src)
        raise GenerateError(f"unknown kernel source {source!r} (reference, skeleton, upto:K, mistake:NAME)")

    def display(self, text: str) -> str:
        gaps = {gaps: "kernel" for gaps, _ in self._built.values() if gaps != ROOT / "kernel"}
        builds = {out: normalize.STUDENT_BUILD for _, out in self._built.values()}
        return normalize.display(text, ROOT, gaps, builds)


# ---- mistake ---------------------------------------------------------------

@dataclass(frozen=True)
class Graded:
    """A grading run of a mistake: each test's JSON entry, what the grader
    printed, and the folders to show as a student's."""

    tests: dict[str, dict]
    stdout: str
    out: Path  # the grader's --out folder
    submission: Path


def mistake_test(marker: Marker) -> str:
    test = marker.option("test") or mistakes().get(marker.args[0], {}).get("fails")
    if not test:
        raise GenerateError(f"{marker.where}: say which test of {marker.args[0]} to show (test=NAME)")
    return test


def tests_to_grade(markers: list[Marker]) -> str:
    """The --test glob that serves every marker of one mistake."""
    tests = {mistake_test(m) for m in markers}
    return "*" if len(tests) > 1 or any(m.option("part") == "scoreboard" for m in markers) else tests.pop()


def grade_arguments(markers: list[Marker]) -> tuple[str, ...]:
    """The grader's arguments that make the run these markers quote (none
    when nothing quotes it)."""
    if not markers:
        return ()
    return ("--seed", str(SEED), *(("--deterministic",) if any(map(deterministic, markers)) else ()))


def render_mistake(marker: Marker, graded: Graded) -> str:
    name = marker.args[0]
    part = marker.option("part", "summary")
    if part == "seed":
        text = next((ln for ln in graded.stdout.split("\n") if ln.startswith("grader: seed")), "")
    elif part == "scoreboard":
        m = re.search(r"^lab test .*?^total [^\n]*", graded.stdout, re.M | re.S)
        if not m:
            raise GenerateError(f"{marker.where}: no scoreboard in the grader's output for {name}")
        text = m.group(0)
    else:
        test = mistake_test(marker)
        entry = graded.tests.get(test)
        if entry is None or entry["status"] != "failed":
            raise GenerateError(f"{marker.where}: mistake {name} no longer fails {test}")
        text = _report_part(entry["output"], part, marker)
    if marker.option("grep"):
        text = "\n".join(ln for ln in text.split("\n") if re.search(marker.option("grep"), ln))
    text = re.sub(rf"submission {re.escape(str(graded.submission))}\S*\)", "kernel/ gap files)", text)
    return normalize.display(text, ROOT, {graded.submission: "kernel"}, {graded.out: normalize.GRADE_OUT})


def _report_part(output: str, part: str, marker: Marker) -> str:
    lines = output.split("\n")
    if part == "summary":
        return lines[0]
    if part == "report":
        return output
    if part == "detail":
        footer = next((i for i, ln in enumerate(lines) if ln.startswith(("serial log:", "run it again:"))),
                      len(lines))
        return "\n".join(lines[1:footer]).strip("\n")
    raise GenerateError(f"{marker.where}: part must be summary, report, detail or scoreboard")


def grade_mistake(name: str, markers: list[Marker], work: Path) -> Graded:
    from grader.tests.submissions import grade, make_submission

    spec = mistakes().get(name)
    if spec is None:
        raise GenerateError(f"{markers[0].where}: no mistake {name} in {MISTAKES_FILE.name} or {EXAMPLES_FILE.name}")
    folder = work / f"grade-{name}"
    submission = make_submission(name, spec, folder / "submission")
    graded = grade(submission, folder, spec["lab"], tests_to_grade(markers), extra=grade_arguments(markers))
    return Graded(graded.tests, graded.stdout, folder / "grade", submission)


def deterministic(marker: Marker) -> bool:
    return marker.option("deterministic") == "1"


def deterministic_var(marker: Marker) -> list[str]:
    return ["DETERMINISTIC=1"] if deterministic(marker) else []
