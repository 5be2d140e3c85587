"""The submission finder (grader/submission.py), on the shapes real hand-ins
take; every entry point uses it (test_batch.py and test_workflow.py grade
them for real)."""
from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.submission import SubmissionError, find, near_miss


def files(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"// {name}\n")
    return root


def found(submission: Path, work: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """Which file was found for each gap file (its own first line), and the notes."""
    result = find(submission, work)
    return {gap: path.read_text().removeprefix("// ").strip() for gap, path in result.files.items()}, result.notes


def test_a_students_tree_and_the_top_of_a_folder(tmp_path):
    tree = files(tmp_path / "tree", ["kernel/paging.c", "kernel/process.c", "solutions/paging.c", "user/sh.c"])
    assert found(tree, tmp_path / "w") == ({"paging.c": "kernel/paging.c", "process.c": "kernel/process.c"}, ())
    top = files(tmp_path / "top", ["paging.c", "process.c", "notes.txt"])
    assert found(top, tmp_path / "w")[1] == ()


def test_one_folder_down_as_a_zipped_folder_unpacks(tmp_path):
    sub = files(tmp_path / "sub", ["kestrel-ana/kernel/paging.c", "kestrel-ana/kernel/process.c",
                                   "kestrel-ana/user/sh.c", "__MACOSX/kestrel-ana/kernel/._paging.c"])
    chosen, notes = found(sub, tmp_path / "w")
    assert chosen == {"paging.c": "kestrel-ana/kernel/paging.c", "process.c": "kestrel-ana/kernel/process.c"}
    assert notes == ("found paging.c at kestrel-ana/kernel/paging.c", "found process.c at kestrel-ana/kernel/process.c")


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_keep_their_folders_and_nothing_escapes(tmp_path, kind):
    members = {"kestrel-ana/kernel/paging.c": b"// kestrel-ana/kernel/paging.c\n",
               "kestrel-ana/kernel/process.c": b"// kestrel-ana/kernel/process.c\n",
               "../../escape.c": b"int x;\n", "/abs/escape2.c": b"int y;\n", "kestrel-ana/big.bin": b"\0" * 100}
    archive = tmp_path / f"ana.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
    else:
        with tarfile.open(archive, "w:gz") as t:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    work = tmp_path / "w"
    chosen, notes = found(archive, work)
    assert chosen["paging.c"] == "kestrel-ana/kernel/paging.c"
    assert f"found process.c at ana.{kind}:kestrel-ana/kernel/process.c" in notes
    unpacked = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    assert unpacked == ["unpacked/kestrel-ana/kernel/paging.c", "unpacked/kestrel-ana/kernel/process.c"]
    assert not list(tmp_path.rglob("escape*.c")) and not Path("/abs/escape2.c").exists()


def test_a_folder_with_an_uploaded_archive(tmp_path):
    tree = files(tmp_path / "tree", ["kernel/paging.c", "kernel/process.c"])
    (tmp_path / "upload").mkdir()
    with tarfile.open(tmp_path / "upload" / "handin.tar.gz", "w:gz") as t:
        t.add(tree / "kernel", arcname="kernel")
    assert found(tmp_path / "upload", tmp_path / "w")[0]["process.c"] == "kernel/process.c"


def test_near_miss_names_say_what_was_graded_and_what_was_expected(tmp_path):
    sub = files(tmp_path / "sub", ["Paging.c", "process_lab5.c", "notes.c"])
    chosen, notes = found(sub, tmp_path / "w")
    assert chosen == {"paging.c": "Paging.c", "process.c": "process_lab5.c"}
    assert notes == ("no file named paging.c: graded Paging.c instead (the grader expects paging.c or "
                     "kernel/paging.c; rename it)",
                     "no file named process.c: graded process_lab5.c instead (the grader expects process.c or "
                     "kernel/process.c; rename it)")
    copies = files(tmp_path / "copies", ["paging (1).c", "kernel/process.c"])
    assert found(copies, tmp_path / "w")[0]["paging.c"] == "paging (1).c"
    assert [n for n in ("Paging.c", "lab3-paging.c", "paging (2).c", "PAGING.C") if near_miss("paging.c", n)] == \
        ["Paging.c", "lab3-paging.c", "paging (2).c", "PAGING.C"]
    assert not any(near_miss("paging.c", n) for n in ("pagingtest.c", "mypaging.c", "paging.h", "paging.c.txt"))
    assert not near_miss("process.c", "processes.c")


def test_what_cannot_be_chosen_is_an_error_that_names_the_files(tmp_path):
    twice = files(tmp_path / "twice", ["a/kernel/paging.c", "b/kernel/paging.c", "a/kernel/process.c"])
    with pytest.raises(SubmissionError, match=r"ambiguous gap file paging.c: found a/kernel/paging.c, "
                                              r"b/kernel/paging.c"):
        find(twice, tmp_path / "w")
    none = files(tmp_path / "none", ["paging.c", "main.c"])
    with pytest.raises(SubmissionError, match=r"missing gap file process.c: expected process.c or "
                                              r"kernel/process.c .*found main.c, paging.c"):
        find(none, tmp_path / "w")
    with pytest.raises(SubmissionError, match="no such folder or hand-in archive"):
        find(tmp_path / "nothing", tmp_path / "w")


def test_links_are_never_followed(tmp_path):
    secret = files(tmp_path / "elsewhere", ["process.c"])
    sub = files(tmp_path / "sub", ["kernel/paging.c"])
    os.symlink(secret / "process.c", sub / "kernel" / "process.c")
    with pytest.raises(SubmissionError, match="kernel/process.c is a symbolic link"):
        find(sub, tmp_path / "w")
    linked = tmp_path / "linked"  # a repository whose kernel/ points elsewhere on the grading machine
    linked.mkdir()
    os.symlink(files(tmp_path / "kit", ["paging.c", "process.c"]), linked / "kernel")
    with pytest.raises(SubmissionError, match="missing gap file paging.c"):
        find(linked, tmp_path / "w")
