"""Structured evidence of a failed test, for reports that draw it.

A TestResult (grader/results.py) may carry, besides its text report, the
parts a page shows as a picture or a table. Each is plain JSON (records are
files), with these shapes:

TraceDiff: why a serial log does not satisfy an expected trace.
    trace     the trace file's name
    kind      TraceFailure.kind: "missing", "order", "binding", "forbidden", "too-ambiguous"
    message   what is wrong, in one sentence
    lines     every expected line, stream by stream, in file order:
              {"stream", "source_line" (line in the .trace file), "text" (with the values bound
              so far), "state", "at" (1-based log line it matched, or null), "seen" (that log line)}
              state: "found", "missing" (the line the match stopped at), "not reached" (after it)
    forbidden the forbidden line that appeared, rendered, or ""
    after     the missing line had to come after this 1-based log line (or null)
    nearest   [[log line, text], ...]: the log lines most like the missing line, best first
    excerpt   [[log line, text], ...]: the log around `after` and the nearest lines

Triage: a crash (CrashTriage.to_dict in grader/triage.py).
    exception, eip, where ("function at file:line"), cr2, cause (decoded error code),
    source (where the fault was read), hint, backtrace (list), last_lines (list)

MemoryMap: one picture of memory (a list of them: physical memory, and one address space beside
it). It follows the MemMap of grader/memmap.py (the memory-map work): a key per cell, and a
legend that names the keys.
    title       what it shows, e.g. "physical memory (64 MiB)"
    cells       one key per cell, in address order: a string of one-character keys ("KKTTaab..."),
                or a list of keys
    legend      [{"key", "name", "count"}, ...] in the legend's order: what each key stands for
                ("K": "kernel", "a": "pid 1 init", ".": "free") and how many frames (pages) it has
    colors      {key: "#rrggbb"}, optional (default: a palette, in the legend's order)
    marked      indexes of the cells that are wrong (drawn crossed out), optional
    notes       {index (as a string): why that cell is marked}, optional
    cell_bytes  bytes a cell covers, optional: rows are labelled with their first address
    columns     cells per row, optional (default 64)
"""
from __future__ import annotations

from pathlib import PurePath
from typing import Iterable, Sequence

from . import memmap
from .memmap import MemMap
from .trace import MatchResult, Trace, fill

CONTEXT = 2  # log lines shown around each line of interest
MAX_EXCERPT = 60
MAX_TEXT = 200  # characters of one log line kept


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def trace_diff(trace: Trace, match: MatchResult, log: Sequence[str]) -> dict:
    """The TraceDiff of a failed match of `trace` against `log`."""
    failure = match.failure
    assert failure is not None, "trace_diff describes a failed match"
    stuck = failure.expected if failure.kind != "forbidden" else None
    lines = []
    for stream, entries in trace.streams.items():
        for e in entries:
            at = match.positions.get((stream, e.index))
            text = " || ".join(fill(alt, match.bindings) for alt in e.alternatives)
            lines.append({"stream": stream, "source_line": e.source_line, "text": _clip(text),
                          "state": "found" if at is not None else "missing" if e == stuck else "not reached",
                          "at": None if at is None else at + 1, "seen": None if at is None else _clip(log[at])})
    interesting = [n for n, _ in failure.nearest] + ([failure.after_line] if failure.after_line else [])
    return {"trace": PurePath(trace.name).name, "kind": failure.kind, "message": failure.message,
            "lines": lines, "forbidden": failure.rendered if failure.kind == "forbidden" else "",
            "after": failure.after_line, "nearest": [[n, _clip(text)] for n, text in failure.nearest],
            "excerpt": excerpt(log, interesting)}


def excerpt(log: Sequence[str], around: Sequence[int]) -> list[list]:
    """The 1-based log lines `around`, each with CONTEXT lines on both sides
    (the last lines of the log when there is nothing to look around)."""
    if not around:
        start = max(0, len(log) - 2 * CONTEXT - 6)
        return [[n + 1, _clip(log[n])] for n in range(start, len(log))]
    wanted = sorted({n for a in around for n in range(a - CONTEXT, a + CONTEXT + 1) if 1 <= n <= len(log)})
    return [[n, _clip(log[n - 1])] for n in wanted[:MAX_EXCERPT]]


def memory_maps(m: MemMap) -> list[dict]:
    """The MemoryMap pictures of a parsed memory map: physical memory, and
    the address space it viewed (when paging was on), wrong cells marked."""

    def colors(keys: Iterable[str]) -> dict[str, str]:
        return {k: "#%02x%02x%02x" % memmap.RGB[memmap.attribute(k) >> 4] for k in keys}

    def picture(title: str, cells: str, legend: Sequence[memmap.Owner], cell_bytes: int,
                marks: dict[int, str]) -> dict:
        return {"title": title, "cells": cells, "colors": colors(set(cells) | {o.key for o in legend}),
                "legend": [{"key": o.key, "name": o.name, "count": o.count} for o in legend],
                "marked": sorted(marks), "notes": {str(i): why for i, why in marks.items()},
                "cell_bytes": cell_bytes, "columns": memmap.COLS}

    legend = [*m.owners, *(memmap.Owner(s.key, s.label(), s.pages) for s in m.spaces)]
    phys = {m.phys_cell(k.phys): k.text for k in m.marks if k.phys is not None}
    pictures = [picture(f"physical memory ({m.ram_end >> 20} MiB)", m.cells, legend, m.per_cell * 4096, phys)]
    if m.view:
        virt = {memmap.View.cell(k.virt): k.text for k in m.marks if k.virt is not None}
        title = f"address space of {m.view.title or f'directory {m.view.pd_phys:#010x}'}"
        pictures.append(picture(title, m.view.cells, m.view.counts, memmap.VIRT_CELL, virt))
    return pictures
