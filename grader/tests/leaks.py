"""What counts as solution code, for the tests that check none leaks into a
skeleton or a student release: any three consecutive non-blank lines of a
lab region of solutions/ (compared without indentation) that hold at least
MIN_LETTERS letters and digits. Single lines, and runs of braces, are too
common (`return 0;`, an API call) to mean anything."""
from __future__ import annotations

import re
from functools import cache

from grader.build import GAP_FILES, ROOT

WINDOW = 3
MIN_LETTERS = 24


def _normalize(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _windows(lines: list[str]) -> set[str]:
    chunks = ("\n".join(lines[i:i + WINDOW]) for i in range(len(lines) - WINDOW + 1))
    return {c for c in chunks if sum(ch.isalnum() for ch in c) >= MIN_LETTERS}


@cache
def solution_chunks() -> frozenset[str]:
    chunks = set()
    for gap in GAP_FILES:
        text = (ROOT / "solutions" / gap).read_text()
        for region in re.findall(r"//@ lab \d+ (?:body|private)\n(.*?)//@ end", text, re.S):
            chunks |= _windows(_normalize(region))
    return frozenset(chunks)


def leaked(text: str) -> list[str]:
    """The solution chunks found in `text`."""
    return sorted(_windows(_normalize(text)) & solution_chunks())
