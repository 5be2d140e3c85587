"""The handouts quote the kit as it is: every transcript (a boot, a GDB
session, a grader report) is made again from the current kit and must
match its block (tools/transcripts/), and no transcript, file:line or
address is typed by hand where a generator should make it.

The reports on known mistakes are compared in test_mistakes.py, which
grades every mistake anyway; this file runs everything else."""
from __future__ import annotations

import re

import pytest

from grader.build import ROOT
from grader.labs import all_labs
from tools.transcripts import kinds, markdown, normalize, plan, sessions

MARKERS = plan.all_markers()
JOBS = plan.jobs(MARKERS)
KNOWN = kinds.known_mistakes()
# Runs this file makes: all but the gradings test_mistakes.py shares.
RUNS = [j for j in JOBS if not (j.kind == "mistake" and j.markers[0].args[0] in KNOWN)]
# The handouts students read: transcripts in them are all generated.
STUDENT_DOCS = sorted((ROOT / "handouts").glob("0*.md")) + [ROOT / "tools" / "release" / "README.md"]
# A block that shows any of these lines is a transcript.
TRANSCRIPT_LINE = re.compile(r"^(\(gdb\) |FAIL lab \d|\$ make |\[harness\] |lab test |NOT IMPLEMENTED: |\*\*\* )", re.M)
FILE_LINE = re.compile(r"\b[\w./-]+\.(?:c|h|S|py|toml|ld)\b:\d+|\bMakefile:\d+")
HEX = re.compile(r"\b0x[0-9a-fA-F]{4,8}\b")


@pytest.fixture(scope="session")
def kit(worker_id: str) -> kinds.Kit:
    return kinds.Kit(ROOT / "build" / "tests" / worker_id / "transcripts")


@pytest.mark.parametrize("job", RUNS, ids=lambda j: j.key[:60])
def test_transcript_is_what_the_kit_prints(job, kit):
    problems = plan.drift(plan.run(job, kit))
    assert not problems, ("these blocks differ from what the kit prints now; run `make transcripts` "
                          f"(or make transcripts ONLY='{job.key}') and read the diff:\n" + "\n".join(problems))


def test_every_marker_names_something_that_exists():
    names = kinds.mistakes()
    for m in MARKERS:
        if m.kind == "mistake":
            assert m.args[0] in names, f"{m.where}: no mistake {m.args[0]}"
            spec = names[m.args[0]]
            lab = next(lab for lab in all_labs() if lab.number == spec["lab"])
            assert m.option("part") == "scoreboard" or kinds.mistake_test(m) in {t.name for t in lab.tests}, m.where
        kernel = m.option("kernel", "reference")
        source, _, arg = kernel.partition(":")
        assert source in ("reference", "skeleton", "upto", "mistake"), f"{m.where}: kernel={kernel}"
        if source == "mistake":
            assert arg in names, f"{m.where}: no mistake {arg}"
    overlap = set(KNOWN) & set(kinds.examples())
    assert not overlap, f"examples.toml repeats known mistakes: {overlap}"


def test_every_example_is_quoted():
    quoted = {m.args[0] for m in MARKERS if m.kind == "mistake"} | {
        m.option("kernel").partition(":")[2] for m in MARKERS if m.option("kernel").startswith("mistake:")}
    unused = set(kinds.examples()) - quoted
    assert not unused, f"tools/transcripts/examples.toml: no handout quotes {sorted(unused)}"


@pytest.mark.parametrize("doc", STUDENT_DOCS, ids=lambda p: p.name)
def test_no_transcript_is_typed_by_hand(doc):
    """Every block that looks like a transcript has a marker, and prose
    cites no file:line (a generated transcript or a symbol does)."""
    text = doc.read_text()
    generated = {(m.start, m.end) for m in markdown.markers(doc)}
    lines = text.splitlines()
    typed = []
    for start, end in code_blocks(lines):
        if (start, end) not in generated and TRANSCRIPT_LINE.search("\n".join(lines[start + 1:end])):
            typed.append(f"{doc.name}:{start + 1}")
    assert not typed, f"transcripts typed by hand (put a marker before them, then make transcripts): {typed}"
    cited = [f"{doc.name}:{n}: {m}" for n, line in markdown.prose(text) for m in FILE_LINE.findall(line)]
    assert not cited, "file:line typed in prose; name the function or quote a generated block:\n" + "\n".join(cited)


@pytest.mark.parametrize("doc", STUDENT_DOCS, ids=lambda p: p.name)
def test_addresses_in_prose_come_from_the_kit(doc):
    """An address the prose quotes is in one of the doc's generated blocks
    (so it moves with them) or in the kit's source (a constant)."""
    text = doc.read_text()
    blocks = "\n".join(m.text for m in markdown.markers(doc)).lower()
    wrong = [f"{doc.name}:{n}: {h}" for n, line in markdown.prose(text) for h in HEX.findall(line)
             if not _known_value(h, blocks)]
    assert not wrong, "addresses in prose that no generated block and no source file holds:\n" + "\n".join(wrong)


