"""What the similarity check shows: a ranking in the terminal, and in HTML
the ranking with each pair's matching regions side by side (its own page,
or a section of the batch's index.html)."""
from __future__ import annotations

from pathlib import Path

from . import page
from .page import esc
from .similarity import Check, Pair, Region, Submission, regions

REGIONS_SHOWN = 6  # per pair
LINES_SHOWN = 80  # per side of a region


def text(check: Check, top: int) -> str:
    lines = [f"similarity: {len(check.submissions)} submissions; code of the base and code found in more than "
             f"{check.common} submissions does not count", *[f"  skipped {s}" for s in check.skipped]]
    if not check.pairs:
        return "\n".join(lines + ["no pair shares code beyond that"])
    width = max(len(p.a.name) + len(p.b.name) for p in check.pairs[:top]) + 4
    lines.append(f"{'rank':<6}{'pair':<{width}}{'shared':>7}{'of first':>10}{'of second':>11}")
    for rank, p in enumerate(check.pairs[:top], 1):
        lines.append(f"{rank:<6}{p.a.name + '  ' + p.b.name:<{width}}{p.shared:>7}{p.share(p.a):>10.0%}"
                     f"{p.share(p.b):>11.0%}")
    return "\n".join(lines)


def write(check: Check, path: Path, top: int) -> Path:
    return page.write(path, page.document("Kestrel: similar submissions", section(check, top)))


def section(check: Check, top: int) -> str:
    """The ranking, then each of the `top` pairs' regions side by side."""
    intro = (f"<p>{len(check.submissions)} submissions, fingerprinted as MOSS does (identifiers, numbers, "
             f"comments and layout do not matter). Code of the skeleton, and code found in more than "
             f"{check.common} submissions, does not count. A pair is worth a look, not a verdict: read the "
             f"regions.</p>")
    skipped = "".join(f'<p class="note">skipped {esc(s)}</p>' for s in check.skipped)
    if not check.pairs:
        return f'<h2 id="similarity">Similar submissions</h2>\n{intro}{skipped}<p>No pair shares code.</p>'
    rows = [[str(rank), f'<a href="#pair-{rank}">{esc(p.a.name)} &amp; {esc(p.b.name)}</a>', str(p.shared),
             f"{p.share(p.a):.0%}", f"{p.share(p.b):.0%}"] for rank, p in enumerate(check.pairs[:top], 1)]
    ranking = page.table(["rank", "pair", "shared fingerprints", "of the first's", "of the second's"], rows,
                         numeric=(0, 2, 3, 4), attrs=' id="pairs"')
    details = "\n".join(pair_details(rank, p) for rank, p in enumerate(check.pairs[:top], 1))
    return f'<h2 id="similarity">Similar submissions</h2>\n{intro}{skipped}{ranking}\n{details}'


def pair_details(rank: int, pair: Pair) -> str:
    """The pair's regions side by side (the first pair's open)."""
    found = regions(pair)
    shown = "\n".join(side_by_side(pair, r) for r in found[:REGIONS_SHOWN])
    more = (f'<p class="muted">and {len(found) - REGIONS_SHOWN} smaller regions</p>'
            if len(found) > REGIONS_SHOWN else "")
    return (f'<details id="pair-{rank}"{" open" if rank == 1 else ""}><summary>#{rank} {esc(pair.a.name)} &amp; '
            f"{esc(pair.b.name)}: {pair.shared} shared fingerprints in {len(found)} regions</summary>\n"
            f"{shown}{more}</details>")


def side_by_side(pair: Pair, region: Region) -> str:
    return f'<div class="side">{excerpt(pair.a, region.a)}{excerpt(pair.b, region.b)}</div>'


def excerpt(sub: Submission, where: tuple[str, int, int]) -> str:
    file, first, last = where
    lines = sub.files[file].splitlines()[first - 1:min(last, first + LINES_SHOWN - 1)]
    body = "\n".join(f"{n:>4}  {esc(line)}" for n, line in enumerate(lines, first))
    return f"<div><p><b>{esc(sub.name)}</b> {esc(file)}:{first}-{last}</p><pre>{body}</pre></div>"
