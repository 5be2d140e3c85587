"""Similarity check: which submissions share code beyond the skeleton.

    python3 -m grader similarity DIR [--base DIR] [--html FILE] [--top N] [--common N]

DIR holds one submission per student, as for a batch (folders or hand-in
archives). Each submission's gap files are reduced to fingerprints, the way
MOSS does it (winnowing: Schleimer, Wilkerson and Aiken, SIGMOD 2003):

1. Tokens: comments, spacing and preprocessor lines are dropped; every
   identifier that is not a C keyword becomes the same token, so do all
   numbers, and all string and character literals. Renaming, reformatting
   and deleting comments change nothing.
2. Every run of K tokens is hashed; in each window of W consecutive hashes
   the smallest is kept. Two files that share a run of K + W - 1 tokens
   share a fingerprint, wherever the run is: reordering functions only
   loses the runs that cross a function boundary.
3. Code of the base (the skeleton's gap files, which every submission
   starts from) is taken out first: tokens inside a run of K tokens that
   the base also has. Fingerprints found in more than `common` submissions
   (the usual way to write a short function) are ignored: what is left is
   code students wrote, and wrote alike.
4. Pairs are ranked by the fingerprints they share; the matching regions
   are runs of shared fingerprints, mapped back to source lines.
"""
from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import submission
from .build import ROOT

K = 15  # tokens per hashed run (shorter shared runs are noise)
W = 8  # winnowing window: every shared run of K + W - 1 tokens is found
COMMON = 10  # fingerprints in more submissions than this are common code (MOSS's default)
MIN_SHARED = 5  # fewer shared fingerprints than this (a few lines) is no pair
MAX_SOURCE = 1 << 20

KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Bool bool asm __asm__ __volatile__""".split())
# Comments, preprocessor lines and literals, replaced first (keeping the line count).
_JUNK = re.compile(r"""//[^\n]*|/\*.*?(?:\*/|\Z)|^[ \t]*\#(?:\\\n|[^\n])*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""",
                   re.S | re.M)
_TOKEN = re.compile(r"""[A-Za-z_]\w*|\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*|""|->|\+\+|--|<<=|>>=|<<|>>|&&|\|\|
                      |[-+*/%&|^!<>=]=|\S""", re.X)


def _blank(m: re.Match[str]) -> str:
    text = m.group()
    return ('""' if text[0] in "\"'" else "") + "\n" * text.count("\n")


def tokenize(text: str) -> list[tuple[str, int]]:
    """The normalized tokens of C source, each with its 1-based line."""
    out = []
    for line, code in enumerate(_JUNK.sub(_blank, text).split("\n"), 1):
        for token in _TOKEN.findall(code):
            first = token[0]
            if first.isalpha() or first == "_":
                token = token if token in KEYWORDS else "id"
            elif first.isdigit() or (first == "." and len(token) > 1):
                token = "0"
            out.append((token, line))
    return out


def winnow(hashes: list[int], window: int = W) -> dict[int, list[int]]:
    """The fingerprints of a sequence of k-gram hashes: the rightmost
    smallest hash of every window, as {hash: [positions]}."""
    prints: dict[int, list[int]] = {}
    last = -1
    for start in range(max(1, len(hashes) - window + 1)):
        chunk = hashes[start:start + window]
        if not chunk:
            break
        smallest = min(chunk)
        at = start + len(chunk) - 1 - chunk[::-1].index(smallest)
        if at != last:
            prints.setdefault(smallest, []).append(at)
            last = at
    return prints


@dataclass
class Submission:
    """One student's gap files as fingerprints of the code they wrote."""

    name: str
    files: dict[str, str] = field(repr=False)  # gap file name -> source
    places: list[tuple[str, int]] = field(default_factory=list, repr=False)  # (file, line) of each token kept
    prints: dict[int, list[int]] = field(default_factory=dict, repr=False)  # fingerprint -> its runs' starts
    kept: set[int] = field(default_factory=set, repr=False)  # fingerprints that count (not common)


def _runs(ids: list[int]) -> list[int]:
    """The hash of every run of K tokens."""
    return [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]


def base_runs(files: dict[str, str], vocabulary: dict[str, int]) -> frozenset[int]:
    """Every run of the base's files: code that comes from the skeleton."""
    return frozenset(h for text in files.values()
                     for h in _runs([vocabulary.setdefault(kind, len(vocabulary)) for kind, _ in tokenize(text)]))


def fingerprint(name: str, files: dict[str, str], vocabulary: dict[str, int],
                base: frozenset[int] = frozenset()) -> Submission:
    """The fingerprints of each file once the skeleton's code is taken out:
    tokens inside a run the base also has are dropped. No run crosses from
    one file to the next. `vocabulary` numbers token kinds for a whole check."""
    sub = Submission(name, files)
    for file, text in files.items():
        tokens = tokenize(text)
        ids = [vocabulary.setdefault(kind, len(vocabulary)) for kind, _ in tokens]
        skeleton = [0] * (len(ids) + 1)  # +1 where a base run starts, -1 where it ends
        for i, h in enumerate(_runs(ids)):
            if h in base:
                skeleton[i] += 1
                skeleton[i + K] -= 1
        own = [i for i, inside in enumerate(itertools.accumulate(skeleton[:-1])) if not inside]
        offset = len(sub.places)
        sub.places += [(file, tokens[i][1]) for i in own]
        for h, positions in winnow(_runs([ids[i] for i in own])).items():
            sub.prints.setdefault(h, []).extend(p + offset for p in positions)
    return sub


