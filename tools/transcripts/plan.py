"""From the markers of the handouts to the runs that make their blocks: one
run per known mistake (all its blocks share one grading), per GDB session
(its blocks share one boot), per `make qemu-gdb` and per `make qemu-nox`."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from grader.build import ROOT

from . import kinds, normalize, sessions
from .markdown import Marker, MarkerError, markers

# Every Markdown file that may hold transcripts.
DOCS = (*sorted((ROOT / "handouts").glob("*.md")), ROOT / "README.md", ROOT / "tools" / "release" / "README.md")
OPTIONS = {
    "mistake": {"test", "part", "grep", "deterministic"},
    "gdb": {"session", "kernel", "test", "seed", "deterministic", "type", "show"},
    "qemu-gdb": {"kernel", "test", "seed"},
    "boot": {"kernel", "mem", "from", "cut"},
}
ARGS = {"mistake": 1, "gdb": 0, "qemu-gdb": 0, "boot": 0}


@dataclass(frozen=True)
class Job:
    key: str  # what --only matches: "mistake NAME", "gdb FILE SESSION", "boot kernel=upto:2 ...", ...
    kind: str
    markers: tuple[Marker, ...]

    @property
    def leader(self) -> Marker:
        """The marker that defines the run (a session's commands)."""
        return next((m for m in self.markers if m.body), self.markers[0])


def all_markers(docs: tuple[Path, ...] = DOCS) -> list[Marker]:
    found = [m for doc in docs if doc.exists() for m in markers(doc)]
    for m in found:
        if m.kind not in OPTIONS:
            raise MarkerError(f"{m.where}: unknown transcript kind {m.kind!r} (known: {', '.join(OPTIONS)})")
        unknown = set(m.options) - OPTIONS[m.kind]
        if unknown:
            raise MarkerError(f"{m.where}: {m.kind} takes no option {', '.join(sorted(unknown))}")
        if len(m.args) != ARGS[m.kind]:
            raise MarkerError(f"{m.where}: {m.kind} takes {ARGS[m.kind]} word(s) before its options")
    return found


def jobs(found: list[Marker]) -> list[Job]:
    groups: dict[tuple[str, str], list[Marker]] = {}
    for m in found:
        if m.kind == "mistake":
            key = f"mistake {m.args[0]}"
        elif m.kind == "gdb":
            key = f"gdb {m.doc.name} {m.option('session') or m.line}"
        else:  # the same boot quoted twice is run once
            key = " ".join([m.kind, *sorted(f"{k}={v}" for k, v in m.options.items()), *m.body])
        groups.setdefault((key, m.kind), []).append(m)
    out = [Job(key, kind, tuple(ms)) for (key, kind), ms in groups.items()]
    for job in out:
        if job.kind == "gdb" and sum(bool(m.body) for m in job.markers) != 1:
            raise MarkerError(f"{job.markers[0].where}: GDB session {job.key} needs its commands in exactly one "
                              "of its markers")
    return out


def run(job: Job, kit: kinds.Kit) -> dict[Marker, str]:
    """The block each marker of the job should hold now."""
    if job.kind == "mistake":
        graded = kinds.grade_mistake(job.markers[0].args[0], list(job.markers), kit.work)
        return {m: kinds.render_mistake(m, graded) for m in job.markers}
    if job.kind == "gdb":
        session = sessions.run_gdb(kit, job.leader, kit.work)
        return {m: sessions.render_gdb(m, session) for m in job.markers}
    text = (sessions.run_qemu_gdb if job.kind == "qemu-gdb" else sessions.run_boot)(kit, job.leader)
    return {m: text for m in job.markers}


def drift(generated: dict[Marker, str]) -> list[str]:
    """What differs between the blocks and what the kit says now, as diffs
    of their comparable forms (empty when every block is true)."""
    out = []
    for marker, text in generated.items():
        old, new = normalize.comparable(marker.text), normalize.comparable(text)
        if old != new:
            diff = difflib.unified_diff(old.split("\n"), new.split("\n"), "handout", "kit now", lineterm="", n=1)
            out.append(f"{marker.where} ({marker.kind} {' '.join(marker.args)}):\n" + "\n".join(list(diff)[2:]))
    return out
