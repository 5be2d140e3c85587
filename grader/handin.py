"""Hand-in archives: what a student submits, packed by `make handin` and
unpacked (safely) by the grader, the batch tool and the Gradescope package.

An archive holds kernel/paging.c and kernel/process.c, and the answer
files labs ask for (lab.toml `answers`). Unpacking keeps only regular files
with those names, whatever paths the archive gives them, so an archive can
never write outside the grader's private folder.
"""
from __future__ import annotations

import argparse
import sys
import tarfile
import zipfile
from pathlib import Path

from .build import GAP_FILES, ROOT
from .labs import all_labs

MAX_FILE = 1 << 20
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


class HandinError(Exception):
    """An archive that cannot be read; the message says why."""


def answer_files() -> tuple[str, ...]:
    return tuple(a for lab in all_labs() for a in lab.answers)


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES)


def pack(root: Path, out: Path) -> list[str]:
    """Writes `out` (a .tar.gz) with the gap files and answer files found
    under `root`; returns the names packed."""
    names = [f"kernel/{g}" for g in GAP_FILES] + [a for a in answer_files() if (root / a).exists()]
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise HandinError(f"missing {', '.join(missing)}")
    with tarfile.open(out, "w:gz") as tar:
        for name in names:
            tar.add(root / name, arcname=name)
    return names


def unpack(archive: Path, dest: Path) -> Path:
    """Extracts the files the grader reads from `archive` into `dest`
    (flat); returns `dest`."""
    wanted = set(GAP_FILES) | {Path(a).name for a in answer_files()}
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                for info in z.infolist():
                    name = Path(info.filename).name
                    if name in wanted and not info.is_dir() and info.file_size <= MAX_FILE:
                        (dest / name).write_bytes(z.read(info))
        else:
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    name = Path(member.name).name
                    if name in wanted and member.isfile() and member.size <= MAX_FILE:
                        extracted = tar.extractfile(member)
                        if extracted:
                            (dest / name).write_bytes(extracted.read())
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise HandinError(f"cannot read {archive.name}: {e}") from e
    return dest


def main(argv: list[str]) -> int:
    """python3 -m grader handin [--out FILE]: packs this tree's gap files."""
    ap = argparse.ArgumentParser(prog="python3 -m grader handin", description=main.__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "handin.tar.gz")
    args = ap.parse_args(argv)
    try:
        names = pack(ROOT, args.out)
    except HandinError as e:
        print(f"handin: {e}", file=sys.stderr)
        return 1
    print(f"handin: wrote {args.out} with {', '.join(names)}; submit that file.")
    return 0
