"""The student's page: one HTML file with the scoreboard and, for every
failed test, why it failed: its message, the trace diff, the crash triage,
the memory maps, and the text report with the commands that replay it.

It reads result records only (grader/results.py; the evidence shapes are
in grader/evidence.py). test_details() is also what Gradescope shows for a
failed test, so it reads well even where styles are stripped.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import page, svg
from .page import esc
from .results import TestResult

if TYPE_CHECKING:
    from .report import Run

STATE_MARKS = {"found": "\u2713", "missing": "\u2717", "not reached": "\u2026"}


def anchor(lab: int, name: str) -> str:
    """The id of a test's section (the dashboard links to it too)."""
    return esc(f"lab{lab}-{name}")


def write(run: Run, path: Path) -> Path:
    return page.write(path, student_page(run))


def student_page(run: Run) -> str:
    passed = len(run.results) - len(run.failed)
    head = (f'<h1>Kestrel grade report</h1>\n<p class="muted">{esc(run.kernel)} &middot; seed {run.seed} &middot; '
            f'{run.seconds:.1f} s</p>\n<p><span class="big" id="total">{run.score:g} / {run.max_score:g}</span> '
            f'&nbsp; {passed} of {len(run.results)} tests passed</p>')
    notes = "".join(f'<p class="note">{esc(n)}</p>\n' for n in run.notes)
    labs = sorted({r.lab for r in run.results})
    per_lab = svg.bars([(f"lab {n}", sum(r.score for r in run.results if r.lab == n),
                         sum(r.max_score for r in run.results if r.lab == n)) for n in labs], unit=" points")
    details = "\n".join(f'<section class="test" id="{anchor(r.lab, r.name)}">{test_details(r)}</section>'
                        for r in run.failed)
    flagged = "\n".join(f'<p id="review-{anchor(r.lab, r.name)}">lab {r.lab} {esc(r.name)}:</p>{review(r)}'
                         for r in run.results if r.flags)
    body = (f"{head}\n{notes}{per_lab if labs else ''}\n<h2>Scoreboard</h2>\n{scoreboard(run)}\n"
            + (f"<h2>Why tests failed</h2>\n{details}\n" if details else "")
            + (f'<h2>Flagged for review</h2>\n<p class="muted">What no correct solution does, for the '
               f'instructor to look at; points are unchanged.</p>\n{flagged}\n' if flagged else ""))
    return page.document(f"Kestrel grade: {run.score:g}/{run.max_score:g}", body)


def scoreboard(run: Run) -> str:
    rows = []
    for r in run.results:
        name = esc(r.name) if r.passed else f'<a href="#{anchor(r.lab, r.name)}">{esc(r.name)}</a>'
        rows.append([str(r.lab), name, status_badge(r), f"{r.seconds:.2f} s", f"{r.score:g}/{r.max_score:g}",
                     "" if r.passed else esc(r.summary)])
    total = [["", "<b>total</b>", "", f"{run.seconds:.1f} s", f"<b>{run.score:g}/{run.max_score:g}</b>", ""]]
    return page.table(["lab", "test", "result", "time", "points", "why"], rows + total, numeric=(3, 4),
                      attrs=' id="scoreboard"')


def status_badge(r: TestResult) -> str:
    word = "OK" if r.passed else "FAIL" if r.status == "failed" else "not run"
    return f'<span class="badge {r.status.replace(" ", "-")}">{word}</span>'


def test_details(r: TestResult) -> str:
    """One failed test: what a student needs to see why."""
    parts = [f"<h3>lab {r.lab} &middot; {esc(r.name)} {status_badge(r)} "
             f'<span class="muted">{r.score:g}/{r.max_score:g} points</span></h3>',
             f'<p class="muted">{esc(r.title)}</p>', f'<p class="summary fail">{esc(r.summary)}</p>']
    if r.trace:
        parts.append(trace_diff(r.trace))
    if r.triage:
        parts.append(triage(r.triage))
    if r.memory_maps:
        parts.append('<h4>Memory</h4>\n<div class="side">'
                     + "".join(f"<div>{svg.memory_map(m)}{map_notes(m)}</div>" for m in r.memory_maps) + "</div>")
    if r.flags:
        parts.append(f"<h4>Flagged for review</h4>\n{review(r)}")
    if r.output:
        parts.append(f"<h4>The full report</h4>\n<pre>{esc(r.output)}</pre>")
    return "\n".join(parts)


