"""The memory map's data form, on the host.

The kernel prints the map as a block of text on the serial console
(kernel/memmap_print.c: the shell's `memmap`, and trusted checks before
they fail); GDB's `memmap` computes the same block from physical memory
(grader/memwalk.py). This module parses a block into a MemMap and draws
it back: as the same text (`render`), with ANSI colours (`render(color=
True)`, GDB and terminals), and gives the colours an SVG needs (`RGB`,
`attribute`). The kernel draws the VGA screen from the same data with the
same colours (kernel/memmap_vga.c); the tests compare them.

    memmap: RAM 0x02000000, 8192 frames, 8 frames a cell, paging on
      owners: K kernel 135 | T page tables 143 | H kernel heap 0 | L lost 0 | ! wrong 0 | # reserved 256 | . free 7621
      processes: a pid 1 init 18 | b pid 2 sh 19          (a bare directory: c dir 0x0011a000 4)
          0M ####KKKKTTTTaabb....                          up to 16 rows of 64 cells
      view: pid 2 (sh), directory 0x010af000, 16 MiB a cell     (or: view: none, paging is off)
      pages: I identity 8191 | b user 19 | H kernel heap 0 | K kernel 0 | ! wrong 0
          0G II......                                      4 rows of 64 cells, 1 GiB each
      ! shared 0x0012a000 0x40001000 frame 0x0012a000 is page ...   a wrong entry: kind, frame, page, why
      ! 3 more
    memmap: end

Keys (cells of physical memory): K kernel image and mappings, T page
directories and tables, H kernel heap, a-z one process's user pages ('*'
after z), L lost (in use, owned by nothing), ! wrong (see the marks),
# reserved, . free. Virtual cells: I identity map, the process's key (U for
a directory no process owns), H heap, K kernel, ! wrong, . nothing.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

COLS = 64  # cells in a row
VIRT_CELL = 16 << 20  # bytes of virtual memory a cell covers
OWNER_KEYS = "KTHL!#."  # the fixed owners, in the legend's order
MARK_KINDS = ("shared", "freed", "kernel", "beyond", "lost", "hole", "moved", "exposed")

_HEADER = re.compile(r"^memmap: RAM 0x([0-9a-f]{8}), (\d+) frames, (\d+) frames a cell, paging (on|off)$")
_END = "memmap: end"
_ROW = re.compile(r"^\s+(\d+)([MG]) (\S+)$")
_ITEM = re.compile(r"^(\S) (.+) (\d+)$")
_SPACE = re.compile(r"^(\S) (?:pid (\d+) (\S+)|dir 0x([0-9a-f]{8})) (\d+)$")
_VIEW = re.compile(r"^  view: (.+?)(?:, directory 0x([0-9a-f]{8}))?, 16 MiB a cell$")
_VIEW_BARE = re.compile(r"^directory 0x([0-9a-f]{8})$")
_MARK = re.compile(r"^  ! ([a-z]+) (0x[0-9a-f]{8}|-) (0x[0-9a-f]{8}|-) (.*)$")
_MORE = re.compile(r"^  ! (\d+) more$")


class MemMapError(ValueError):
    """A block that does not follow the format."""


@dataclass(frozen=True)
class Owner:
    """A legend item: a key, what it stands for, and its frames (pages)."""

    key: str
    name: str
    count: int


@dataclass(frozen=True)
class Space:
    """An address space the map walked: a process (pid > 0) or a bare
    directory (pid 0), and the user pages it maps."""

    key: str
    pid: int
    name: str
    pd_phys: int  # 0 when the block does not say (processes)
    pages: int

    def label(self) -> str:
        return f"pid {self.pid} {self.name}" if self.pid else f"dir {self.pd_phys:#010x}"


@dataclass(frozen=True)
class View:
    """One directory's 4 GiB, 16 MiB a cell."""

    title: str  # "pid 2 (sh)", "the kernel", "" for a bare directory
    pd_phys: int
    counts: tuple[Owner, ...]  # I identity, <key> user, H kernel heap, K kernel, ! wrong
    cells: str  # 256 keys

    @property
    def key(self) -> str:
        """What its user pages show as."""
        return self.counts[1].key

    @staticmethod
    def cell(addr: int) -> int:
        """The cell holding virtual address `addr` (an index of `cells`)."""
        return addr // VIRT_CELL


