"""Finding a submission's gap files: one finder for every entry point
(`--submission`, the batch, Gradescope's run_autograder, `make handin`).

A submission is a folder, a hand-in archive (.tar.gz, .tgz, .tar, .zip), or
a folder holding one archive (an upload Gradescope did not unpack). Inside,
each gap file is found by name:

- at the top or in kernel/ (a student's tree): taken as is;
- deeper, as a zipped folder unpacks (kestrel-ana/kernel/paging.c): the
  shallowest, kernel/ first; the report says where it was found;
- under a near-miss name (Paging.c, process_lab5.c, "paging (1).c") when no
  file has the exact name: taken, and the report says which file it graded
  and what it expected.

Two equally good candidates are an error that names both: grading the
wrong one would be a wrong grade. Symbolic links are never followed (a link
could point at any file of the grading machine), hidden folders and
macOS's __MACOSX/ are skipped, and archives are unpacked by the finder
itself: only regular .c files of at most 1 MiB, under sanitized paths, in
the grader's private folder.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import stubs
from .build import GAP_FILES, ROOT, BuildError, Kernel, build_submission

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
MAX_FILE = 1 << 20  # bytes: no gap file is near this
MAX_DEPTH = 3  # folders between the submission and a gap file: kestrel-ana/kernel/ is 2
MAX_ENTRIES = 20000  # entries looked at in a folder or an archive
_SKIPPED_FOLDERS = {"__MACOSX", "build", "node_modules"}


class SubmissionError(Exception):
    """A submission whose gap files cannot be found; the message says why,
    for a student."""


@dataclass(frozen=True)
class Found:
    """The gap files to grade, and what the student should know about how
    they were found."""

    files: dict[str, Path]  # gap file name -> the file to grade
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    path: Path
    shown: str  # its name in messages, relative to the submission
    depth: int  # folders between the submission and the file

    @property
    def rank(self) -> tuple[int, bool]:
        """Lower is better: shallow first, then in a kernel/ folder."""
        return (self.depth, self.path.parent.name != "kernel")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def student_name(path: Path) -> str:
    """A batch entry's student: the file or folder name without an archive
    suffix."""
    for suffix in ARCHIVE_SUFFIXES:
        if path.name.lower().endswith(suffix):
            return path.name[:-len(suffix)]
    return path.name


def find(submission: Path, work: Path) -> Found:
    """The gap files of `submission` (a folder or an archive); an archive is
    unpacked into `work`/unpacked. Raises SubmissionError."""
    if is_archive(submission):
        return _search(unpack(submission, work / "unpacked"), f"{submission.name}:")
    if not submission.is_dir():
        raise SubmissionError(f"{submission}: no such folder or hand-in archive")
    standard = _standard_places(submission)
    if standard:
        return Found(standard)
    archives = [p for p in sorted(submission.iterdir()) if is_archive(p)]
    if len(archives) == 1 and not _walk(submission):
        return find(archives[0], work)  # an uploaded hand-in archive (Gradescope)
    return _search(submission, "")


def _standard_places(folder: Path) -> dict[str, Path]:
    """Both gap files at the top of `folder` or both in its kernel/, as in a
    student's tree; {} otherwise."""
    for place in (folder, folder / "kernel"):
        files = {g: place / g for g in GAP_FILES}
        if not place.is_symlink() and all(p.is_file() and not p.is_symlink() for p in files.values()):
            return files
    return {}


