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

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader import build, replay
from grader.build import ROOT

from . import normalize
from .markdown import Marker

SEED = 4242  # the run every transcript shows (make grade SEED=4242)
MISTAKES_FILE = ROOT / "grader" / "tests" / "mistakes.toml"
EXAMPLES_FILE = Path(__file__).with_name("examples.toml")
DRIVER = Path(__file__).with_name("gdb_driver.py")
SEPARATOR = "\x1etranscript-command"
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
    """The kernels transcripts run, built once each, in `work`."""

    work: Path
    _built: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # source -> (gap dir, out dir)

    def gap_dir(self, source: str) -> Path:
        return self._build(source)[0]

    def kernel(self, source: str) -> Path:
        return self._build(source)[1] / "kernel.elf"

    def out(self, source: str) -> Path:
        return self._build(source)[1]

    def _build(self, source: str) -> tuple[Path, Path]:
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


# ---- processes -------------------------------------------------------------

def show_port(text: str, port: int) -> str:
    """The text with the port a run used shown as a student's port."""
    return re.sub(rf"(port |tcp::|localhost:){port}\b", rf"\g<1>{normalize.PORT}", text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """A process whose output is read as it comes (a thread collects it),
    killed with its whole process group when done."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env or shell_env())
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self._chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace").replace("\r", "")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = SESSION_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.text, re.M)) < count:
            if self.proc.poll() is not None:
                self._reader.join(5)
                if len(re.findall(pattern, self.text, re.M)) >= count:
                    return
                raise GenerateError(f"{pattern!r} never came; the output was:\n{self.text[-2000:]}")
            if time.monotonic() > deadline:
                raise GenerateError(f"{pattern!r} did not come in {timeout:.0f} s:\n{self.text[-2000:]}")
            time.sleep(0.02)

    def wait_quiet(self, seconds: float = 1.0) -> None:
        """Waits until nothing has come for `seconds` (or the process ended)."""
        seen = -1
        while len(self._chunks) != seen and self.proc.poll() is None:
            seen = len(self._chunks)
            time.sleep(seconds)

    def type(self, line: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = SESSION_TIMEOUT) -> str:
        """Waits for the process to end by itself; kills it after `timeout`."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise GenerateError(f"still running after {timeout:.0f} s:\n{self.text[-2000:]}")
        self._reader.join(5)
        return self.text

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._reader.join(5)


def make_vars(kit: Kit, source: str) -> list[str]:
    return [f"GAP_DIR={kit.gap_dir(source)}", f"OUT={kit.out(source)}"]


def prebuild(kit: Kit, source: str) -> None:
    """What `make` builds before a student runs anything (the disassembly
    too), so that the transcript shows no compiler lines."""
    subprocess.run(["make", "-s", "kernel", *make_vars(kit, source)], cwd=ROOT, check=True, capture_output=True,
                   env=shell_env())


def make_dry_run(args: list[str]) -> list[str]:
    """The commands `make -n ARGS` would run, one a line, continuations joined."""
    out = subprocess.run(["make", "-s", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=shell_env())
    return out.stdout.replace("\\\n", " ").splitlines()


# ---- gdb ---------------------------------------------------------------------

_LINE_REF = re.compile(r"\{\{([^:}]+):([^}]+)\}\}")


def expand(command: str) -> str:
    """`{{path:text}}` -> path:N, N the only line of that file holding text."""

    def line_of(m: re.Match) -> str:
        path, text = m[1].strip(), m[2].strip()
        try:
            lines = (ROOT / path).read_text().splitlines()
        except OSError as e:
            raise GenerateError(f"{command!r}: {e}") from e
        found = [i for i, line in enumerate(lines, 1) if text in line]
        if len(found) != 1:
            raise GenerateError(f"{command!r}: {path} has {len(found)} lines holding {text!r}, not one")
        return f"{path}:{found[0]}"

    return _LINE_REF.sub(line_of, command)


@dataclass(frozen=True)
class Session:
    header: str  # what GDB printed before the first prompt
    commands: tuple[str, ...]  # each command's prompt line and output


def qemu_for_gdb(kit: Kit, marker: Marker, port: int) -> list[str]:
    """The QEMU that `make qemu-gdb [TEST=... SEED=...]` starts."""
    source = marker.option("kernel", "reference")
    if marker.option("test"):
        request = replay.captured_request(kit.kernel(source), marker.option("test"),
                                          int(marker.option("seed", str(SEED))))
        if deterministic(marker):  # as replay --deterministic
            request = replace(request, icount=True)
        return replay.gdb_argv(request, port)
    line = next((ln for ln in make_dry_run(["qemu-gdb", f"GDBPORT={port}", *make_vars(kit, source),
                                            *deterministic_var(marker)])
                 if ln.lstrip("-").startswith("qemu-system")), None)
    if line is None:
        raise GenerateError(f"{marker.where}: make qemu-gdb runs no QEMU")
    return shlex.split(line.lstrip("-"))


def deterministic(marker: Marker) -> bool:
    return marker.option("deterministic") == "1"


def deterministic_var(marker: Marker) -> list[str]:
    return ["DETERMINISTIC=1"] if deterministic(marker) else []


def run_gdb(kit: Kit, marker: Marker, work: Path) -> Session:
    """Runs the session that `marker` defines."""
    commands = [expand(c) for c in marker.body]
    kernel = kit.kernel(marker.option("kernel", "reference"))
    script = work / f"gdb-{marker.doc.stem}-{marker.line}.json"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(json.dumps(commands))
    port = free_port()
    qemu = Console(qemu_for_gdb(kit, marker, port))
    try:
        if marker.option("type"):
            threading.Thread(target=_type_at_prompt, args=(qemu, marker.option("type")), daemon=True).start()
        gdb = Console(["gdb", "-q", "-n", "-x", ".gdbinit", "-x", str(DRIVER), str(kernel)],
                      env=shell_env(KESTREL_GDBPORT=str(port), TRANSCRIPT_COMMANDS=str(script)))
        try:
            out = gdb.finish()
        finally:
            gdb.kill()
    finally:
        qemu.kill()
    if f"{SEPARATOR} end" not in out:
        raise GenerateError(f"{marker.where}: the GDB session did not run to its end:\n{out[-3000:]}")
    out = show_port(kit.display(out.split(f"{SEPARATOR} end", 1)[0]), port)
    header, *parts = re.split(rf"^{SEPARATOR} \d+\n", out, flags=re.M)
    return Session(header.rstrip("\n"), tuple(p.rstrip("\n") for p in parts))


def _type_at_prompt(console: Console, line: str) -> None:
    try:
        console.wait_for(r"^\$ ")
        console.type(line)
    except GenerateError:
        pass  # the session itself then fails to reach its stop, and says so


def render_gdb(marker: Marker, session: Session) -> str:
    show = marker.option("show", "all")
    if show == "header":
        echo = next(ln for ln in make_dry_run(["gdb", f"GDBPORT={normalize.PORT}"]) if "gdb" in ln)
        return "\n".join(["$ make gdb", echo, session.header])
    if show == "all":
        return "\n".join(session.commands)
    m = re.fullmatch(r"(\d+)-(\d+)", show)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= len(session.commands):
        raise GenerateError(f"{marker.where}: show={show}: the session has {len(session.commands)} commands")
    return "\n".join(session.commands[int(m[1]) - 1:int(m[2])])


# ---- qemu-gdb and boot ----------------------------------------------------------

def run_qemu_gdb(kit: Kit, marker: Marker) -> str:
    """What `make qemu-gdb TEST=T SEED=N` prints until QEMU waits for GDB."""
    source = marker.option("kernel", "reference")
    test, seed = marker.option("test"), marker.option("seed", str(SEED))
    prebuild(kit, source)
    args = [f"TEST={test}", f"SEED={seed}"] if test else []
    port = free_port()  # shown as a student's port
    console = Console(["make", "qemu-gdb", *args, f"GDBPORT={port}", *make_vars(kit, source)])
    try:
        console.wait_for(r"QEMU is paused.*\n")
        console.wait_quiet()
    finally:
        console.kill()
    text = show_port(console.text.rstrip("\n"), port)
    return kit.display("\n".join([f"$ make qemu-gdb {' '.join(args)}".rstrip(), text]))


def run_boot(kit: Kit, marker: Marker) -> str:
    """`make qemu-nox` as a student runs it, the body typed at the prompts."""
    source = marker.option("kernel", "reference")
    mem = [f"MEM={marker.option('mem')}"] if marker.option("mem") else []
    prebuild(kit, source)
    console = Console(["make", "qemu-nox", *mem, *make_vars(kit, source)])
    try:
        for count, line in enumerate(marker.body, 1):
            console.wait_for(r"^\$ ", count)
            console.type(line)
        text = console.finish()
    finally:
        console.kill()
    lines = kit.display(text).rstrip("\n").split("\n")
    shown = [f"$ make qemu-nox {' '.join(mem)}".rstrip()]
    if marker.option("from"):
        start = next((i for i, ln in enumerate(lines) if re.search(marker.option("from"), ln)), None)
        if start is None:
            raise GenerateError(f"{marker.where}: no line matches from={marker.option('from')!r}:\n{text}")
        shown += ["..."] if start else []
        lines = lines[start:]
    return "\n".join(shown + cut(lines, marker.option("cut")))


def cut(lines: list[str], pattern: str) -> list[str]:
    """The lines without those matching `pattern`: in each part of the
    session (from one shell prompt to the next), one "..." right after its
    first line stands for all it lost, wherever they were (concurrent
    processes print them in any order)."""
    if not pattern:
        return lines
    parts: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("$ ") and parts[-1]:
            parts.append([])
        parts[-1].append(line)
    out = []
    for part in parts:
        kept = [ln for ln in part if not re.search(pattern, ln)]
        out += kept[:1] + (["..."] if len(kept) < len(part) else []) + kept[1:]
    return out
    return "\n".join(shown)