@dataclass(frozen=True)
class Pair:
    a: Submission
    b: Submission
    shared: int  # fingerprints in common

    def share(self, sub: Submission) -> float:
        """The part of `sub`'s own fingerprints that the other one has too."""
        return self.shared / len(sub.kept) if sub.kept else 0.0


@dataclass(frozen=True)
class Region:
    """A stretch of code found in both: (file, first line, last line) each."""

    a: tuple[str, int, int]
    b: tuple[str, int, int]
    fingerprints: int


@dataclass(frozen=True)
class Check:
    submissions: list[Submission]
    pairs: list[Pair]  # best first
    skipped: list[str]  # submissions without gap files, and why
    common: int


def compare(subs: list[Submission], common: int = COMMON) -> list[Pair]:
    """Pairs sharing at least MIN_SHARED fingerprints that are not common,
    best first. Sets each submission's `kept`."""
    counts = Counter(h for sub in subs for h in sub.prints)
    for sub in subs:
        sub.kept = {h for h in sub.prints if counts[h] <= common}
    holders: dict[int, list[int]] = {}
    for i, sub in enumerate(subs):
        for h in sub.kept:
            holders.setdefault(h, []).append(i)
    together = Counter(pair for owners in holders.values() if len(owners) > 1
                       for pair in itertools.combinations(owners, 2))
    pairs = [Pair(subs[i], subs[j], n) for (i, j), n in together.items() if n >= MIN_SHARED]
    return sorted(pairs, key=lambda p: (-p.shared, p.a.name, p.b.name))


def regions(pair: Pair) -> list[Region]:
    """The stretches of code the pair shares, biggest first: shared
    fingerprints taken in the order of `a`, chained while they go forward
    in `b` too, within one file on each side."""
    a, b = pair.a, pair.b
    hits = sorted((pa, b.prints[h][0]) for h in a.kept & b.kept for pa in a.prints[h][:1])
    runs: list[list[tuple[int, int]]] = []
    for pa, pb in hits:
        last = runs[-1][-1] if runs else None
        if (last and 0 <= pb - last[1] <= 3 * (K + W) and pa - last[0] <= 3 * (K + W)
                and a.places[pa][0] == a.places[last[0]][0] and b.places[pb][0] == b.places[last[1]][0]):
            runs[-1].append((pa, pb))
        else:
            runs.append([(pa, pb)])

    def span(sub: Submission, first: int, last: int) -> tuple[str, int, int]:
        end = min(last + K - 1, len(sub.places) - 1)
        while sub.places[end][0] != sub.places[first][0]:
            end -= 1
        return sub.places[first][0], sub.places[first][1], sub.places[end][1]

    found = [Region(span(a, run[0][0], run[-1][0]), span(b, run[0][1], run[-1][1]), len(run)) for run in runs]
    return sorted(found, key=lambda r: -r.fingerprints)


def read_sources(path: Path, work: Path) -> dict[str, str]:
    """A submission's gap files as text, found as grading finds them
    (submission.SubmissionError if there are none)."""
    files = submission.find(path, work).files
    return {name: f.read_bytes()[:MAX_SOURCE].decode("utf-8", errors="replace") for name, f in files.items()}


def check_folder(folder: Path, base: Path, common: int = COMMON) -> Check:
    """Fingerprints every submission of `folder` (found as the batch finds
    them) against the base's gap files, and ranks the pairs."""
    from .batch import find_students  # the one way to find submissions

    vocabulary: dict[str, int] = {}
    subs, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        skeleton = base_runs(read_sources(base, Path(tmp) / "base"), vocabulary)
        for student in find_students(folder):
            try:
                files = read_sources(student.path, Path(tmp) / f"s{len(subs) + len(skipped)}")
            except submission.SubmissionError as e:
                skipped.append(f"{student.name}: {e}")
                continue
            subs.append(fingerprint(student.name, files, vocabulary, skeleton))
    return Check(subs, compare(subs, common), skipped, common)


def main(argv: list[str]) -> int:
    from . import similarity_page
    from .gradebook import BatchError

    ap = argparse.ArgumentParser(prog="python3 -m grader similarity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", type=Path)
    ap.add_argument("--base", type=Path, default=ROOT / "kernel",
                    help="the skeleton's gap files, whose code never counts (default: this tree's kernel/)")
    ap.add_argument("--html", type=Path, metavar="FILE", help="also write the ranking with the matching regions")
    ap.add_argument("--top", type=int, default=20, help="pairs shown (default 20)")
    ap.add_argument("--common", type=int, default=COMMON,
                    help=f"ignore code found in more than N submissions (default {COMMON})")
    args = ap.parse_args(argv)
    try:
        result = check_folder(args.submissions, args.base, args.common)
    except (submission.SubmissionError, BatchError, OSError) as e:
        print(f"similarity: {e}", file=sys.stderr)
        return 1
    print(similarity_page.text(result, args.top))
    if args.html:
        similarity_page.write(result, args.html, args.top)
        print(f"similarity: {args.html}")
    return 0