def _walk(folder: Path) -> list[_Candidate]:
    """The .c files under `folder`, MAX_DEPTH folders deep at most, without
    following links or entering hidden and build folders."""
    found: list[_Candidate] = []
    seen = 0
    stack: list[tuple[Path, int]] = [(folder, 0)]
    while stack:
        here, depth = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES or entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH and entry.name not in _SKIPPED_FOLDERS:
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name.lower().endswith(".c") and (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                path = Path(entry.path)
                found.append(_Candidate(path, path.relative_to(folder).as_posix(), depth))
    return sorted(found, key=lambda c: c.shown)


def near_miss(gap: str, name: str) -> bool:
    """Whether file `name` looks like gap file `gap` under another name:
    Paging.c, process_lab5.c, "paging (1).c", lab3-paging.c."""
    stem = gap.removesuffix(".c")
    return bool(re.search(rf"(?<![a-z0-9]){stem}(?![a-z]).*\.c$", name.lower()))


def _search(folder: Path, prefix: str) -> Found:
    candidates = _walk(folder)
    files: dict[str, Path] = {}
    notes: list[str] = []
    for gap in GAP_FILES:
        exact = [c for c in candidates if c.path.name == gap]
        near = [c for c in candidates if c.path.name not in GAP_FILES and near_miss(gap, c.path.name)]
        chosen = _choose(gap, exact or near, prefix)
        if chosen is None:
            raise SubmissionError(_missing(gap, candidates, prefix))
        files[gap] = chosen.path
        if not exact:
            notes.append(f"no file named {gap}: graded {prefix}{chosen.shown} instead (the grader expects "
                         f"{gap} or kernel/{gap}; rename it)")
        elif chosen.depth > 1 or (chosen.depth == 1 and chosen.path.parent.name != "kernel"):
            notes.append(f"found {gap} at {prefix}{chosen.shown}")
    return Found(files, tuple(notes))


def _choose(gap: str, candidates: list[_Candidate], prefix: str) -> _Candidate | None:
    """The best candidate; an error when two are equally good or the best
    is a link."""
    if not candidates:
        return None
    best_rank = min(c.rank for c in candidates)
    best = [c for c in candidates if c.rank == best_rank]
    if len(best) > 1:
        names = ", ".join(prefix + c.shown for c in best[:4])
        raise SubmissionError(f"ambiguous gap file {gap}: found {names}; keep only the one to grade")
    if best[0].path.is_symlink():
        raise SubmissionError(f"{prefix}{best[0].shown} is a symbolic link: submit the file itself")
    return best[0]


def _missing(gap: str, candidates: list[_Candidate], prefix: str) -> str:
    others = ", ".join(prefix + c.shown for c in candidates[:8]) or "no .c file at all"
    return (f"missing gap file {gap}: expected {gap} or kernel/{gap} in the submission "
            f"(or a folder of it); found {others}")


# ---- Archives ---------------------------------------------------------------

def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path of an archive member as folder names, or None for a member
    that is hidden, macOS metadata, absolute or climbing out (..)."""
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))
    if not parts or name.startswith("/") or any(p == ".." or p.startswith(".") or p == "__MACOSX" for p in parts):
        return None
    return parts


def unpack(archive: Path, dest: Path) -> Path:
    """Extracts the regular .c files of `archive` (at most MAX_FILE bytes
    each) into `dest` (emptied first), keeping their folders; returns `dest`."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        for parts, read in _members(archive):
            if len(parts) <= MAX_DEPTH + 1 and parts[-1].lower().endswith(".c"):
                target = dest.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(read())
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise SubmissionError(f"cannot read {archive.name}: {e}") from e
    return dest


def _members(archive: Path):
    """(path parts, reader) of each regular file of the archive small enough
    to be a gap file."""
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist()[:MAX_ENTRIES]:
                is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                parts = _safe_parts(info.filename)
                if parts and not info.is_dir() and not is_link and info.file_size <= MAX_FILE:
                    yield parts, lambda info=info: z.read(info)
    else:
        with tarfile.open(archive) as tar:
            for count, member in enumerate(tar):
                if count >= MAX_ENTRIES:
                    break
                parts = _safe_parts(member.name)
                if parts and member.isfile() and member.size <= MAX_FILE:
                    yield parts, lambda member=member: tar.extractfile(member).read()


# ---- What grading ignores -------------------------------------------------

def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def changed_outside_gaps() -> list[str]:
    """A warning when this tree has files that differ from the release, gap
    files aside: grading (make grade, make handin, any grader) ignores them,
    so a student should know. A student tree's release is its first commit;
    in the kit itself (which has solutions/), the last commit."""
    release = "HEAD" if (ROOT / "solutions").is_dir() else _git("rev-list", "--max-parents=0", "HEAD").strip()
    if not release:
        return []
    gaps = {f"kernel/{g}" for g in GAP_FILES}
    changed = [f for f in _git("diff", "--name-only", release.splitlines()[0]).splitlines() if f not in gaps]
    if not changed:
        return []
    return [f"warning: grading uses only {', '.join(sorted(gaps))}; these changes are ignored: "
            + ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")]


def build(submission: Path, work: Path, replace: dict[str, Path] | None = None) -> tuple[Kernel, tuple[str, ...]]:
    """Finds the gap files of `submission`, adds the stubs of lab functions
    they lack (grader/stubs.py) and builds them in `work` (grader/build.py);
    returns the kernel and notes for the report. Raises BuildError, a
    missing gap file included."""
    try:
        found = find(submission, work)
    except SubmissionError as e:
        raise BuildError(str(e)) from e
    copies = work / "found"
    shutil.rmtree(copies, ignore_errors=True)
    copies.mkdir(parents=True)
    notes = list(found.notes)
    for name, path in found.files.items():
        if path.stat().st_size > MAX_FILE:
            raise BuildError(f"{name} is larger than {MAX_FILE >> 20} MiB")
        shutil.copyfile(path, copies / name)
        if name not in (replace or {}):
            notes += stubs.add_missing(copies / name)
    files = {name: copies / name for name in found.files}
    return build_submission(files, work, replace), tuple(notes)
