"""Every command, file, function and test a handout names exists.

Handouts name things in backticks: `make grade TEST=remap`,
`kernel/paging.c`, `init_paging()`, `identity_map_odd`. This test reads
every backticked span of handouts/*.md and README.md and checks the ones
that look like such names."""
from __future__ import annotations

import fnmatch
import re
from functools import cache
from pathlib import Path

import pytest

from grader.build import ROOT
from grader.labs import all_labs

DOCS = sorted((ROOT / "handouts").glob("*.md")) + [ROOT / "README.md"]
SOURCE_DIRS = ("kernel", "solutions", "user", "labs", "tools", "grader")
PATH_LIKE = re.compile(r"^(?:\.?[\w.-]+/)+[\w.*-]*$|^[\w.-]+\.(?:c|h|S|md|py|toml|svg|trace|ld|sh)$")
CALL = re.compile(r"^([A-Za-z_]\w*)\(.*\)$")
PLACEHOLDERS = {"name", "glob", "n", "k", "dir", "file"}  # as in `make grade TEST=name`
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


@cache
def source_text() -> str:
    files = [p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in
             (".c", ".h", ".S", ".py", ".ld", ".toml", ".sh")]
    return "\n".join(p.read_text(errors="replace") for p in files) + (ROOT / "Makefile").read_text()


@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M))
    for phony in re.findall(r"^\.PHONY:\s*(.*)$", text, re.M):
        targets |= set(phony.split())
    return frozenset(targets)


@cache
def lab_test_names() -> frozenset[str]:
    return frozenset(t.name for lab in all_labs() for t in lab.tests)


@cache
def gdb_commands() -> frozenset[str]:
    helpers = ROOT / "tools" / "gdb"
    text = "\n".join(p.read_text() for p in helpers.rglob("*.py")) if helpers.is_dir() else ""
    return frozenset(re.findall(r"""__init__\(\s*["']([\w-]+)["']""", text))


def spans(doc: Path) -> list[tuple[int, str]]:
    out = []
    in_fence = False
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if not in_fence:
            out += [(number, s) for s in re.findall(r"`([^`\n]+)`", line)]
    return out


def problem(span: str) -> str | None:
    """Why a backticked span names something that does not exist, or None."""
    words = span.split()
    if words[0] == "make" and len(words) > 1 or span == "make":
        return check_make(words[1:])
    if words[0] in gdb_commands() or not words:
        return None
    if PATH_LIKE.match(span) and not span.startswith(("build/", "dist/", "/", "~")):
        if not list(ROOT.glob(span.rstrip("/"))):
            return f"no file {span}"
        return None
    m = CALL.match(span)
    if m and not re.search(rf"\b{m[1]}\b", source_text()):
        return f"no function or macro {m[1]}"
    if SNAKE.match(span) and span not in lab_test_names() and not re.search(rf"\b{span}\b", source_text()):
        return f"no test or identifier {span}"
    return None


def check_make(words: list[str]) -> str | None:
    for word in words:
        if "=" in word:
            var, value = word.split("=", 1)
            value = value.strip("'\"")
            if value in PLACEHOLDERS:
                continue
            if var == "TEST" and not fnmatch.filter(lab_test_names(), value):
                return f"no test matches TEST={value}"
            if var == "LAB" and value.isdigit() and int(value) not in {lab.number for lab in all_labs()}:
                return f"no lab {value}"
        elif not word.startswith("<") and word not in make_targets():
            return f"no make target {word}"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_things_exist(doc):
    problems = [f"{doc.name}:{n}: `{s}`: {why}" for n, s in spans(doc) if (why := problem(s))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_linked_files_exist(doc):
    for target in re.findall(r"\]\(([^)#]+)\)", doc.read_text()):
        if "://" not in target:
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_every_lab_test_is_in_its_handout(lab):
    text = (ROOT / lab.handout).read_text() if (ROOT / lab.handout).exists() else ""
    missing = [t.name for t in lab.tests if f"`{t.name}`" not in text]
    assert not missing, f"{lab.handout} does not name tests {missing}"
