"""The compiler's diagnostics, as a student sees them, showing the bytes of
no file but the gap file.

The compiler writes its diagnostics as JSON (-fdiagnostics-format=json):
locations and messages, never source lines. The source line under a
diagnostic is quoted here, from the gap file's own text, and only for a
diagnostic located in the gap file; a diagnostic located in an allowed kit
header shows that header's name, line and message; one located anywhere
else (a `#line` directive can rename the gap file) shows the name only.
Messages can quote only what the compiler read, and grader/compile.py
refuses a build that read anything but the gap file and the kit headers
before any diagnostic is shown.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SHOWN_ERRORS = 3  # errors shown in full; the count of the rest follows


@dataclass(frozen=True)
class Diagnostic:
    kind: str  # "error", "fatal error", "warning", "note"
    file: str  # as the compiler named it
    line: int
    column: int
    message: str
    option: str  # the warning's option, e.g. "-Wunused-variable"
    children: tuple[Diagnostic, ...]


def parse(stderr: str) -> list[Diagnostic] | None:
    """The diagnostics in the compiler's error output; None when it holds
    no JSON (the compiler was stopped before writing it)."""
    for line in stderr.splitlines():
        if line.startswith("["):
            try:
                return [_diagnostic(d) for d in json.loads(line)]
            except (ValueError, KeyError, TypeError):
                return None
    return None


def _diagnostic(d: dict) -> Diagnostic:
    caret = d["locations"][0]["caret"] if d.get("locations") else {"file": "", "line": 0, "column": 0}
    return Diagnostic(str(d["kind"]), str(caret["file"]), int(caret["line"]), int(caret["column"]),
                      str(d["message"]), str(d.get("option", "")),
                      tuple(_diagnostic(c) for c in d.get("children", ())))


@dataclass(frozen=True)
class Source:
    """The gap file being compiled, and the files whose diagnostics may
    show their message."""
    path: Path  # the private copy the compiler read
    shown_as: str  # its name for the student, e.g. "kernel/paging.c"
    text: str
    cwd: Path  # the compiler's working folder (relative names start there)
    headers: frozenset[str]  # real paths of the allowed headers

    def where(self, d: Diagnostic) -> tuple[str, bool, bool]:
        """(the location's name, is the gap file, is an allowed header)."""
        real = os.path.realpath(os.path.join(self.cwd, d.file)) if d.file else ""
        if real == os.path.realpath(self.path):
            return self.shown_as, True, False
        if real in self.headers:
            return os.path.relpath(real, self.cwd), False, True
        return d.file, False, False

    def line(self, number: int) -> str | None:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else None


def render(d: Diagnostic, src: Source) -> list[str]:
    """A diagnostic and its notes, as lines of text."""
    name, in_gap, in_header = src.where(d)
    if not (in_gap or in_header):
        out = [f"{name}: {d.kind} in a file other than the gap file (not shown)"]
    else:
        option = f" [{d.option}]" if d.option else ""
        out = [f"{name}:{d.line}:{d.column}: {d.kind}: {d.message}{option}"]
        quoted = src.line(d.line) if in_gap else None
        if quoted is not None:
            out += [f"{d.line:5} | {quoted}", f"{'':5} | {' ' * max(0, d.column - 1)}^"]
    for child in d.children:
        out += render(child, src)
    return out


def walk(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
    """Every diagnostic and note, depth first (gcc sometimes files an error
    as the child of a warning)."""
    for d in diagnostics:
        yield d
        yield from walk(d.children)


def errors(diagnostics: list[Diagnostic], src: Source) -> str:
    """The first errors, for a build that failed."""
    found = [d for d in walk(diagnostics) if d.kind in ("error", "fatal error")]
    lines = [line for d in found[:SHOWN_ERRORS] for line in render(d, src)]
    if len(found) > SHOWN_ERRORS:
        lines.append(f"... and {len(found) - SHOWN_ERRORS} more errors")
    return "\n".join(lines)


def warnings(diagnostics: list[Diagnostic], src: Source) -> list[str]:
    """One line per warning (never fatal: the student should still see them)."""
    return [render(d, src)[0] for d in walk(diagnostics) if d.kind == "warning"]