def _known_value(hex_text: str, blocks: str) -> bool:
    value = int(hex_text, 16)
    forms = {hex_text.lower(), f"0x{value:08x}", f"0x{value:x}"}
    return any(f in blocks for f in forms) or any(re.search(rf"\b{re.escape(f)}[uUlL]*\b", kit_source(), re.I)
                                                  for f in forms)


_SOURCE: list[str] = []


def kit_source() -> str:
    if not _SOURCE:
        files = [p for d in ("kernel", "labs", "user", "tools/gdb") for p in (ROOT / d).rglob("*")
                 if p.suffix in (".c", ".h", ".S", ".py")]
        _SOURCE.append("\n".join(p.read_text(errors="replace") for p in files))
    return _SOURCE[0]


def code_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(opening, closing) line indexes of the fenced blocks; indented
    blocks count as (first line - 1, last line + 1)."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].lstrip().startswith("```"))
            out.append((i, end))
            i = end + 1
        elif lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            out.append((i - 1, end))
            i = end
        else:
            i += 1
    return out


# ---- the generator's own checks: each can fail -------------------------------

def test_a_drifted_block_is_found_and_timings_are_not(tmp_path):
    doc = tmp_path / "t.md"
    doc.write_text("<!-- transcript: mistake lab1_no_invlpg_on_remap part=scoreboard -->\n```text\n"
                   "1   remap  FAIL  0.22s  0/3\ntotal 17/20   (6 of 7 tests passed, 3.2 s, seed 4242)\n```\n")
    [marker] = markdown.markers(doc)
    same = "1   remap  FAIL  0.91s  0/3\ntotal 17/20   (6 of 7 tests passed, 12.0 s, seed 4242)"
    assert plan.drift({marker: same}) == []
    assert plan.drift({marker: same.replace("17/20", "20/23")}), "a changed total is drift"
    assert plan.drift({marker: same.replace("seed 4242", "seed 1")}), "a changed seed is drift"
    assert markdown.replace_blocks(doc, {markdown.identity(marker): same}) and markdown.markers(doc)[0].text == same


def test_markers_are_checked(tmp_path):
    doc = tmp_path / "t.md"
    doc.write_text("<!-- transcript: gdb\nbreak main\n-->\nno block here\n")
    with pytest.raises(markdown.MarkerError, match="followed at once"):
        markdown.markers(doc)
    doc.write_text("<!-- transcript: boot speed=fast -->\n```text\n```\n")
    with pytest.raises(markdown.MarkerError, match="takes no option speed"):
        plan.all_markers((doc,))


def test_line_references_come_from_the_source():
    assert sessions.expand("break {{kernel/vm.c:void vm_boot}}") == f"break kernel/vm.c:{vm_boot_line()}"
    with pytest.raises(kinds.GenerateError, match="0 lines"):
        sessions.expand("break {{kernel/vm.c:no such text anywhere}}")
    with pytest.raises(kinds.GenerateError, match="not one"):
        sessions.expand("break {{kernel/vm.c:;}}")


def vm_boot_line() -> int:
    return next(i for i, line in enumerate((ROOT / "kernel" / "vm.c").read_text().splitlines(), 1)
                if "void vm_boot" in line)


def test_anchors_follow_githubs_rules():
    text = "# A `b(c, d)` *e*\n## 6. Grading\n## Hints\n## Hints\n<a id=\"x-y\"></a>\n```\n# not a heading\n```\n"
    assert markdown.anchors(text) == {"a-bc-d-e", "6-grading", "hints", "hints-1", "x-y"}


def test_paths_are_shown_as_a_students(tmp_path):
    src, out = tmp_path / "src", tmp_path / "obj"
    text = f"{src}/paging.c:12 {out}/kernel.elf solutions/process.c {ROOT}/build/grade/x.log"
    assert normalize.display(text, ROOT, {src: "kernel"}, {out: "build/student"}) == \
        f"kernel/paging.c:12 build/student/kernel.elf kernel/process.c {normalize.HOME}/build/grade/x.log"


def test_cut_lines_leave_one_mark_wherever_they_were():
    """Concurrent processes print cut lines in any order: the transcript
    is the same for every order."""
    runs = (["$ forktest", "child 1", "forked 2", "child 2", "OK", "$ hello", "hi"],
            ["$ forktest", "forked 2", "child 2", "child 1", "OK", "$ hello", "hi"])
    shown = [sessions.cut(lines, r"^child") for lines in runs]
    assert shown[0] == shown[1] == ["$ forktest", "...", "forked 2", "OK", "$ hello", "hi"]
    assert sessions.cut(runs[0], "") == runs[0]