def review(r: TestResult) -> str:
    """A test's review flags (never points), one item each."""
    return '<ul class="review">' + "".join(f"<li>{esc(flag)}</li>" for flag in r.flags) + "</ul>"


def map_notes(m: dict) -> str:
    """Why the marked cells of a memory map are marked, in words."""
    notes = [f"<li>{esc(svg.cell_place(m, int(i)))}: {esc(note)}</li>"
             for i, note in sorted(m.get("notes", {}).items(), key=lambda item: int(item[0]))]
    return f"<ul>{''.join(notes)}</ul>" if notes else ""


def trace_diff(d: dict) -> str:
    """Expected lines against the log: what matched where, the first line
    that did not (marked), and the log lines most like it beside it."""
    nearest = "<br>".join(f'line {n}: <code>{esc(text)}</code>' for n, text in d["nearest"]) or "no similar line"
    rows, stream = [], None
    for line in d["lines"]:
        if line["stream"] != stream:
            stream = line["stream"]
            rows.append(f'<tr class="stream"><td colspan="4">stream {esc(stream)}</td></tr>')
        mark = STATE_MARKS.get(line["state"], "")
        text = f'<code>{esc(line["text"])}</code>'
        if line["state"] == "missing":
            seen = f'<td colspan="2"><b>nearest lines in the log:</b><br>{nearest}</td>'
            text = f"<mark>{text}</mark>"
        elif line["at"]:
            seen = f'<td class="num">{line["at"]}</td><td><code>{esc(line["seen"])}</code></td>'
        else:
            seen = "<td></td><td></td>"
        rows.append(f'<tr class="{line["state"].replace(" ", "-")}"><td class="num">{line["source_line"]}</td>'
                    f"<td>{mark} {text}</td>{seen}</tr>")
    forbidden = (f'<p>forbidden line that appeared: <mark><code>{esc(d["forbidden"])}</code></mark></p>'
                 if d.get("forbidden") else "")
    return (f'<h4>Trace {esc(d["trace"])}: expected lines against the serial log</h4>\n{forbidden}'
            '<table class="trace">\n<thead><tr><th class="num">trace line</th><th>expected</th>'
            '<th class="num">log line</th><th>seen</th></tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>\n" + log_excerpt(d))


def log_excerpt(d: dict) -> str:
    """The serial log around the place of the failure: lines an expected
    line matched are ticked, the lines most like the missing one marked."""
    if not d["excerpt"]:
        return ""
    nearest = {n for n, _ in d["nearest"]}
    matched = {line["at"] for line in d["lines"] if line["at"]}
    lines, previous = [], None
    for n, text in d["excerpt"]:
        if previous is not None and n != previous + 1:
            lines.append("      ...")
        row = f"{n:>5} {STATE_MARKS['found'] if n in matched else ' '} {esc(text)}"
        lines.append(f"<mark>{row}</mark>" if n in nearest else row)
        previous = n
    after = f" (the missing line had to come after line {d['after']})" if d.get("after") else ""
    return (f"<h4>The serial log there</h4>\n<p class=\"muted\">{STATE_MARKS['found']}: matched by an expected "
            f"line; marked: most like the missing line{after}</p>\n<pre>" + "\n".join(lines) + "</pre>")


def triage(t: dict) -> str:
    """A crash: exception, where, the address, the hint, the backtrace."""
    facts = []
    if t.get("exception"):
        facts.append(("exception", f'{esc(t["exception"])} at EIP <code>{esc(t["eip"])}</code>'))
        facts.append(("where", f'<code>{esc(t["where"])}</code>'))
    if t.get("cr2"):
        facts.append(("address (CR2)", f'<code>{esc(t["cr2"])}</code>: {esc(t["cause"])}'))
    if t.get("hint"):
        facts.append(("hint", f'<b>{esc(t["hint"])}</b>'))
    if t.get("backtrace"):
        facts.append(("backtrace", "<ol>" + "".join(f"<li><code>{esc(b)}</code></li>" for b in t["backtrace"])
                      + "</ol>"))
    if t.get("source"):
        facts.append(("read from", esc(t["source"])))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    tail = "\n".join(esc(ln) for ln in t.get("last_lines", ()))
    return (f'<h4>Crash triage</h4>\n<dl class="facts">{dl}</dl>\n'
            + (f"<p>last lines of the serial log:</p>\n<pre>{tail}</pre>" if tail else ""))
