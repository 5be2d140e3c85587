"""GDB sessions, `make qemu-gdb` and `make qemu-nox`, run as a student
runs them (the kinds gdb, qemu-gdb and boot of kinds.py)."""
from __future__ import annotations

import contextlib
import json
import re
import shlex
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from grader import build, replay
from grader.build import ROOT

from . import normalize
from .console import Console, free_port, make_dry_run, make_vars, prebuild, show_port
from .kinds import SEED, GenerateError, Kit, deterministic, deterministic_var, shell_env
from .markdown import Marker

DRIVER = Path(__file__).with_name("gdb_driver.py")
SEPARATOR = "\x1etranscript-command"


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
    words = shlex.split(line.lstrip("-"))
    return words[:words.index("||")] if "||" in words else words  # the recipe's `|| true` is make's


def source_path(kit: Kit, source: str) -> list[str]:
    """GDB's options to read a kernel's gap files where they are. The
    grader names a private copy kernel/NAME in the debug information (as
    for a student's own files), relative to the kit, and GDB looks a
    relative name up under each folder of its source path first: a folder
    whose kernel/ is the mistake's copy goes there."""
    gaps = kit.gap_dir(source)
    if build.shown_folder(gaps) != "kernel" or gaps.resolve() == (ROOT / "kernel").resolve():
        return []
    view = gaps.parent / "gdb-sources"
    view.mkdir(exist_ok=True)
    with contextlib.suppress(FileExistsError):  # made by an earlier session
        (view / "kernel").symlink_to(gaps.resolve(), target_is_directory=True)
    return ["-iex", f"directory {view}"]


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
        _wait_listening(qemu, port)
        if marker.option("type"):
            threading.Thread(target=_type_at_prompt, args=(qemu, marker.option("type")), daemon=True).start()
        gdb = Console(["gdb", "-q", "-n", *source_path(kit, marker.option("kernel", "reference")), "-x", ".gdbinit",
                       "-x", str(DRIVER), str(kernel)],
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


def _wait_listening(qemu: Console, port: int, bound: float = 30.0) -> None:
    """Returns once QEMU's gdbstub listens on `port`, so that GDB started
    next finds it on a loaded machine too. Read from /proc/net/tcp: a probe
    connection would take the gdbstub's one client."""
    local = f":{port:04X}"
    end = time.monotonic() + bound
    while time.monotonic() < end and qemu.proc.poll() is None:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for row in Path(table).read_text().splitlines()[1:]:
                    fields = row.split()
                    if fields[1].endswith(local) and fields[3] == "0A":  # 0A: LISTEN
                        return
        time.sleep(0.01)
    raise GenerateError(f"QEMU did not listen for GDB on port {port}:\n{qemu.text()[-2000:]}")


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
