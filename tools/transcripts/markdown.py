"""The handouts as Markdown: transcript markers and their blocks, headings
and their anchors, links, and the prose around them.

A marker is an HTML comment (invisible once rendered) right before a fenced
block, naming what generates the block:

    <!-- transcript: mistake lab1_no_invlpg_on_remap part=report -->
    ```text
    FAIL lab 1 remap (0/3 points): ...
    ```

Its first line holds the kind and its options (shell words, `key=value`);
further lines, up to `-->`, are its body (GDB commands, lines to type).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

_MARKER = re.compile(r"^(?P<indent>\s*)<!-- transcript: (?P<head>.*?)(?P<end>-->)?\s*$")
_FENCE = re.compile(r"^(?P<indent>\s*)```[\w-]*\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_ID = re.compile(r"""<a\s[^>]*?(?:id|name)\s*=\s*["']([^"']+)["']""")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


class MarkerError(Exception):
    """A marker that is malformed or not followed by its block."""


@dataclass(frozen=True)
class Marker:
    doc: Path
    line: int  # 1-based line of the comment's start
    kind: str
    args: tuple[str, ...]  # positional words after the kind
    options: dict[str, str] = field(hash=False)
    body: tuple[str, ...]
    start: int  # 0-based index of the opening fence
    end: int  # 0-based index of the closing fence
    indent: str  # the fence's indentation, kept on every line of the block
    text: str  # the block's current contents (indentation removed)
    twin: int = 0  # how many markers with the same words and body come before it in its file

    @property
    def where(self) -> str:
        return f"{self.doc.name}:{self.line}"

    def option(self, key: str, default: str = "") -> str:
        return self.options.get(key, default)


def markers(doc: Path) -> list[Marker]:
    """Every transcript marker of a Markdown file, in order."""
    lines = doc.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        m = _MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        first, head, body = i, m["head"], []
        if not m["end"]:
            i += 1
            while i < len(lines) and "-->" not in lines[i]:
                body.append(lines[i].strip())
                i += 1
            if i == len(lines):
                raise MarkerError(f"{doc.name}:{first + 1}: marker without its closing -->")
            tail = lines[i].split("-->", 1)[0].strip()
            if tail:
                body.append(tail)
        found.append(_with_block(doc, lines, first, i + 1, head, [b for b in body if b]))
        i = found[-1].end + 1
    seen: dict[tuple, int] = {}
    for n, m in enumerate(found):
        key = identity(m)
        found[n] = replace(m, twin=seen.get(key, 0))
        seen[key] = seen.get(key, 0) + 1
    return found


def _with_block(doc: Path, lines: list[str], first: int, fence: int, head: str, body: list[str]) -> Marker:
    where = f"{doc.name}:{first + 1}"
    opening = _FENCE.match(lines[fence]) if fence < len(lines) else None
    if not opening:
        raise MarkerError(f"{where}: a transcript marker must be followed at once by a ``` block")
    indent = opening["indent"]
    end = next((j for j in range(fence + 1, len(lines)) if lines[j] == f"{indent}```"), None)
    if end is None:
        raise MarkerError(f"{where}: the block after the marker is never closed")
    try:
        words = shlex.split(head)
    except ValueError as e:
        raise MarkerError(f"{where}: {e}") from e
    if not words:
        raise MarkerError(f"{where}: the marker names no kind")
    options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    args = tuple(w for w in words[1:] if "=" not in w)
    text = "\n".join(ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[fence + 1:end])
    return Marker(doc, first + 1, words[0], args, options, tuple(body), fence, end, indent, text)


def entry_anchor(marker: Marker) -> str | None:
    """The explicit anchor (<a id=...>) of the folded entry a marker sits in,
    if it sits in one: the nearest before it with no </details> between."""
    lines = marker.doc.read_text().splitlines()[:marker.line - 1]
    for line in reversed(lines):
        if line.strip() == "</details>" or line.startswith("## "):
            return None
        found = _HTML_ID.findall(line)
        if found:
            return found[-1]
    return None


def identity(marker: Marker) -> tuple:
    """What a marker is, wherever it sits: its words and body, and how
    many markers just like it come before it in its file."""
    return marker.kind, marker.args, tuple(sorted(marker.options.items())), marker.body, marker.twin


def replace_blocks(doc: Path, new: dict[tuple, str]) -> bool:
    """Writes new contents into the blocks of the markers with the given
    identities (the file may have changed since they were read); returns
    whether the file changed."""
    old = doc.read_text()
    lines = old.splitlines()
    for marker in sorted(markers(doc), key=lambda m: m.start, reverse=True):
        if identity(marker) in new:
            block = [f"{marker.indent}{ln}".rstrip() if ln else "" for ln in new[identity(marker)].split("\n")]
            lines[marker.start + 1:marker.end] = block
    text = "\n".join(lines) + "\n"
    if text != old:
        doc.write_text(text)
    return text != old


def prose(text: str) -> list[tuple[int, str]]:
    """The lines of a Markdown text outside code blocks and markers, with
    their 1-based numbers."""
    out, in_fence, in_comment = [], False, False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if in_comment:
            in_comment = "-->" not in line
            continue
        if stripped.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if stripped.startswith("```"):
            in_fence = not in_fence
            continue
        if not in_fence and not line.startswith("    "):
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: the rendered text (code spans,
    emphasis and links reduced to their words), lower case, punctuation
    other than '-' and '_' dropped, each space a '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = "".join(c for c in text.lower() if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a Markdown text defines: its headings (numbered -1, -2
    when they repeat, as GitHub does) and explicit <a id=...> tags."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose(text):
        m = _HEADING.match(line)
        if m:
            base = slug(m[2])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(_HTML_ID.findall(line))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """The targets of the Markdown links in the prose of a text."""
    return [(n, target) for n, line in prose(text) for target in _LINK.findall(line)]
