"""Compiling a submission's gap files into objects, deciding what they may
do from what the tools really did:

1. The compiler writes assembly (-S) and the list of every file it opened
   (-MD). Resolved to real paths, that list must hold only the gap file and
   the kit headers gap files may include; a line splice, a macro, _Pragma
   or #include_next changes nothing to that. (__has_include and
   `#pragma GCC dependency`, which open a file without listing it, are
   poisoned by kernel/gap_prelude.h.)
2. The assembly is screened (grader/screen.py) before the assembler reads
   it: no directive that reads a file or builds other directives.
3. Compiler and assembler run confined (grader/confine.py) and, where
   bubblewrap works, sandboxed (grader/sandbox.py).
Diagnostics reach the student through grader/diagnostics.py, which quotes
no file but the gap file.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import confine, diagnostics, screen
from .sandbox import Sandbox, probe

# A fatal error on a header it could not open: "NAME: No such file or directory".
_CANNOT_OPEN = re.compile(r"^(.+): ([A-Z][a-z]+(?: [a-z]+)*)$")


class BuildError(Exception):
    """The submission did not build; the message says why, for a student."""


@dataclass(frozen=True)
class Toolchain:
    """The kit's compiler and flags for gap files, as the Makefile says."""
    cc: str
    cflags: tuple[str, ...]
    arch: tuple[str, ...]

    @classmethod
    def from_make(cls, root: Path) -> Toolchain:
        result = subprocess.run(["make", "-s", "--no-print-directory", "print-gap-build"], cwd=root,
                                capture_output=True, text=True, timeout=60)
        lines = result.stdout.splitlines()
        if result.returncode != 0 or len(lines) != 3:
            raise RuntimeError(f"make print-gap-build failed:\n{result.stdout}{result.stderr}")
        return cls(lines[0], tuple(lines[1].split()), tuple(lines[2].split()))


@dataclass(frozen=True)
class Compiled:
    obj: Path
    shown_as: str  # the gap file's name for the student, and in the object's debug information
    warnings: tuple[str, ...]


def read_deps(path: Path) -> list[str]:
    """The prerequisites in a make-style dependency file written with
    `-MT gap` (escaped spaces, '#' and '$' undone)."""
    text = path.read_text(errors="surrogateescape").replace("\\\n", " ")
    target, _, rest = text.partition(":")
    if target.strip() != "gap":
        raise ValueError(f"unexpected dependency file {path}")
    words = re.findall(r"(?:\\.|[^\s\\])+", rest)
    return [re.sub(r"\\(.)", r"\1", w).replace("$$", "$") for w in words]


def _env(folder: Path) -> dict[str, str]:
    """The tools' whole environment."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TMPDIR": str(folder)}


def _working(box: Sandbox, tc: Toolchain, folder: Path, limits: confine.Limits) -> Sandbox:
    """`box` if the toolchain compiles in it (a C file to an object: cc1
    and the assembler), else no sandbox and why."""
    if not box.bwrap:
        return box
    src, obj = folder / "sandbox-probe.c", folder / "sandbox-probe.o"
    src.write_text("int sandbox_probe;\n")
    argv = box.wrap([tc.cc, *tc.arch, "-nostdinc", "-c", "-o", str(obj), str(src)], [], folder, folder)
    done = confine.run(argv, folder, _env(folder), limits, folder / "sandbox-probe")
    works = done.returncode == 0 and obj.exists()
    why = (done.error_text(4096).strip().splitlines() or [f"exit status {done.returncode}"])[0]
    for f in (src, obj, done.stdout, done.stderr):
        f.unlink(missing_ok=True)
    return box if works else Sandbox(None, f"bwrap cannot run the compiler here: {why}")


@dataclass(frozen=True)
class _Gap:
    """The files of one gap file's build in the private folder."""
    name: str
    folder: Path
    shown_folder: str = "kernel"  # where the student (or GDB) finds the file

    @property
    def src(self) -> Path:
        return self.folder / self.name

    @property
    def stem(self) -> Path:
        return self.folder / Path(self.name).stem

    @property
    def asm(self) -> Path:
        return self.stem.with_suffix(".s")

    @property
    def deps(self) -> Path:
        return self.stem.with_suffix(".d")

    @property
    def obj(self) -> Path:
        return self.stem.with_suffix(".o")

    @property
    def shown_as(self) -> str:
        return f"{self.shown_folder}/{self.name}"


