"""The similarity check: a disguised copy ranks first, the skeleton's code
never pairs anyone, independent code is not paired, and the page shows the
matching regions side by side."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from grader import similarity
from grader.build import GAP_FILES, ROOT
from grader.handin import pack

from .htmlcheck import Page
from .submissions import disguise

DATA = Path(__file__).parent / "data" / "similarity"
# The same three lines added by two students to the skeleton's init_paging.
SMALL_EDIT = ("    // Lab 1: your code here.\n    gap_not_implemented(__func__, 1, \"01-identity-map.md\");\n}\n\n"
              "// Lab 1. Maps", "    uint32_t sum = 0;\n    for (int i = 0; i < 10; i++)\n        sum += i;\n}\n\n"
              "// Lab 1. Maps")


def put(folder: Path, paging: str, process: str) -> None:
    folder.mkdir(parents=True)
    (folder / "paging.c").write_text(paging)
    (folder / "process.c").write_text(process)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """alice: the reference; bob: alice disguised (renamed, reformatted,
    reordered, no comments); carol: her own lab 1; dave and erin: the
    skeleton with the same small edit; frank: the reference's lab 1 only
    (the partial skeleton of lab 2), as a hand-in archive."""
    root = tmp_path_factory.mktemp("course")
    reference = {g: (ROOT / "solutions" / g).read_text() for g in GAP_FILES}
    skeleton = {g: (ROOT / "kernel" / g).read_text() for g in GAP_FILES}
    rng = random.Random(7)
    put(root / "alice", reference["paging.c"], reference["process.c"])
    put(root / "bob", disguise(reference["paging.c"], rng), disguise(reference["process.c"], rng))
    put(root / "carol", (DATA / "independent_paging.c").read_text(), skeleton["process.c"])
    assert skeleton["paging.c"].count(SMALL_EDIT[0]) == 1
    for name in ("dave", "erin"):
        put(root / name, skeleton["paging.c"].replace(*SMALL_EDIT), skeleton["process.c"])
    frank = tmp_path_factory.mktemp("frank-tree") / "kernel"
    frank.mkdir()
    subprocess.run([sys.executable, "tools/skeleton.py", "solutions/paging.c", "--upto", "2", "--labs", "labs",
                    "-o", str(frank / "paging.c")], cwd=ROOT, check=True)
    (frank / "process.c").write_text(skeleton["process.c"])
    pack(frank.parent, root / "frank.tar.gz")
    return root


def names(pair: similarity.Pair) -> set[str]:
    return {pair.a.name, pair.b.name}


def test_disguised_copy_ranks_first_and_the_skeleton_pairs_nobody(course):
    check = similarity.check_folder(course, ROOT / "kernel")
    assert sorted(s.name for s in check.submissions) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    first = check.pairs[0]
    assert names(first) == {"alice", "bob"}
    assert first.share(first.a) > 0.6 and first.share(first.b) > 0.6
    paired = {n for p in check.pairs for n in names(p)}
    assert "dave" not in paired and "erin" not in paired and "carol" not in paired
    assert {frozenset(names(p)) for p in check.pairs[1:]} == {frozenset({"alice", "frank"}),
                                                              frozenset({"bob", "frank"})}
    # What makes dave and erin unpaired is the base: without it, the
    # skeleton they share pairs them.
    empty = course.parent / "empty-base"
    for g in GAP_FILES:
        empty.mkdir(exist_ok=True)
        (empty / g).write_text("")
    unbased = similarity.check_folder(course, empty)
    assert any(names(p) == {"dave", "erin"} for p in unbased.pairs)


def test_tokens_ignore_names_layout_comments_and_literals():
    one = similarity.tokenize('int total = 0; // sum\nfor (int i = 0; i < n; i++) total += a[i]; /* x */ s = "a";')
    two = similarity.tokenize("int\nacc=0x0;\n\n#define N 4\nfor(int k=0;k<size;k++)\n  acc+=vals[k];\ns='b';")
    assert [t for t, _ in one] == [t for t, _ in two]
    assert [line for _, line in two][:3] == [1, 2, 2] and two[-1][1] == 7


def test_winnowing_finds_every_shared_run_long_enough():
    rng = random.Random(1)
    for _ in range(50):
        shared = [rng.randrange(1000) for _ in range(similarity.K + similarity.W - 1)]
        a = [rng.randrange(1000) for _ in range(rng.randrange(200))] + shared
        b = shared + [rng.randrange(1000) for _ in range(rng.randrange(200))]
        assert set(similarity.winnow(similarity._runs(a))) & set(similarity.winnow(similarity._runs(b)))


def test_command_ranks_and_the_page_shows_regions_side_by_side(course, tmp_path):
    page_path = tmp_path / "similar.html"
    result = subprocess.run([sys.executable, "-m", "grader", "similarity", str(course), "--html", str(page_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ranking = [line.split() for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert ranking[0][1:3] == ["alice", "bob"]
    page = Page(page_path.read_text())
    assert page.rows("pairs")[0][1] == "alice & bob"
    first = page.by_id("pair-1")
    sides = [e for e in page.elements[page.elements.index(first):] if e.tag == "pre"][:2]
    assert len(sides) == 2 and all(s.text.strip() for s in sides)
    heads = [e.text for e in page.elements[page.elements.index(first):] if e.tag == "p"][:2]
    assert heads[0].startswith("alice ") and heads[1].startswith("bob ")
