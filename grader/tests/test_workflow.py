"""The course workflow: the student release, hand-in archives, batch
grading and the Gradescope package, each run for real."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader import qemu
from grader.build import GAP_FILES, ROOT
from grader.labs import all_labs

from .leaks import leaked
from .submissions import make_class

MISTAKES = tomllib.loads((Path(__file__).parent / "mistakes.toml").read_text())


def run(argv: list[str], cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student"
    result = run([sys.executable, "tools/package.py", "release", "--out", str(out)], ROOT)
    assert result.returncode == 0, result.stderr
    return out


def test_release_gives_no_answer_away(release):
    assert not (release / "solutions").exists() and not (release / "grader" / "tests").exists()
    assert run(["git", "rev-list", "--count", "HEAD"], release).stdout.strip() == "1"
    for path in release.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            found = leaked(path.read_text(errors="replace"))
            assert not found, f"{path.relative_to(release)} holds solution code: {found[:2]}"
    workflow = (release / ".github" / "workflows" / "classroom.yml").read_text()
    assert "autograding-command-grader" in workflow and "max-score: 3" in workflow


def test_release_speaks_to_students(release):
    """Its README is the students' own, and SOLUTION=1 (or REFERENCE_PAGING=1)
    stops any make at once with a sentence for students, before building."""
    readme = (release / "README.md").read_text()
    assert readme == (ROOT / "tools" / "release" / "README.md").read_text()
    for word in ("solutions", "make check", "SOLUTION=1", "instructors"):
        assert word not in readme, f"the student README mentions {word}"
    for path in (release / "handouts").glob("*.md"):
        assert "SOLUTION=1" not in path.read_text(), f"{path.name} tells students about SOLUTION=1"
    for argv in (["make", "SOLUTION=1", "qemu-nox"], ["make", "grade", "SOLUTION=1"], ["make", "SOLUTION=1"],
                 ["make", "grade", "REFERENCE_PAGING=1", "LAB=4"]):
        result = run(argv, release, timeout=60)
        assert result.returncode != 0 and "is for instructors: this student tree has no solutions/" in result.stderr, \
            f"{' '.join(argv)}:\n{result.stdout}{result.stderr}"
        assert not (release / "build" / "solution").exists() and "grader:" not in result.stdout, \
            f"{' '.join(argv)} built or graded something before refusing"
    assert "SOLUTION" not in run(["make", "help"], release).stdout


def test_release_builds_boots_and_scores_zero(release, tmp_path):
    assert run(["make", "-s", "kernel"], release).returncode == 0
    boot = qemu.run(qemu.RunRequest(release / "build" / "student" / "kernel.elf", None, {}, mem_mb=32, timeout=10))
    assert boot.outcome is qemu.Outcome.NOT_IMPLEMENTED and "init_paging()" in boot.message
    out = tmp_path / "r.json"
    result = run([sys.executable, "-m", "grader", "--lab", "1", "--lab", "4", "-q", "--json", str(out)], release)
    doc = json.loads(out.read_text())
    assert doc["score"] == 0 and doc["tests"], result.stdout
    assert all("not implemented" in t["output"] or "blocked by" in t["output"] for t in doc["tests"])


def test_handin_archive_is_graded(tmp_path):
    tree = tmp_path / "tree"
    for gap in GAP_FILES:
        (tree / "kernel").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "solutions" / gap, tree / "kernel" / gap)
    archive = tmp_path / "handin.tar.gz"
    from grader.handin import pack

    assert pack(tree, archive) == [f"kernel/{g}" for g in GAP_FILES]
    out = tmp_path / "r.json"
    run([sys.executable, "-m", "grader", "--submission", str(archive), "--lab", "2", "-q", "--out",
         str(tmp_path / "g"), "--json", str(out)], ROOT)
    doc = json.loads(out.read_text())
    assert doc["score"] == doc["max_score"] > 0


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """A class: each way of handing in and of failing (submissions.py)."""
    root = tmp_path_factory.mktemp("class")
    return root, make_class(root, MISTAKES["lab1_no_invlpg_on_remap"])


def upload(submissions: Path, student: str, to: Path) -> None:
    """What Gradescope puts in submission/ for a student's upload: a zip is
    unpacked (its folder kept), any other file is left as is."""
    to.mkdir(parents=True)
    entry = next(p for p in submissions.iterdir() if p.name == student or p.name.startswith(f"{student}."))
    if entry.is_dir():
        for f in entry.iterdir():
            shutil.copy(f, to / f.name)
    elif entry.name.endswith(".zip"):
        with zipfile.ZipFile(entry) as z:
            z.extractall(to)
    else:
        shutil.copy(entry, to)


def test_gradescope_package_runs_on_a_simulated_autograder(submissions, tmp_path):
    zip_path = tmp_path / "gradescope.zip"
    assert run([sys.executable, "tools/package.py", "gradescope", "--out", str(zip_path)], ROOT).returncode == 0
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        assert "setup.sh" in names and "run_autograder" in names and "reference/paging.o" in names
        assert not [n for n in names if n.startswith("solutions/")]
        z.extractall(tmp_path / "source")
    source = tmp_path / "source"
    for path in source.rglob("*"):
        if path.is_file():
            found = leaked(path.read_text(errors="replace"))
            assert not found, f"{path.relative_to(source)} holds solution code: {found[:2]}"
    assert "bubblewrap" in (source / "setup.sh").read_text()
    os.chmod(source / "run_autograder", 0o755)
    lab1 = source / "labs" / "01-identity-map" / "lab.toml"
    lab1.write_text(lab1.read_text().replace('[tests.remap]\n', '[tests.remap]\nvisibility = "hidden"\n'))
    folder, scores = submissions
    for student in ("alice", "dave", "erin", "fay", "gus"):
        root = tmp_path / f"autograder-{student}"
        upload(folder, student, root / "submission")
        os.symlink(source, root / "source")
        result = run([str(source / "run_autograder")], source, AUTOGRADER_ROOT=str(root),
                     KESTREL_GRADE_ARGS="--lab 1", TMPDIR=str(tmp_path))
        doc = json.loads((root / "results" / "results.json").read_text())
        tests = {t["name"]: t for t in doc["tests"]}
        assert len(tests) == len(all_labs()[0].tests), result.stdout + result.stderr
        assert doc["score"] == scores[student], (student, doc["score"], doc["output"])
        hidden = [t for t in doc["tests"] if "(remap)" in t["name"]]
        assert hidden and hidden[0]["visibility"] == "hidden"
        if student == "dave":
            assert all("missing gap file" in t["output"] for t in doc["tests"])
        if student == "fay":  # a zipped folder, unpacked by Gradescope: one folder down
            assert "found paging.c at kestrel-fay/kernel/paging.c" in doc["output"]
        if student == "gus":
            assert "no file named paging.c: graded Paging.c" in doc["output"]
    # A student behind on labs 1-3: process.c graded on the shipped reference paging.o.
    root = tmp_path / "autograder-frank"
    (root / "submission").mkdir(parents=True)
    os.symlink(source, root / "source")
    shutil.copy(ROOT / "kernel" / "paging.c", root / "submission")  # the skeleton
    shutil.copy(ROOT / "solutions" / "process.c", root / "submission")
    for args, expect_full in (("--lab 4 --test fork_return", False), ("--lab 4 --test fork_return --reference-paging",
                                                                       True)):
        result = run([str(source / "run_autograder")], source, AUTOGRADER_ROOT=str(root), KESTREL_GRADE_ARGS=args,
                     TMPDIR=str(tmp_path))
        doc = json.loads((root / "results" / "results.json").read_text())
        assert len(doc["tests"]) == 1 and (doc["score"] == doc["tests"][0]["max_score"] > 0) == expect_full, \
            result.stdout + result.stderr + json.dumps(doc)


def test_grading_and_handin_in_a_release_warn_about_files_outside_the_gaps(release, tmp_path):
    (release / "kernel" / "trap.c").write_text((release / "kernel" / "trap.c").read_text() + "// edited\n")
    run(["git", "commit", "-q", "-am", "a student's edit"], release, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@x",
        GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@x")
    try:
        result = run([sys.executable, "-m", "grader", "--lab", "1", "--test", "remap", "-q", "--out",
                      str(tmp_path / "g")], release)
        assert "these changes are ignored: kernel/trap.c" in result.stderr
        handin = run(["make", "-s", "handin"], release)
        assert handin.returncode == 0 and (release / "handin.tar.gz").is_file(), handin.stderr
        assert "these changes are ignored: kernel/trap.c" in handin.stderr
    finally:
        run(["git", "reset", "-q", "--hard", "HEAD~1"], release)
        (release / "handin.tar.gz").unlink(missing_ok=True)


def test_release_never_overwrites_a_folder_in_use(tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    (out / "notes.txt").write_text("an instructor's file")
    refused = run([sys.executable, "tools/package.py", "release", "--out", str(out)], ROOT)
    assert refused.returncode != 0 and "not empty" in refused.stderr and (out / "notes.txt").exists()
    forced = run(["make", "-s", "release", f"OUT_DIR={out}", "FORCE=1"], ROOT)
    assert forced.returncode == 0, forced.stderr
    assert not (out / "notes.txt").exists() and (out / "Makefile").is_file()


def test_classroom_steps_work_whichever_python3_comes_first(release, tmp_path):
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python3").write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")  # -S: no dist-packages
    (shim / "python3").chmod(0o755)
    path = f"{shim}:{os.environ['PATH']}"
    bare = run(["python3", "-c", "import pytest"], release, PATH=path)
    assert "No module named 'pytest'" in bare.stderr, "the first python3 on PATH must lack pytest for this test"
    workflow = (release / ".github" / "workflows" / "classroom.yml").read_text()
    commands = re.findall(r"^\s+command: (.*)$", workflow, re.MULTILINE)
    assert len(commands) == sum(len(lab.tests) for lab in all_labs())
    assert all(c.startswith("make -s grade LAB=") for c in commands), commands
    for command in (commands[0], commands[-1]):
        result = run(["sh", "-c", command], release, PATH=path)
        assert "No module named" not in result.stdout + result.stderr, result.stderr
        assert "total 0/" in result.stdout, result.stdout + result.stderr  # graded: the skeleton scores 0
        assert re.search(r"not implemented: \w+\(\) is still the stub|blocked by \w+ \(lab", result.stdout)
