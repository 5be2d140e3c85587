"""Submissions made from the reference by small edits (mistakes.toml,
corpus.toml) or disguised as a copier would, and grading them through the
real CLI."""
from __future__ import annotations

import functools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.build import GAP_FILES, ROOT
from grader.labs import all_labs


def edits(spec: dict) -> list[dict]:
    """The edits of an entry: a list under `edit`, or one replace/with pair."""
    if "edit" in spec:
        return spec["edit"]
    if "replace" in spec:
        return [{"file": spec.get("file", "paging.c"), "replace": spec["replace"], "with": spec["with"]}]
    return []


def make_submission(name: str, spec: dict, folder: Path) -> Path:
    """The reference gap files with the entry's edits, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for gap in GAP_FILES:
        if gap == spec.get("remove"):
            continue
        text = (ROOT / "solutions" / gap).read_text()
        for edit in edits(spec):
            if edit.get("file", "paging.c") == gap:
                assert text.count(edit["replace"]) == 1, f"{name}: {edit['replace']!r} must occur once in {gap}"
                text = text.replace(edit["replace"], edit["with"])
        (folder / gap).write_text(text)
    return folder


@dataclass(frozen=True)
class Graded:
    tests: dict[str, dict]  # name -> the JSON report's test entry
    stdout: str
    returncode: int
    seconds: float


def grade(submission: Path, work: Path, lab: int, tests: str = "*", jobs: int = 1,
          extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Graded:
    """Grades a submission folder with `python3 -m grader` (and `extra`
    arguments, and `env` added to the environment)."""
    out = work / "report.json"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--lab", str(lab),
                             "--test", tests, "--jobs", str(jobs), "--out", str(work / "grade"), "--json",
                             str(out), *extra], cwd=ROOT, capture_output=True, text=True, errors="replace",
                            timeout=600, env={**os.environ, **(env or {})})
    seconds = time.monotonic() - start
    assert out.exists(), f"no report written:\n{result.stdout}\n{result.stderr}"
    doc = json.loads(out.read_text())
    return Graded({t["name"]: t for t in doc["tests"]}, result.stdout + result.stderr, result.returncode, seconds)


_WORD = re.compile(r"\b[A-Za-z_]\w*\b")
_C_WORDS = frozenset("""auto break case char const continue default do else enum extern for goto if inline int long
return short signed sizeof static struct switch typedef union unsigned void volatile while bool asm""".split())
NAMES = ("data", "tmp", "val", "ptr", "thing", "entry", "cur", "node", "item", "slot", "page", "my")


@functools.cache
def kit_names() -> frozenset[str]:
    """Every identifier of the kit's headers: the API a copier cannot rename."""
    headers = [*ROOT.glob("kernel/*.h"), *ROOT.glob("kernel/include/*.h")]
    return frozenset(w for h in headers for w in _WORD.findall(h.read_text()))


def disguise(text: str, rng: random.Random) -> str:
    """The same code as a copier would hide it: comments dropped, its own
    identifiers renamed, functions in another order, another layout."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)
    own = sorted(set(_WORD.findall(text)) - kit_names() - _C_WORDS)
    renamed = {name: f"{rng.choice(NAMES)}{i}" for i, name in enumerate(own)}
    text = _WORD.sub(lambda m: renamed.get(m.group(), m.group()), text)
    head = [ln for ln in text.splitlines() if ln.lstrip().startswith("#")]
    items = top_level_items("\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    functions = [i for i in items if i.rstrip().endswith("}") and "(" in i.split("{", 1)[0]]
    rng.shuffle(functions)
    return reformat("\n".join(head) + "\n" + "".join(i for i in items if i not in functions) + "".join(functions))


def top_level_items(text: str) -> list[str]:
    """Declarations and definitions of a C file, each ending at a ';' or a
    '}' outside any braces."""
    items, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and char in ";}" and not text[at + 1:].lstrip().startswith(";"):
            items.append(text[start:at + 1] + "\n")
            start = at + 1
    return items + [text[start:]]


def reformat(text: str) -> str:
    """Opening braces on their own lines, two-space indents, no blank lines."""
    out, depth = [], 0
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        for part in ([line[:-1].rstrip(), "{"] if line.endswith("{") and line != "{" else [line]):
            depth -= part.startswith("}")
            out.append("  " * max(depth, 0) + part)
            depth += part.endswith("{")
    return "\n".join(out) + "\n"


# init_paging spins with interrupts off: every test times out, its QEMU on the CPU.
SPINS = {"edit": [{"replace": "    identity_map(pmm_ram_end());",
                   "with": "    for (volatile int spin = 1; spin;) {}\n    identity_map(pmm_ram_end());"}]}
# waitpid sleeps forever: lab 5's tests time out with the guest idle.
SLEEPS = {"edit": [{"file": "process.c", "replace": "    struct process *me = process_current();\n    bool have_child",
                    "with": "    struct process *me = process_current();\n    me->wake_tick = 0x7FFFFFFF;\n"
                            "    return process_block(BLOCK_SLEEP);\n    bool have_child"}]}


def make_class(root: Path, mistake: dict) -> dict[str, float]:
    """A class as instructors receive one, in `root`: each way of handing in
    and of failing; returns each student's lab 1 score.
    `mistake` is a mistakes.toml entry that fails lab 1's remap (3 points)."""
    full = all_labs()[0].max_points
    make_submission("alice", {}, root / "alice")  # the two files at the top
    make_submission("bob", mistake, root / "bob")
    make_submission("carol", {"edit": [{"replace": "    identity_map(pmm_ram_end());", "with": "oops"}]},
                    root / "carol")  # does not compile
    (root / "dave").mkdir()  # nothing handed in
    tree = make_submission("erin", {}, root / "erin-tree" / "kernel").parent  # make handin's archive
    from grader.handin import pack

    pack(tree, root / "erin.tar.gz")
    shutil.rmtree(tree)
    folder = make_submission("fay", {}, root / "fay-zip" / "kestrel-fay" / "kernel")  # a zipped folder
    with zipfile.ZipFile(root / "fay.zip", "w") as z:
        for gap in GAP_FILES:
            z.write(folder / gap, f"kestrel-fay/kernel/{gap}")
        z.writestr("__MACOSX/kestrel-fay/kernel/._paging.c", b"\0\5\26\7 not C")
    shutil.rmtree(root / "fay-zip")
    gus = make_submission("gus", {}, root / "gus")  # near-miss names
    (gus / "paging.c").rename(gus / "Paging.c")
    (gus / "process.c").rename(gus / "process_lab5.c")
    return {"alice": full, "bob": full - 3, "carol": 0, "dave": 0, "erin": full, "fay": full, "gus": full}
