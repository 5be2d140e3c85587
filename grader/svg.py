"""Pictures for the HTML pages, as inline SVG: bars, a histogram, and a
memory map. Each function returns one <svg> element; every number drawn is
also in a data-* attribute, so tests read what the picture says."""
from __future__ import annotations

from typing import Sequence

from .page import esc

# Colors of keys a map gives none for: by what the legend calls them, else
# one of the palette each (processes), in the legend's order.
NAMED = {"free": "#eef1f4", "reserved": "#6b6b6b", "kernel": "#3b6fd4", "page tables": "#8e5bb5",
         "kernel heap": "#2a9d8f", "identity": "#a9bfe8", "lost": "#f4a261", "wrong": "#d62828"}
PALETTE = ("#e76f51", "#e9c46a", "#52b788", "#c77dff", "#f28482", "#4cc9f0", "#b5838d", "#90be6d", "#ff9f1c",
           "#6d597a")
UNKNOWN = "#ffffff"  # a cell whose key the legend does not have

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


def key_colors(m: dict) -> dict[str, str]:
    """A color for each key of a memory map: the map's own, else the palette."""
    colors, others = {}, 0
    for item in m.get("legend", ()):
        if item["name"] in NAMED:
            colors[item["key"]] = NAMED[item["name"]]
        else:
            colors[item["key"]] = PALETTE[others % len(PALETTE)]
            others += 1
    return colors | m.get("colors", {})


def cell_place(m: dict, i: int) -> str:
    """Where cell `i` of a memory map is: its address range, or its number."""
    size = int(m.get("cell_bytes", 0))
    return f"{i * size:#010x}-{(i + 1) * size - 1:#010x}" if size else f"cell {i}"


def _size(n: int) -> str:
    return f"{n >> 30}G" if n and n % (1 << 30) == 0 else f"{n >> 20}M"


def memory_map(m: dict, cell: int = 10) -> str:
    """One evidence.MemoryMap: a grid of cells colored by owner (rows
    labelled with their first address when the map gives cell_bytes),
    marked cells crossed out, and the legend with its counts."""
    cells, legend = m["cells"], list(m.get("legend", ()))
    marked, notes = set(m.get("marked", ())), m.get("notes", {})
    columns, cell_bytes = max(1, int(m.get("columns", 64))), int(m.get("cell_bytes", 0))
    colors, names = key_colors(m), {item["key"]: item["name"] for item in legend}
    left = 44 if cell_bytes else 0
    grid_h = -(-len(cells) // columns) * cell
    width = max(left + columns * cell, 480)
    height = grid_h + 18 * -(-len(legend) // 3) + 28
    out = [f'<svg class="memmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
           f'<text x="0" y="13" font-weight="bold">{esc(m.get("title", "memory"))}</text>']
    for i, key in enumerate(cells):
        x, y = left + (i % columns) * cell, 20 + (i // columns) * cell
        if cell_bytes and i % columns == 0:
            out.append(f'<text x="{left - 4}" y="{y + cell - 1}" text-anchor="end">{_size(i * cell_bytes)}</text>')
        tip = " ".join(filter(None, [cell_place(m, i), names.get(key, key), notes.get(str(i), "")]))
        flag = ' data-marked="1"' if i in marked else ""
        out.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{colors.get(key, UNKNOWN)}" '
                   f'stroke="#ccc" stroke-width="0.5" data-key="{esc(key)}"{flag}><title>{esc(tip)}</title></rect>')
        if i in marked:
            out.append(f'<path d="M{x} {y}l{cell - 1} {cell - 1}M{x + cell - 1} {y}l{1 - cell} {cell - 1}" '
                       f'stroke="#111" stroke-width="2"/>')
    for j, item in enumerate(legend):
        x, y = (j % 3) * (width // 3), grid_h + 28 + (j // 3) * 18
        out.append(f'<g data-key="{esc(item["key"])}" data-count="{item["count"]}"><rect x="{x}" y="{y}" '
                   f'width="12" height="12" fill="{colors[item["key"]]}" stroke="#999"/><text x="{x + 18}" '
                   f'y="{y + 11}">{esc(item["name"])}: {item["count"]}</text></g>')
    out.append("</svg>")
    return "".join(out)