@dataclass(frozen=True)
class GapCompiler:
    """How gap files are compiled here: toolchain, sandbox, limits and the
    real paths of the headers a gap file may read."""
    root: Path
    toolchain: Toolchain
    sandbox: Sandbox
    headers: frozenset[str]
    allowed_names: tuple[str, ...]  # the headers a gap file may name, for messages
    limits: confine.Limits = field(default_factory=confine.Limits)

    @classmethod
    def here(cls, root: Path, allowed_names: tuple[str, ...], folder: Path,
             limits: confine.Limits | None = None) -> GapCompiler:
        """Probes the toolchain, the sandbox and the allowed headers (the
        documented ones and whatever they include), working in `folder`."""
        tc = Toolchain.from_make(root)
        folder.mkdir(parents=True, exist_ok=True)
        probe_c = folder / "allowed-headers.c"
        probe_c.write_text("".join(f'#include "{h}"\n' for h in allowed_names))
        deps = folder / "allowed-headers.d"
        result = subprocess.run([tc.cc, *tc.cflags, "-M", "-MF", str(deps), "-MT", "gap", str(probe_c)], cwd=root,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"the kit's headers do not preprocess:\n{result.stderr}")
        headers = {os.path.realpath(root / p) for p in read_deps(deps)} - {os.path.realpath(probe_c)}
        probe_c.unlink()
        deps.unlink()
        limits = limits or confine.Limits()
        return cls(root, tc, _working(probe(tc.cc), tc, folder, limits), frozenset(headers), allowed_names, limits)

    def _start(self, argv: list[str], folder: Path, log: Path, readable: list[str], cwd: Path) -> confine.Running:
        """Starts a tool confined, sandboxed if possible, seeing `folder` and
        the `readable` files."""
        wrapped = self.sandbox.wrap(argv, [Path(p) for p in readable], folder, cwd)
        return confine.start(wrapped, cwd, _env(folder), self.limits, log)

    def compile(self, sources: dict[str, Path], folder: Path, shown_folder: str = "kernel") -> dict[str, Compiled]:
        """Compiles gap files (name -> file) side by side in the private
        `folder` into folder/NAME.o, named shown_folder/NAME in messages and
        debug information; raises BuildError with the student's message,
        for the first file in `sources` order that may not be built."""
        folder.mkdir(parents=True, exist_ok=True)
        gaps = [_Gap(name, folder, shown_folder) for name in sources]
        for gap in gaps:
            if sources[gap.name].resolve() != gap.src.resolve():
                shutil.copyfile(sources[gap.name], gap.src)
            for stale in (gap.asm, gap.deps, gap.obj):
                stale.unlink(missing_ok=True)
        # The private folder is named as the student knows it in the
        # object (debug information, __FILE__), so that two builds of the
        # same files give the same kernel.
        flags = [*self.toolchain.cflags, f"-ffile-prefix-map={folder}={shown_folder}", "-fdiagnostics-format=json", "-S",
                 "-MD", "-MT", "gap"]
        running = [self._start([self.toolchain.cc, *flags, "-MF", str(g.deps), "-o", str(g.asm), str(g.src)],
                               folder, g.stem.with_suffix(".cc"), sorted(self.headers), self.root) for g in gaps]
        finished = [r.finish() for r in running]  # all of them, before any error is raised
        warnings = {g.name: self._judge(g, done) for g, done in zip(gaps, finished)}
        running = [self._start([self.toolchain.cc, *self.toolchain.arch, "-c", "-o", str(g.obj), str(g.asm)],
                               folder, g.stem.with_suffix(".as"), [], folder) for g in gaps]
        finished = [r.finish() for r in running]
        for g, done in zip(gaps, finished):
            if done.timed_out or done.returncode != 0:
                # The assembly is the screened output of the gap file and the kit headers.
                messages = [line.replace(str(g.asm), f"{g.shown_as} (its assembly)") for line in
                            done.error_text(4096).splitlines() if "Assembler messages" not in line]
                raise BuildError("the assembler refused the inline assembly:\n" + "\n".join(messages[:5]))
        return {g.name: Compiled(g.obj, g.shown_as, warnings[g.name]) for g in gaps}

    def _judge(self, gap: _Gap, done: confine.Finished) -> tuple[str, ...]:
        """The warnings of a finished compile whose result may be used;
        raises BuildError if it may not."""
        if done.timed_out:
            raise BuildError(f"compiling {gap.shown_as} took more than {self.limits.wall_seconds:.0f} s: stopped, "
                             f"with every process it started (an #include of a pipe or a device does that)")
        read = read_deps(gap.deps) if gap.deps.exists() else None
        stderr = done.error_text()
        found = diagnostics.parse(stderr) or []
        source = diagnostics.Source(gap.src, gap.shown_as, gap.src.read_text(errors="replace"), self.root,
                                    self.headers)
        refusal = self._refusal(gap.shown_as, done, stderr, found, read, source)
        if refusal:
            raise BuildError(refusal)
        try:
            screen.check_assembly(gap.asm.read_text(errors="surrogateescape"), gap.name, gap.shown_as)
        except screen.Refused as e:
            raise BuildError(str(e)) from None
        return tuple(diagnostics.warnings(found, source))

    def _not_allowed(self, shown_as: str) -> str:
        """The same words whether the file exists or not (nor which it was:
        the spelling of its path would tell)."""
        return (f"{shown_as} includes a file that is not allowed: gap files may include only "
                f"{', '.join(sorted(self.allowed_names))}")

    def _refusal(self, shown_as: str, done: confine.Finished, stderr: str, found: list[diagnostics.Diagnostic],
                 read: list[str] | None, source_info: diagnostics.Source) -> str | None:
        """Why the compile's result may not be used, or None. Told the same
        way whether or not a file the gap file tried to open exists on this
        machine: a poisoned name first (kernel/gap_prelude.h), then a file
        read that is not allowed or a header that could not be opened.
        Without the list of files read (a fatal error stops the compiler
        before it writes it), only the fatal error is shown: an earlier
        diagnostic could quote a file read."""
        errors = [d for d in diagnostics.walk(found) if d.kind in ("error", "fatal error")]
        poisoned = [d for d in errors if d.message.startswith("attempt to use poisoned")]
        fatal = [d for d in errors if d.kind == "fatal error"]
        allowed = self.headers | {os.path.realpath(source_info.path)}
        if poisoned:
            return "does not compile:\n" + "\n".join(diagnostics.render(poisoned[0], source_info)[:3])
        if any(_CANNOT_OPEN.match(d.message) for d in fatal) or \
                any(os.path.realpath(self.root / path) not in allowed for path in read or []):
            return self._not_allowed(shown_as)
        if fatal and read is None:
            return "does not compile:\n" + "\n".join(diagnostics.render(fatal[0], source_info)[:3])
        if errors and read is not None:
            return "does not compile:\n" + diagnostics.errors(errors, source_info)
        if done.returncode != 0 or read is None:
            return self._stopped(shown_as, done, stderr)
        return None

    def _stopped(self, shown_as: str, done: confine.Finished, stderr: str) -> str:
        """Why the compiler ended without a usable result, in the grader's
        words (never the compiler's output: it could quote any file)."""
        if "out of memory" in stderr or "memory exhausted" in stderr or "Cannot allocate memory" in stderr:
            why = f"ran out of memory (limit {self.limits.memory_mb} MiB)"
        elif done.returncode == -signal.SIGXCPU or "CPU time limit" in stderr:
            why = f"used more than {self.limits.cpu_seconds} s of CPU time"
        elif done.returncode == -signal.SIGXFSZ or "File size limit" in stderr:
            why = f"wrote more than {self.limits.file_mb} MiB"
        else:
            return f"compiling {shown_as}: the compiler ended without a diagnostic (exit status {done.returncode})"
        return f"compiling {shown_as}: the compiler {why} and was stopped, with every process it started"