@dataclass(frozen=True)
class Mark:
    """A wrong entry: its kind (MARK_KINDS), the frame and the page it is
    about (None when it names none), and why it is wrong, in words."""

    kind: str
    phys: int | None
    virt: int | None
    text: str


@dataclass(frozen=True)
class MemMap:
    ram_end: int
    frames: int
    per_cell: int
    paging: bool
    owners: tuple[Owner, ...]  # in OWNER_KEYS order
    spaces: tuple[Space, ...]
    cells: str  # one key per cell of physical memory
    view: View | None
    marks: tuple[Mark, ...]
    more_marks: int = 0  # marks found beyond those listed

    def owner(self, key: str) -> int:
        """Frames of a fixed owner (OWNER_KEYS), or user pages of a space."""
        for item in (*self.owners, *(Owner(s.key, s.label(), s.pages) for s in self.spaces)):
            if item.key == key:
                return item.count
        raise KeyError(key)

    def space(self, pid: int) -> Space | None:
        return next((s for s in self.spaces if s.pid == pid), None)

    def phys_cell(self, addr: int) -> int:
        """The cell of physical memory holding `addr` (an index of `cells`)."""
        return addr // 4096 // self.per_cell


# ---- Parsing -------------------------------------------------------------------

def blocks(lines: Sequence[str]) -> list[tuple[int, MemMap]]:
    """Every block of a serial log that parses, with the index of its end
    line, in order. A block cut short (the kernel stopped while printing it)
    or malformed (any code can print) is left out."""
    found, start = [], None
    for i, line in enumerate(lines):
        if _HEADER.match(line):
            start = i
        elif start is not None and line == _END:
            try:
                found.append((i, parse(lines[start:i + 1])))
            except MemMapError:
                pass
            start = None
    return found


def find_all(lines: Sequence[str]) -> list[MemMap]:
    return [m for _, m in blocks(lines)]


def last(lines: Sequence[str]) -> MemMap | None:
    maps = find_all(lines)
    return maps[-1] if maps else None


def just_before(lines: Sequence[str], index: int) -> MemMap | None:
    """The block whose end line is line `index - 1`: the map trusted code
    printed right before it wrote line `index` (a failure, say)."""
    return next((m for end, m in blocks(lines) if end == index - 1), None)


def without_blocks(lines: Sequence[str]) -> list[str]:
    """The lines of a log outside its complete blocks (header to end line),
    for context in reports; a block cut short stays."""
    drop, start = set(), None
    for i, line in enumerate(lines):
        if _HEADER.match(line):
            start = i
        elif start is not None and line == _END:
            drop.update(range(start, i + 1))
            start = None
    return [line for i, line in enumerate(lines) if i not in drop]


def parse(block: Sequence[str]) -> MemMap:
    """A block, header to end line, as a MemMap. Raises MemMapError."""
    lines = list(block)
    header = _HEADER.match(lines[0]) if lines else None
    if not header or lines[-1] != _END:
        raise MemMapError("a memory map block starts with 'memmap: RAM ...' and ends with 'memmap: end'")
    ram_end, frames, per_cell = int(header[1], 16), int(header[2]), int(header[3])
    body = iter(lines[1:-1])
    owners = _items(_field(next(body, ""), "owners"))
    if "".join(o.key for o in owners) != OWNER_KEYS:
        raise MemMapError(f"owners: expected the keys {OWNER_KEYS}")
    spaces = _spaces(_field(next(body, ""), "processes"))
    rest = list(body)
    view_at = next((i for i, line in enumerate(rest) if line.startswith("  view: ")), None)
    if view_at is None:
        raise MemMapError("no view line")
    cells = _rows(rest[:view_at], "M")
    if len(cells) != (frames + per_cell - 1) // per_cell:
        raise MemMapError(f"{len(cells)} cells of physical memory for {frames} frames, {per_cell} a cell")
    view, rest = _view(rest[view_at:])
    marks, more = _marks(rest)
    return MemMap(ram_end, frames, per_cell, header[4] == "on", owners, spaces, cells, view, marks, more)


