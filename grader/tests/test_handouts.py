"""Every command, file, function and test a handout names exists; every
link and anchor leads somewhere; the handouts say what the labs' metadata
says; the student release's texts speak to students; and each lab asks
before it tells (folded hints, folded mistakes, questions with model
answers for the instructors).

Handouts name things in backticks: `make grade TEST=remap`,
`kernel/paging.c`, `init_paging()`, `identity_map_odd`. This test reads
every backticked span of handouts/*.md, README.md and the student
release's README and checks the ones that look like such names."""
from __future__ import annotations

import fnmatch
import re
from functools import cache
from pathlib import Path

import pytest

from grader.build import ROOT
from grader.labs import all_labs
from tools.transcripts import markdown

STUDENT_README = ROOT / "tools" / "release" / "README.md"  # the release's README.md
DOCS = sorted((ROOT / "handouts").glob("*.md")) + [ROOT / "README.md", STUDENT_README]
# What a student tree has no use for: the release leaves these out.
INSTRUCTORS_ONLY = ("SOLUTION=1", "make check", "instructors.md", "REFERENCE_PAGING")
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
def test_links_and_anchors_exist(doc):
    """Each link names a file that exists and, after #, one of its anchors
    (GitHub's anchors for headings, or an explicit <a id=...>)."""
    base = ROOT if doc == STUDENT_README else doc.parent  # it becomes the release's README.md
    broken = [f"{doc.name}:{n}: {target}: {why}" for n, target in markdown.links(doc.read_text())
              if "://" not in target and (why := link_problem(base, target, doc))]
    assert not broken, "\n".join(broken)


def link_problem(base: Path, target: str, doc: Path) -> str | None:
    path, _, anchor = target.partition("#")
    file = (base / path) if path else doc
    if not file.exists():
        return "no such file"
    if anchor and file.suffix == ".md" and anchor not in markdown.anchors(file.read_text()):
        return f"{file.name} has no anchor #{anchor}"
    return None


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_hints_lead_to_sections_that_exist(lab):
    """Each hint of lab.toml names a section of a handout: the link a
    failure report prints works."""
    assert lab.hints, f"{lab.folder}/lab.toml has no [[hints]]: its reports would link only the handout"
    broken = [f"{hint.when.pattern!r} -> {lab.link(hint.see)}: {why}" for hint in lab.hints
              if (why := link_problem(ROOT, lab.link(hint.see), ROOT / lab.handout))]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("doc", [*sorted((ROOT / "handouts").glob("0*.md")), STUDENT_README], ids=lambda p: p.name)
def test_student_texts_name_nothing_a_student_tree_lacks(doc):
    text = doc.read_text()
    found = [word for word in INSTRUCTORS_ONLY if word in text]
    if doc == STUDENT_README:
        found += ["solutions/"] if "solutions" in text else []
    assert not found, f"{doc.name} mentions {found}, which a student tree does not have"


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_every_lab_test_is_in_its_handout(lab):
    text = (ROOT / lab.handout).read_text() if (ROOT / lab.handout).exists() else ""
    missing = [t.name for t in lab.tests if f"`{t.name}`" not in text]
    assert not missing, f"{lab.handout} does not name tests {missing}"


# ---- the handouts agree with the labs' metadata ---------------------------------

def handout(lab) -> str:
    return (ROOT / lab.handout).read_text()


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_test_table_lists_every_test_with_its_points(lab):
    rows = dict(re.findall(r"^\| `(\w+)` \| (\d+(?:\.\d+)?) \|", section(handout(lab), "How the tests check your work"),
                           re.M))
    expected = {t.name: f"{t.points:g}" for t in lab.tests}
    assert rows == expected, f"{lab.handout}: the table of tests says {rows}, lab.toml {expected}"


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_counts_and_totals_agree_with_lab_toml(lab):
    text = handout(lab)
    m = re.search(r"has (\d+)\s+tests\s+worth\s+(\d+)\s+points", text)
    assert m and (int(m[1]), int(m[2])) == (len(lab.tests), int(lab.max_points)), \
        f"{lab.handout} says {m and m.group(0)}; lab.toml: {len(lab.tests)} tests, {lab.max_points:g} points"
    totals = set(re.findall(r"`total (\d+/\d+)`", text))
    assert totals <= {f"{lab.max_points:g}/{lab.max_points:g}"}, f"{lab.handout} quotes totals {totals}"


def section(text: str, title: str) -> str:
    """The part of a Markdown text under the `## title` heading."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"no section '## {title}'"
    return m.group(1)


# ---- ask before telling ---------------------------------------------------------

def folded(text: str) -> list[str]:
    """The contents of each <details> block, in order (they do not nest)."""
    blocks = re.findall(r"^<details>\n<summary>.*?</summary>\n(.*?)^</details>", text, re.M | re.S)
    assert text.count("<details>") == text.count("</details>") == len(blocks), "unbalanced <details>"
    return blocks


def outside_details(text: str) -> str:
    return re.sub(r"^<details>.*?^</details>", "", text, flags=re.M | re.S)


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_design_questions_come_with_folded_hints(lab):
    """Each design question is asked, says how to test it or points on,
    and its hints are folded, from gentle to explicit (numbered)."""
    design = section(handout(lab), "Design it")
    questions = re.split(r"^### \d+\. ", design, flags=re.M)[1:]
    assert len(questions) >= 3, f"{lab.handout}: 'Design it' has {len(questions)} numbered questions"
    for q in questions:
        title = q.split("\n", 1)[0]
        assert title.endswith("?"), f"{lab.handout}: design question '{title}' is not a question"
        numbers = [int(n) for n in re.findall(r"^<summary>Hint (\d+)</summary>", q, re.M)]
        assert numbers and numbers == list(range(1, len(numbers) + 1)), \
            f"{lab.handout}: '{title}': hints numbered {numbers}, not 1, 2, ... (gentle to explicit)"
    assert not re.search(r"^## Steps", handout(lab), re.M), f"{lab.handout} still has Steps to follow"


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_common_mistakes_are_folded_under_their_symptom(lab):
    """Every known mistake is behind a <details> whose summary is the
    symptom, right after the anchor a failure report links to."""
    text = section(handout(lab), "Common mistakes")
    assert "transcript:" not in outside_details(text), f"{lab.handout}: a mistake's report outside <details>"
    entries = re.findall(r'^<a id="([\w-]+)"></a>\n<details>\n<summary>(.+)</summary>', text, re.M)
    assert entries and len(entries) == len(folded(text)), f"{lab.handout}: each <details> follows its <a id>"


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.slug)
def test_questions_have_model_answers(lab):
    """2 to 4 short questions end each lab; the instructors' handout
    answers each, in the same order."""
    asked = re.findall(r"^(\d+)\. ", section(handout(lab), "Questions"), re.M)
    assert 2 <= len(asked) <= 4, f"{lab.handout} asks {len(asked)} questions"
    answers = section((ROOT / "handouts" / "instructors.md").read_text(), "12. Model answers to the handouts' questions")
    m = re.search(rf"^### Lab {lab.number}: .*?\n(.*?)(?=^### |\Z)", answers, re.M | re.S)
    assert m, f"instructors.md has no model answers for lab {lab.number}"
    answered = re.findall(r"^(\d+)\. ", m.group(1), re.M)
    assert answered == asked, f"lab {lab.number}: questions {asked}, model answers {answered}"
