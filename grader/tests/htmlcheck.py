"""Reads the grader's HTML pages the way the tests need: checks that the
nesting is well formed and that nothing points outside the file, and keeps
the elements (tag, attributes, text inside) to look things up."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EXTERNAL = re.compile(r"(?:https?:|ftp:|//|url\s*\()", re.I)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)  # text inside, nested elements included

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Page(HTMLParser):
    """A parsed page; raises AssertionError on bad nesting or an external
    reference (a link, a source, a stylesheet URL)."""

    def __init__(self, text: str, document: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[Element] = []
        self.elements: list[Element] = []
        self.data: list[str] = []  # every text outside <style> and <title>
        self.feed(text)
        self.close()
        assert not self.open, f"elements never closed: {[e.tag for e in self.open]}"
        assert not document or text.lower().startswith("<!doctype html>"), "a page starts with <!DOCTYPE html>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        for name, value in element.attrs.items():
            assert not (name in ("href", "src", "action", "style", "xlink:href") and EXTERNAL.search(value)), \
                f"<{tag} {name}={value!r}> points outside the page"
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1].tag == "style":
            assert not EXTERNAL.search(data), "the style sheet points outside the page"
        for element in self.open:
            element.parts.append(data)
        if not (self.open and self.open[-1].tag in ("style", "title")):
            self.data.append(data)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id}"
        return found[0]

    def rows(self, table_id: str) -> list[list[str]]:
        """The text of each body cell of a table, row by row."""
        table = self.by_id(table_id)
        start = self.elements.index(table)
        rows: list[list[str]] = []
        for e in self.elements[start + 1:]:
            if e.tag == "table":
                break
            if e.tag == "tr":
                rows.append([])
            elif e.tag == "td":
                rows[-1].append(e.text.strip())
        return [r for r in rows if r]

    @property
    def text(self) -> str:
        return "".join(self.data)