def _field(line: str, name: str) -> str:
    prefix = f"  {name}:"
    if not line.startswith(prefix):
        raise MemMapError(f"expected '{prefix}', got {line!r}")
    return line[len(prefix):].strip()


def _items(text: str) -> tuple[Owner, ...]:
    items = []
    for part in text.split(" | "):
        m = _ITEM.match(part)
        if not m:
            raise MemMapError(f"bad legend item {part!r}")
        items.append(Owner(m[1], m[2], int(m[3])))
    return tuple(items)


def _spaces(text: str) -> tuple[Space, ...]:
    if text == "none":
        return ()
    spaces = []
    for part in text.split(" | "):
        m = _SPACE.match(part)
        if not m:
            raise MemMapError(f"bad process item {part!r}")
        if m[2]:
            spaces.append(Space(m[1], int(m[2]), m[3], 0, int(m[5])))
        else:
            spaces.append(Space(m[1], 0, "dir", int(m[4], 16), int(m[5])))
    return tuple(spaces)


def _rows(lines: Sequence[str], unit: str) -> str:
    cells = ""
    for line in lines:
        m = _ROW.match(line)
        if not m or m[2] != unit:
            raise MemMapError(f"bad row {line!r}")
        cells += m[3]
    return cells


def _view(lines: list[str]) -> tuple[View | None, list[str]]:
    if lines[0] == "  view: none, paging is off":
        return None, lines[1:]
    m = _VIEW.match(lines[0])
    if not m or len(lines) < 6:
        raise MemMapError(f"bad view line {lines[0]!r}")
    title, pd = m[1], m[2]
    bare = _VIEW_BARE.match(title)
    if bare:
        title, pd = "", bare[1]
    counts = _items(_field(lines[1], "pages"))
    cells = _rows(lines[2:6], "G")
    if len(cells) != 4 * COLS or len(counts) != 5:
        raise MemMapError("a view has 5 counts and 4 rows of 64 cells")
    return View(title, int(pd, 16), counts, cells), lines[6:]


def _marks(lines: list[str]) -> tuple[tuple[Mark, ...], int]:
    marks, more = [], 0
    for line in lines:
        m, extra = _MARK.match(line), _MORE.match(line)
        if extra:
            more = int(extra[1])
        elif m and m[1] in MARK_KINDS:
            marks.append(Mark(m[1], _address(m[2]), _address(m[3]), m[4]))
        else:
            raise MemMapError(f"bad line {line!r}")
    return tuple(marks), more


def _address(text: str) -> int | None:
    return None if text == "-" else int(text, 16)


# ---- Colours -------------------------------------------------------------------

# The 16 VGA colours, as QEMU draws them.
RGB = ((0x00, 0x00, 0x00), (0x00, 0x00, 0xAA), (0x00, 0xAA, 0x00), (0x00, 0xAA, 0xAA),
       (0xAA, 0x00, 0x00), (0xAA, 0x00, 0xAA), (0xAA, 0x55, 0x00), (0xAA, 0xAA, 0xAA),
       (0x55, 0x55, 0x55), (0x55, 0x55, 0xFF), (0x55, 0xFF, 0x55), (0x55, 0xFF, 0xFF),
       (0xFF, 0x55, 0x55), (0xFF, 0x55, 0xFF), (0xFF, 0xFF, 0x55), (0xFF, 0xFF, 0xFF))
