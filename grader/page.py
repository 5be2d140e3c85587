"""The frame every HTML page of the grader shares: escaping, one document
with its inline style, and a table helper.

A page is one self-contained file: inline CSS and SVG, no script, no
external URL, so it opens offline from a file (an artifact, a mail, an
archive years later). Everything a submission controls (serial output,
source code, names) goes through esc().
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterable

# Characters HTML does not allow in text (controls other than tab and newline).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CSS = """
:root { --ok: #1e7b34; --fail: #b3261e; --muted: #6b7280; --line: #d8dde3; --soft: #f4f6f8; --mark: #ffe08a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
       max-width: 1180px; padding: 1.5em; }
h1 { font-size: 1.6em; margin: 0 0 .2em; } h2 { margin-top: 2em; border-bottom: 1px solid var(--line); }
h3 { margin: 0 0 .3em; } h4 { margin: 1.2em 0 .4em; }
.muted { color: var(--muted); } .ok { color: var(--ok); } .fail { color: var(--fail); }
.big { font-size: 2.4em; font-weight: 700; }
.note { background: #fff8e1; border-left: 4px solid #e0a800; padding: .5em .8em; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre, code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: var(--soft); padding: .7em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
mark { background: var(--mark); }
.badge { display: inline-block; padding: 0 .5em; border-radius: .8em; color: #fff; font-size: .85em;
         white-space: nowrap; }
.badge.passed { background: var(--ok); } .badge.failed { background: var(--fail); }
.badge.not-run { background: var(--muted); }
section.test { border: 1px solid var(--line); border-left: 5px solid var(--fail); border-radius: 4px;
               padding: .8em 1em; margin: 1em 0; }
.summary { font-weight: 600; }
tr.missing td { background: #fdecea; } tr.not-reached td { color: var(--muted); }
tr.stream td { background: var(--soft); font-weight: 600; }
.side { display: flex; gap: 1em; flex-wrap: wrap; } .side > * { flex: 1 1 420px; min-width: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
svg { max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; }
"""


def esc(value: object) -> str:
    """Text (or an attribute value) as HTML."""
    return html.escape(_NOT_TEXT.sub("\ufffd", str(value)), quote=True)


def document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = (),
          attrs: str = "") -> str:
    """A table of cells given as HTML (escape text first); columns in
    `numeric` are right-aligned."""
    right = set(numeric)
    head = "".join(f'<th{" class=num" if i in right else ""}>{h}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in right else ""}>{c}</td>' for i, c in enumerate(row))
                   + "</tr>\n" for row in rows)
    return f"<table{attrs}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def write(path: Path, text: str) -> Path:
    """Writes a page in one step (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
