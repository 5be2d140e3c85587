"""Pictures for the HTML pages, as inline SVG: bars, a histogram, and a
memory map. Each function returns one <svg> element; every number drawn is
also in a data-* attribute, so tests read what the picture says."""
from __future__ import annotations

from typing import Sequence

from .page import esc

OWNER_COLORS = {"kernel": "#3b6fd4", "page tables": "#8e5bb5", "heap": "#2a9d8f", "free": "#e4e8ec",
                "reserved": "#6b6b6b"}
# Processes and any other owner: one color each, in order of first appearance.
PALETTE = ("#e76f51", "#e9c46a", "#d62828", "#c77dff", "#52b788", "#f28482", "#4cc9f0", "#b5838d",
           "#f4a261", "#90be6d")


def bars(rows: Sequence[tuple[str, float, float]], width: int = 720, unit: str = "") -> str:
    """Horizontal bars, one per (label, value, maximum); each shows value/maximum."""
    label_w, row_h, bar_w = 220, 22, width - 220 - 170
    out = [f'<svg class="bars" viewBox="0 0 {width} {row_h * len(rows) + 4}" width="{width}" '
           f'height="{row_h * len(rows) + 4}" role="img">']
    for i, (label, value, maximum) in enumerate(rows):
        y = i * row_h + 2
        share = value / maximum if maximum else 0.0
        out.append(f'<g data-label="{esc(label)}" data-value="{value:g}" data-max="{maximum:g}">'
                   f'<title>{esc(label)}: {value:g} of {maximum:g}{esc(unit)}</title>'
                   f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(label)}</text>'
                   f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="{row_h - 6}" fill="#eceff1"/>'
                   f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * share:.1f}" height="{row_h - 6}" '
                   f'fill="{_share_color(share)}"/>'
                   f'<text x="{label_w + bar_w + 6}" y="{y + 14}">{value:g}/{maximum:g}{esc(unit)} '
                   f'({share * 100:.0f}%)</text></g>')
    out.append("</svg>")
    return "".join(out)


def _share_color(share: float) -> str:
    return "#1e7b34" if share >= 0.8 else "#e0a800" if share >= 0.5 else "#b3261e"


def histogram(counts: Sequence[int], edges: Sequence[float], width: int = 640, height: int = 200) -> str:
    """Vertical bars: counts[i] values fell in [edges[i], edges[i + 1]) (the
    last bin includes its upper edge)."""
    top = max(counts, default=0) or 1
    pad, base = 30, height - 24
    slot = (width - 2 * pad) / max(1, len(counts))
    out = [f'<svg class="histogram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">',
           f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#999"/>']
    for i, count in enumerate(counts):
        h = (base - 16) * count / top
        x = pad + i * slot
        label = f"{edges[i]:g}-{edges[i + 1]:g}"
        out.append(f'<g data-bin="{label}" data-count="{count}"><title>{label} points: {count}</title>'
                   f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{slot - 4:.1f}" height="{h:.1f}" '
                   f'fill="#3b6fd4"/>'
                   + (f'<text x="{x + slot / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle">{count}</text>'
                      if count else "")
                   + f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle">{edges[i]:g}</text></g>')
    out.append(f'<text x="{width - pad}" y="{base + 15}" text-anchor="middle">{edges[-1]:g}</text></svg>')
    return "".join(out)


def owner_colors(owners: Sequence[str]) -> dict[str, str]:
    """A color per owner: fixed ones for the kernel's, then the palette."""
    colors: dict[str, str] = {}
    others = 0
    for owner in owners:
        if owner not in colors:
            if owner in OWNER_COLORS:
                colors[owner] = OWNER_COLORS[owner]
            else:
                colors[owner] = PALETTE[others % len(PALETTE)]
                others += 1
    return colors


def memory_map(m: dict, cell: int = 10) -> str:
    """One evidence.MemoryMap: a grid of cells colored by owner, marked cells
    crossed out, and the legend with its counts."""
    cells, legend = list(m["cells"]), dict(m.get("legend", {}))
    marked = set(m.get("marked", ()))
    notes, labels = m.get("notes", {}), m.get("labels", ())
    columns = max(1, int(m.get("columns", 64)))
    colors = owner_colors(list(legend) + cells)
    rows = -(-len(cells) // columns)
    grid_h = rows * cell
    legend_h = 18 * (-(-len(legend) // 3)) + 6
    width = max(columns * cell, 480)
    out = [f'<svg class="memmap" viewBox="0 0 {width} {grid_h + legend_h + 22}" width="{width}" '
           f'height="{grid_h + legend_h + 22}" role="img"><text x="0" y="13" font-weight="bold">'
           f'{esc(m.get("title", "memory"))}</text>']
    for i, owner in enumerate(cells):
        x, y = (i % columns) * cell, 20 + (i // columns) * cell
        tip = " ".join(filter(None, [labels[i] if i < len(labels) else f"cell {i}", owner,
                                     notes.get(str(i), "")]))
        flag = ' data-marked="1"' if i in marked else ""
        out.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{colors[owner]}" '
                   f'data-owner="{esc(owner)}"{flag}>'
                   f'<title>{esc(tip)}</title></rect>')
        if i in marked:
            out.append(f'<path d="M{x} {y}l{cell - 1} {cell - 1}M{x + cell - 1} {y}l{1 - cell} {cell - 1}" '
                       f'stroke="#b3261e" stroke-width="2"/>')
    for j, (owner, count) in enumerate(legend.items()):
        x, y = (j % 3) * (width // 3), grid_h + 28 + (j // 3) * 18
        out.append(f'<g data-owner="{esc(owner)}" data-count="{count}"><rect x="{x}" y="{y}" width="12" '
                   f'height="12" fill="{colors[owner]}" stroke="#999"/><text x="{x + 18}" y="{y + 11}">'
                   f'{esc(owner)}: {count}</text></g>')
    out.append("</svg>")
    return "".join(out)