_FIXED = {".": 0x08, "#": 0x87, "K": 0x70, "T": 0x6F, "H": 0xE0, "L": 0xCF, "!": 0x4E, "I": 0x8F, "U": 0x1F,
          "*": 0x7F}
_PROCESSES = (0x1F, 0x2F, 0x30, 0x5F, 0x90, 0xA0, 0xB0, 0xD0)
PLAIN = 0x07


def attribute(key: str) -> int:
    """The VGA attribute of a cell (background << 4 | foreground), as
    kernel/memmap_vga.c draws it."""
    if key in _FIXED:
        return _FIXED[key]
    if "a" <= key <= "z":
        return _PROCESSES[(ord(key) - ord("a")) % len(_PROCESSES)]
    return PLAIN


_ANSI = (0, 4, 2, 6, 1, 5, 3, 7)  # VGA colour order -> ANSI's


def ansi(attr: int, text: str) -> str:
    """`text` in the colours of a VGA attribute, for a terminal."""
    def code(colour: int, base: int) -> int:
        return (base + 60 if colour >= 8 else base) + _ANSI[colour % 8]

    return f"\x1b[{code(attr & 15, 30)};{code(attr >> 4, 40)}m{text}\x1b[0m"


# ---- Drawing -------------------------------------------------------------------

def render(m: MemMap, color: bool = False) -> str:
    """The block, as the kernel prints it; with `color`, each key in its
    cell's colours (strip the escapes and it is the same text)."""
    def keys(text: str) -> str:
        if not color:
            return text
        return "".join(ansi(attribute(k), "".join(run)) for k, run in itertools.groupby(text))

    def items(owners: Iterable[Owner]) -> str:
        return " |".join(f" {keys(o.key)} {o.name} {o.count}" for o in owners)

    out = [f"memmap: RAM {m.ram_end:#010x}, {m.frames} frames, {m.per_cell} frames a cell, "
           f"paging {'on' if m.paging else 'off'}",
           "  owners:" + items(m.owners),
           "  processes:" + (items(Owner(s.key, s.label(), s.pages) for s in m.spaces) if m.spaces else " none")]
    out += _row_lines(m.cells, m.per_cell // 4, "M", keys)
    if m.view is None:
        out.append("  view: none, paging is off")
    else:
        title = f"{m.view.title}, directory {m.view.pd_phys:#010x}" if m.view.title else \
            f"directory {m.view.pd_phys:#010x}"
        out += [f"  view: {title}, 16 MiB a cell", "  pages:" + items(m.view.counts)]
        out += _row_lines(m.view.cells, 1, "G", keys)
    for mark in m.marks:
        out.append(f"  ! {mark.kind} {_hex(mark.phys)} {_hex(mark.virt)} {mark.text}")
    if m.more_marks:
        out.append(f"  ! {m.more_marks} more")
    out.append(_END)
    return "\n".join(out)


def _row_lines(cells: str, per_row: int, unit: str, keys) -> list[str]:
    return [f"  {at // COLS * per_row:5d}{unit} {keys(cells[at:at + COLS])}" for at in range(0, len(cells), COLS)]


def _hex(value: int | None) -> str:
    return "-" if value is None else f"{value:#010x}"


def picture(m: MemMap) -> str:
    """A map for a failure report: what its keys mean, the map, and the
    wrong entries it found, if any."""
    found = len(m.marks) + m.more_marks
    head = (f"memory map when the check failed ({found} wrong entr{'y' if found == 1 else 'ies'}, marked ! and "
            "listed at the end):" if found else "memory map when the check failed:")
    legend = ("  keys: K kernel, T page tables, H kernel heap, a-z processes (user pages), L lost: in use, owned "
              "by nothing, ! wrong, # reserved, . free; virtual: I identity map")
    return "\n".join([head, legend, *("  " + line for line in render(m).splitlines())])
