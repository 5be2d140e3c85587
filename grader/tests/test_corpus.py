"""Bad submissions (corpus.toml): each gets its verdict, with its message,
in bounded time, and no point it did not earn; review flags where asked;
none leaves a process behind, and no report, log or output holds a byte
of a host file."""
from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import build
from grader.compile import GapCompiler
from grader.sandbox import Sandbox

from .procs import processes_mentioning
from .submissions import grade, make_submission

HERE = Path(__file__).parent
CORPUS = tomllib.loads((HERE / "corpus.toml").read_text())
ANCHOR = "    identity_map(pmm_ram_end());"  # where entries insert code (corpus.toml)
MODES = {"off": {"KESTREL_SANDBOX": "off"}, "on": {}, None: {}}


@dataclass(frozen=True)
class HostFiles:
    """Files of the grading machine that entries try to read."""
    canary: Path  # holds `secret`, its first line an #error
    fifo: Path
    secret: str

    def fill(self, spec: dict) -> dict:
        """The entry with {canary} and {fifo} in its edits replaced."""
        edits = [{**e, "with": e["with"].replace("{canary}", str(self.canary)).replace("{fifo}", str(self.fifo))}
                 for e in spec.get("edit", [])]
        return {**spec, "edit": edits} if edits else spec


@pytest.fixture
def host_files(tmp_path: Path) -> HostFiles:
    secret = f"CANARY-{secrets.token_hex(12)}"
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "canary.h").write_text(f"#error {secret}\n{secret} {secret};\n")
    os.mkfifo(folder / "pipe")
    return HostFiles(folder / "canary.h", folder / "pipe", secret)


def attack_helpers() -> dict[str, str]:
    """The sections of data/attacks.c, by name ("// ---- name" lines)."""
    parts = re.split(r"^// ---- (\w+)\n", (HERE / "data" / "attacks.c").read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def with_helpers(spec: dict) -> dict:
    """The entry with each @@name@@ of its edits replaced by that helper."""
    helpers = attack_helpers()
    paste = lambda text: re.sub(r"@@(\w+)@@", lambda m: helpers[m[1]], text)  # noqa: E731
    return {**spec, "edit": [{**e, "with": paste(e["with"])} for e in spec.get("edit", [])]} if "edit" in spec \
        else spec


def anchored(text: str) -> str:
    """`text` with {anchor} (or {anchor+N}) replaced by the line of paging.c
    where the anchor is today (plus N): messages name lines without being
    edited whenever the reference moves."""
    lines = (build.ROOT / "solutions" / "paging.c").read_text().splitlines()
    line = lines.index(ANCHOR) + 1
    return re.sub(r"\{anchor(?:\+(\d+))?\}", lambda m: str(line + int(m[1] or 0)), text)


def everything_written(graded, work: Path) -> str:
    """The grader's output and every file it left (reports, logs)."""
    files = [p for p in work.rglob("*") if p.is_file() and "host" not in p.relative_to(work).parts]
    return graded.stdout + "".join(p.read_text(errors="replace") for p in files)


@pytest.fixture(scope="session")
def sandbox_here(tmp_path_factory) -> Sandbox:
    """The sandbox builds get on this machine by default."""
    return GapCompiler.here(build.ROOT, tuple(sorted(build.ALLOWED_INCLUDES)), tmp_path_factory.mktemp("probe")).sandbox


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_submission_gets_its_verdict(name, tmp_path, host_files, sandbox_here):
    spec = host_files.fill(CORPUS[name])
    if spec.get("sandbox") == "on" and not sandbox_here.bwrap:
        pytest.skip(f"needs bubblewrap: {sandbox_here.note}")
    submission = make_submission(name, with_helpers(spec), tmp_path / "submission")
    graded = grade(submission, tmp_path, spec["lab"], spec["tests"], jobs=2, extra=tuple(spec.get("args", ())),
                   env=MODES[spec.get("sandbox")])
    assert graded.tests, f"no test was graded:\n{graded.stdout}"
    assert graded.seconds < spec["max_seconds"], f"{name} took {graded.seconds:.1f} s"
    for test, result in graded.tests.items():
        if spec.get("score") == "full":
            assert result["score"] == result["max_score"], f"{test}: {result['output']}"
        else:
            assert result["score"] == 0, f"{name}: {test} earned points:\n{result['output']}"
        for needle in map(anchored, (spec["message"], spec.get("also", ""))):
            assert needle in result["output"], f"{test}: expected {needle!r} in:\n{result['output']}"
        if "flag" in spec:
            assert any(spec["flag"] in f for f in result["flags"]), f"{test}: no flag {spec['flag']!r} in " \
                                                                   f"{result['flags']}"
        assert all(line.isprintable() for line in result["output"].splitlines()), "reports stay printable"
    assert host_files.secret not in everything_written(graded, tmp_path), "a host file's bytes leaked"
    assert not processes_mentioning(str(tmp_path)), "the grader left processes behind"
