"""The memory map: the kernel's (kernel/memmap*.c), the data form and its
drawings (grader/memmap.py), the GDB helper's twin (grader/memwalk.py,
tools/gdb/kestrel/memmap.py) and the failure reports that show it.

Kernel side: the harness tests of kernel/selftest/memmap.c check the legend
against the PMM and the page tables with trusted code, at 32 MiB, an odd
size and 1 GiB; here the printed blocks are checked too. The shell is driven
over serial with a VGA card, and QEMU's screendump must show the colours of
the block. GDB's memmap must print the very block the kernel printed, on a
healthy kernel, on a directory broken in every way, and before paging.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from grader import memmap, memwalk, qemu, svg
from grader.build import ROOT
from grader.qemu import Outcome

from .qmp import Qmp
from .submissions import grade, make_submission
from .test_gdb import debug, paused

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---- The data form, on synthetic memory ------------------------------------------

class FakeRam:
    """Physical memory as pages of 1024 words, zero where nothing was set."""

    def __init__(self) -> None:
        self.pages: dict[int, list[int]] = {}

    def set(self, addr: int, value: int) -> None:
        self.pages.setdefault(addr & ~0xFFF, [0] * 1024)[(addr & 0xFFF) // 4] = value

    def read_words(self, addr: int, count: int) -> list[int]:
        assert count == 1024 and addr % 4096 == 0
        return list(self.pages.get(addr, [0] * 1024))


def bitmap(frames: int, bits: set[int]) -> bytes:
    out = bytearray(frames // 8)
    for f in bits:
        out[f // 8] |= 1 << (f % 8)
    return bytes(out)


def synthetic_machine() -> memwalk.Machine:
    """8 MiB of RAM: the kernel image at 1 MiB, a master directory with an
    identity map missing 10 pages and one heap page, and two processes: pid 7
    forked from pid 5, with one page shared instead of copied and one page
    whose frame was freed; one frame in use that nothing owns."""
    ram = FakeRam()
    frames = 2048
    master, ident0, ident1, heap_table, heap_page = 0x200000, 0x201000, 0x202000, 0x203000, 0x204000
    ram.set(master, ident0 | 3)
    ram.set(master + 4, ident1 | 3)
    for page in range(1, 2048):
        if not 1024 + 10 <= page < 1024 + 20:
            ram.set((ident0 if page < 1024 else ident1) + page % 1024 * 4, page * 4096 | 3)
    ram.set(master + 832 * 4, heap_table | 3)
    ram.set(heap_table, heap_page | 3)
    spaces = {5: (0x210000, 0x211000, [0x218000, 0x213000]), 7: (0x220000, 0x221000, [0x222000, 0x213000, 0x301000])}
    for pd, table, pages in spaces.values():
        ram.set(pd, ident0 | 3)
        ram.set(pd + 4, ident1 | 3)
        ram.set(pd + 832 * 4, heap_table | 3)
        ram.set(pd + 256 * 4, table | 7)
        for i, frame in enumerate(pages):
            ram.set(table + i * 4, frame | 7)
    managed = set(range(0x180, frames))
    taken = {a // 4096 for a in (master, ident0, ident1, heap_table, heap_page, 0x210000, 0x211000, 0x218000,
                                 0x213000, 0x220000, 0x221000, 0x222000, 0x308000)}
    return memwalk.Machine(ram_end=frames * 4096, kernel_end=0x17F800, paging=True, master=master,
                           processes=[memwalk.Process(7, b"sh", 0x220000), memwalk.Process(5, b"sh", 0x210000)],
                           managed=bitmap(frames, managed), used=bitmap(frames, taken), read_words=ram.read_words)


def test_walk_finds_owners_and_wrong_entries():
    m = memwalk.build(synthetic_machine(), pid=7)
    counts = {o.key: o.count for o in m.owners}
    user_frames = 2  # 0x218000 and 0x222000; the shared and the freed frame are wrong
    assert counts == {"K": 128, "T": 8, "H": 1, "L": 1, "!": 2, "#": 256,
                      ".": 2048 - 128 - 8 - 1 - 1 - 2 - 256 - user_frames}
    assert [(s.key, s.pid, s.pages) for s in m.spaces] == [("a", 5, 2), ("b", 7, 3)]  # in pid order
    assert m.per_cell == 4 and len(m.cells) == 512
    assert [(k.kind, k.phys, k.virt) for k in m.marks] == [
        ("shared", 0x213000, 0x40001000), ("freed", 0x301000, 0x40002000), ("lost", 0x308000, None),
        ("hole", None, 0x40A000)]
    assert "page 0x40001000 of pid 5 (sh) and page 0x40001000 of pid 7 (sh)" in m.marks[0].text
    assert m.marks[3].text.startswith("10 pages of RAM from 0x0040a000 not mapped")
    cell = m.cells
    assert cell[0x213 // 4] == cell[0x301 // 4] == "!" and cell[0x308 // 4] == "L"
    assert cell[0x218 // 4] == "a" and cell[0x222 // 4] == "b" and cell[0x204 // 4] == "H"
    assert cell[0x200 // 4] == "T" and cell[0x100 // 4] == "K" and cell[0] == "#" and cell[0x400 // 4] == "."
    view = m.view
    assert view is not None and view.title == "pid 7 (sh)" and view.key == "b"
    assert [o.count for o in view.counts] == [2047 - 10, 1, 1, 0, 10 + 2]  # the shared and freed pages are wrong
    assert view.cells[0] == "!" and view.cells[64] == "!" and view.cells[832 // 4] == "H"


def test_block_round_trip_and_colours():
    m = memwalk.build(synthetic_machine(), pid=5)
    text = memmap.render(m)
    assert memmap.parse(text.splitlines()) == m
    assert memmap.render(memmap.parse(text.splitlines())) == text
    coloured = memmap.render(m, color=True)
    assert "\x1b[" in coloured and ANSI.sub("", coloured) == text
    assert memmap.attribute("!") >> 4 == 4 and memmap.attribute("a") != memmap.attribute("b")


def test_forged_and_cut_blocks_are_ignored():
    good = memmap.render(memwalk.build(synthetic_machine())).splitlines()
    forged = [good[0], "  owners: junk", "memmap: end"]
    cut = good[:5]
    lines = ["boot", *forged, *cut, "x", *good, "[harness] FAIL: it"]
    assert memmap.find_all(lines) == [memmap.parse(good)]
    assert memmap.just_before(lines, len(lines) - 1) == memmap.parse(good)
    assert memmap.just_before(lines, len(lines) - 2) is None  # only a block right before the line counts
    assert memmap.without_blocks(lines) == ["boot", *cut, "x", "[harness] FAIL: it"]


# ---- Kernel tests --------------------------------------------------------------------

def passes(boot_reference, test: str, mem: int) -> list[str]:
    result = boot_reference(test, mem=mem, timeout=30)
    assert result.outcome is Outcome.PASS, f"{result.message}\n" + "\n".join(result.lines[-30:])
    return list(result.lines)


def test_map_before_paging(boot_reference):
    lines = passes(boot_reference, "memmap_early", 32)
    (m,) = memmap.find_all(lines)
    assert not m.paging and m.view is None and not m.spaces
    assert m.owner("T") == m.owner("H") == 0 and set(m.cells) <= set("K#.")
    assert sum(o.count for o in m.owners) == m.frames


@pytest.mark.parametrize("mem", [32, 98, 1024])  # 98 MiB: not a multiple of 4 MiB
def test_legend_equals_pmm_and_page_tables(boot_reference, mem):
    """The kernel checks its legend against pmm_free_count, ptwalk and the
    directories (memmap_legend); the block it prints says the same, and is
    scaled to RAM: a power of two of frames a cell, at most 1024 cells."""
    lines = passes(boot_reference, "memmap_legend", mem)
    said = next(line for line in lines if line.startswith("[test] memmap_legend:"))
    free, tables, pid1, pages1, pid2, pages2 = map(int, re.findall(r"\d+", said.split(":", 1)[1]))
    (m,) = memmap.find_all(lines)
    assert m.owner(".") == free and m.owner("T") == tables
    assert [(s.pid, s.pages) for s in m.spaces] == [(pid1, pages1), (pid2, pages2)]
    assert sum(o.count for o in m.owners) + pages1 + pages2 == m.frames == m.ram_end // 4096
    assert m.ram_end > (mem - 1) << 20
    assert m.per_cell & (m.per_cell - 1) == 0 and (m.per_cell == 4 or m.frames > m.per_cell // 2 * 1024)
    assert len(m.cells) == -(-m.frames // m.per_cell) <= 1024
    assert m.owner("L") == m.owner("!") == 0 and not m.marks
    assert m.view is not None and m.view.title == f"pid {pid2} (t_sleep)"


def test_broken_directory_is_drawn_not_followed(boot_reference):
    """A directory with a table beyond RAM, a shared frame, a freed one, a
    kernel frame in user space, a page beyond RAM, two holes in the identity
    map, a moved page and a user-accessible one: the kernel survives and
    marks each, in the order it finds them."""
    lines = passes(boot_reference, "memmap_broken", 32)
    said = next(line for line in lines if line.startswith("[test] memmap_broken:"))
    pd, shared, freed, _ = (int(x, 16) for x in re.findall(r"0x([0-9a-f]{8})", said))
    (m,) = memmap.find_all(lines)
    assert [(k.kind, k.phys, k.virt) for k in m.marks] == [
        ("beyond", 0xFFFFF000, 0x40400000), ("shared", shared, 0x40001000), ("freed", freed, 0x40002000),
        ("kernel", 0x100000, 0x40003000), ("beyond", 0xFFFFF000, 0x40004000), ("hole", None, 0x400000),
        ("moved", 0xC00000, 0x800000), ("exposed", None, 0x801000)]
    assert m.more_marks == 1
    assert all(m.cells[m.phys_cell(f)] == "!" for f in (shared, freed, 0x100000))
    assert m.owner("!") == 3  # the shared, the freed and the kernel's frame
    assert m.view is not None and m.view.pd_phys == pd and m.view.title == ""
    assert m.view.cells[m.view.cell(0x400000)] == m.view.cells[m.view.cell(0x40000000)] == "!"
    assert m.spaces == (memmap.Space("a", 0, "dir", pd, 4),)


# ---- The shell, the screen and the live view -------------------------------------------

def nearest_colour(rgb: bytes) -> int:
    return min(range(16), key=lambda i: sum((a - b) ** 2 for a, b in zip(memmap.RGB[i], rgb)))


def screen(ppm: bytes) -> list[list[tuple[int, int | None]]]:
    """The 80x25 text screen of a screendump: (background, foreground) of
    each cell, as VGA colour numbers (foreground None when the cell shows no
    glyph pixel)."""
    _, size, _, pixels = ppm.split(b"\n", 3)
    width, height = map(int, size.split())
    cw, ch = width // 80, height // 25
    rows = []
    for r in range(25):
        row = []
        for c in range(80):
            seen = Counter(pixels[3 * (y * width + x):3 * (y * width + x) + 3]
                           for y in range(r * ch, (r + 1) * ch) for x in range(c * cw, (c + 1) * cw))
            colours = [nearest_colour(rgb) for rgb, _ in seen.most_common()]
            row.append((colours[0], colours[1] if len(colours) > 1 else None))
        rows.append(row)
    return rows


class Vga:
    """The reference kernel booted as `make qemu` boots it (a VGA card,
    SeaBIOS to set text mode), its serial port on pipes, QMP on a socket."""

    def __init__(self, kernel: Path, mem: int, tmp: Path) -> None:
        self.qmp_path = tmp / "qmp"
        request = qemu.RunRequest(kernel, None, {}, mem_mb=mem)
        argv = [a for a in request.argv(self.qmp_path) if a not in qemu.fast_firmware()] + ["-device", "VGA"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.out = b""
        self.dumps = tmp

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            stream.close()

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> list[str]:
        """Reads serial output until `text` was printed `count` times."""
        deadline = time.monotonic() + timeout
        while self.out.count(text.encode()) < count:
            assert time.monotonic() < deadline and self.proc.poll() is None, \
                f"no {text!r} x{count} on the serial port:\n{self.out.decode(errors='replace')[-3000:]}"
            try:
                self.out += os.read(self.proc.stdout.fileno(), 65536)
            except BlockingIOError:
                time.sleep(0.01)
        return qemu.decode_lines(self.out)

    def type(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def monitor(self, command: str, **arguments: object) -> object:
        with Qmp(self.qmp_path) as q:
            return q.execute(command, **arguments)

    def screen(self) -> list[list[tuple[int, int | None]]]:
        path = self.dumps / f"screen-{time.monotonic_ns()}.ppm"
        self.monitor("screendump", filename=str(path))
        return screen(path.read_bytes())

    def screen_when(self, ready, what: str, timeout: float = 60) -> list[list[tuple[int, int | None]]]:
        """The screen, once `ready(screen)` holds (the guest draws from its
        timer, which a loaded machine may delay)."""
        deadline = time.monotonic() + timeout
        while not ready(rows := self.screen()):
            assert time.monotonic() < deadline, f"the screen never showed {what}"
            time.sleep(0.1)
        return rows


@pytest.fixture
def vga(reference_kernel, tmp_path):
    session = Vga(reference_kernel, 64, tmp_path)
    yield session
    session.close()


def check_screen(rows, m: memmap.MemMap) -> None:
    """The screen shows map `m` in its colours (kernel/memmap_vga.c's layout:
    physical cells from row 1, column 5; the view's from row 20)."""
    assert all(bg == 1 for bg, _ in rows[0]), "row 0 is the blue title bar"
    assert m.view is not None
    drawn = [(m.cells, 1), (m.view.cells, 20)]
    for cells, top in drawn:
        for i, key in enumerate(cells):
            bg, fg = rows[top + i // 64][5 + i % 64]
            attr = memmap.attribute(key)
            assert bg == attr >> 4 and fg in (None, attr & 15), \
                f"cell {i} of row {top + i // 64} ({key!r}) is drawn {bg}/{fg}, expected {attr >> 4}/{attr & 15}"


def glyphs(row) -> int:
    return sum(fg is not None for _, fg in row)


def test_shell_memmap_on_screen_serial_and_live(vga):
    """`memmap` draws the block's colours on the screen, the prompt below.
    With the live view on (F1), `memfork 8` draws the map before fork, in the
    child, after the child exited: the child's pages are copies (no frame
    wrong), and its frames come back. The live view is redrawn from the
    timer (its status line replaces the last `memmap`'s blank one); F1 again
    gives the console its screen back, with what was printed meanwhile."""
    vga.wait_for("$ ")
    vga.type("memmap\n")
    (first,) = memmap.find_all(vga.wait_for("memmap: end"))
    vga.wait_for("$ ", 2)
    rows = vga.screen()
    check_screen(rows, first)
    assert glyphs(rows[24]) <= 2, "row 24 holds the prompt"

    vga.monitor("send-key", keys=[{"type": "qcode", "data": "f1"}])
    vga.type("memfork 8\n")
    vga.wait_for("memmap: end", 4)
    vga.wait_for("$ ", 3)
    vga.type("memmap\n")
    lines = vga.wait_for("memmap: end", 5)
    vga.wait_for("$ ", 4)
    before, child, after, now = memmap.find_all(lines)[1:]
    parent, forked = before.spaces[-1], child.spaces[-1]
    assert (parent.name, forked.name) == ("memfork", "memfork") and forked.pid > parent.pid
    assert forked.pages == parent.pages >= 8 + 16  # its heap, its stack
    assert child.owner("!") == 0 and not child.marks and forked.key in child.cells
    assert child.owner(".") < before.owner(".") == after.owner(".")
    assert after.spaces == before.spaces and forked.key not in after.cells and after.space(forked.pid) is None
    assert child.view is not None and child.view.title == f"pid {forked.pid} (memfork)"
    # `memmap` left row 24 blank: its status line shows the live view redrew since.
    live = vga.screen_when(lambda rows: glyphs(rows[24]) > 20, "the live view's status line")
    check_screen(live, now)

    vga.monitor("send-key", keys=[{"type": "qcode", "data": "f1"}])
    text = vga.screen_when(lambda rows: glyphs(rows[24]) <= 2, "the console's prompt on row 24")
    assert all(bg == 0 and glyphs(row) for row in text[20:24] for bg, _ in row), \
        "with the lines printed while the live view was on (memfork's, the prompt and `memmap`)"


# ---- GDB --------------------------------------------------------------------------------

def blocks_of(text: str) -> list[memmap.MemMap]:
    return memmap.find_all(ANSI.sub("", text).splitlines())


FREE_FRAMES = "'pmm.c'::free_in_zone[0] + 'pmm.c'::free_in_zone[1]"  # pmm_free_count()


def test_gdb_memmap_prints_the_kernels_block(reference_kernel, tmp_path):
    """Stopped where the kernel is about to print its map, GDB's memmap,
    computed from physical memory, prints the same block: before fork (the
    view of the caller, memfork), in the child (in colour); `memmap 1` shows
    init's address space beside the same physical map."""
    session = debug(paused(reference_kernel, None, mem_mb=64), reference_kernel, [
        "break memmap_print", "continue", "memmap", f"p {FREE_FRAMES}", "continue",
        "set style enabled on", "memmap", "memmap 1", "set style enabled off", "memmap 99", "continue",
        "help kestrel", "help memmap",
    ], tmp_path, serial_input=b"memfork 4\n")
    kernel = memmap.find_all(session.serial.splitlines())
    ours = blocks_of(session.out)
    assert len(kernel) >= 2 and len(ours) == 3, session.out + session.serial
    assert ours[0] == kernel[0] and ours[1] == kernel[1], "GDB's map is the kernel's"
    assert re.search(rf"^\$1 = {ours[0].owner('.')}$", session.out, re.M), "the free frames are the PMM's"
    assert "\x1b[" in session.out, "in colour when GDB's styling is on"
    assert ours[2].cells == kernel[1].cells and ours[2].view is not None and ours[2].view.title == "pid 1 (init)"
    assert "no process 99 with an address space" in session.out
    assert re.search(r"^  memmap \[PID\]\s+the memory map", session.out, re.M), "help kestrel lists memmap"
    assert re.search(r"^Usage: memmap \[PID\]", session.out, re.M)


def test_gdb_memmap_on_a_broken_directory(reference_kernel, tmp_path):
    """The same block as the kernel's on memmap_broken's directory: every
    kind of wrong entry, found the same way from GDB."""
    session = debug(paused(reference_kernel, "memmap_broken", mem_mb=32), reference_kernel, [
        "break memmap_print", "continue",
        "python gdb.execute('memmap -d %d' % int(gdb.parse_and_eval('m->view_pd')))", "continue",
    ], tmp_path)
    (kernel,) = memmap.find_all(session.serial.splitlines())
    (ours,) = blocks_of(session.out)
    assert ours == kernel and len(ours.marks) == 8, session.out


@pytest.fixture(scope="session")
def skeleton_kernel(worker_id: str) -> Path:
    """The kernel with the skeleton's gap files (kernel/): init_paging is a stub."""
    out = ROOT / "build" / "tests" / worker_id / "skeleton"
    subprocess.run(["make", "-s", f"OUT={out}", "elf"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    return out / "kernel.elf"


def test_gdb_memmap_in_the_skeleton(skeleton_kernel, tmp_path):
    """Stopped at the skeleton's init_paging stub: paging is off, and the
    map says so: the kernel, free and reserved frames, no view."""
    session = debug(paused(skeleton_kernel, None, mem_mb=32), skeleton_kernel,
                    ["continue", "memmap", f"p {FREE_FRAMES}"], tmp_path)
    (m,) = blocks_of(session.out)
    assert "*** Kestrel: NOT IMPLEMENTED: init_paging() (lab 1)" in session.out, session.out
    assert re.search(rf"^\$1 = {m.owner('.')}$", session.out, re.M), "the free frames are the PMM's"
    assert not m.paging and m.view is None and set(m.cells) <= set("K#.") and not m.spaces
    assert sum(o.count for o in m.owners) == m.frames
    assert "Paging is off (CR0.PG clear): no address space yet" in session.out


# ---- Failure reports ----------------------------------------------------------------------

LEAKING_EXIT = {"file": "process.c", "replace": "    paging_free_directory(p->pd_phys);\n    p->pd_phys = 0;\n",
                "with": ""}
# Shares read-only pages (program text) the way a kernel with reference counts
# may; this one has none. Only unwritten pages are shared, so the test fails
# at the same check whatever the interleaving.
SHARING_CLONE = {"file": "paging.c",
                 "replace": "    memcpy((void *)frame, (void *)(src_pte & PAGE_MASK), PAGE_SIZE);\n"
                            "    *pte = frame | (src_pte & PAGE_FLAGS_MASK & ~(PAGE_ACCESSED | PAGE_DIRTY));",
                 "with": "    if (!(src_pte & PAGE_WRITE)) { // read-only: shared, as if counted\n"
                         "        pmm_free_page(frame);\n        *pte = src_pte;\n        return true;\n    }\n"
                         "    memcpy((void *)frame, (void *)(src_pte & PAGE_MASK), PAGE_SIZE);\n"
                         "    *pte = frame | (src_pte & PAGE_FLAGS_MASK & ~(PAGE_ACCESSED | PAGE_DIRTY));"}
HOLE_AT_THE_TOP = {"file": "paging.c", "replace": "    identity_map(pmm_ram_end());",
                   "with": "    identity_map(pmm_ram_end() & ~(PAGE_SIZE * PAGE_ENTRIES - 1));"}


@pytest.mark.parametrize("bug, lab, test, kind", [
    (HOLE_AT_THE_TOP, 1, "identity_map_odd", "hole"),
    (SHARING_CLONE, 4, "fork_memory", "shared"),
    (LEAKING_EXIT, 5, "wait_cycles", "lost"),
], ids=["identity-map-hole", "shared-after-fork", "leak-after-exit"])
def test_failure_report_draws_the_map(bug, lab, test, kind, tmp_path):
    """A failed check that a picture explains draws the map the kernel
    printed before failing, with the wrong entries marked: the report shows
    the block (without quoting it in the log's last lines) and its marks
    name what the failure message names."""
    graded = grade(make_submission(test, bug, tmp_path / "src"), tmp_path, lab, tests=test)
    result = graded.tests[test]
    assert result["status"] == "failed", graded.stdout
    report = result["output"]
    assert "memory map when the check failed" in report, report
    (log,) = (tmp_path / "grade" / "logs").glob(f"*/{test}.log")
    m = memmap.last(log.read_text().splitlines())
    assert m is not None and m.marks and m.marks[0].kind == kind, report
    assert all(f"  ! {k.kind} " in report for k in m.marks), "the report lists the marks"
    assert report.count("memmap: RAM") == 1, "drawn once, not also quoted from the log"
    # The same map, as pictures for the HTML report: physical memory and the
    # address space, with the marked entries' cells crossed out.
    pictures = result["memory_maps"]
    assert pictures[0]["cells"] == m.cells and (m.view is None or pictures[1]["cells"] == m.view.cells)
    marked = {m.phys_cell(k.phys) for k in m.marks if k.phys is not None}
    assert marked <= set(pictures[0]["marked"]) and any(p["marked"] for p in pictures), pictures
    assert svg.memory_map(pictures[0]).count("data-marked") == len(pictures[0]["marked"])
    summary = report.splitlines()[0]
    numbers = {int(x, 16) for x in re.findall(r"0x([0-9a-f]{8})", summary)}
    if kind == "hole":
        assert m.marks[0].virt in numbers and "!" in m.view.cells
    elif kind == "shared":
        assert m.marks[0].phys in numbers and m.view.title.startswith("pid 2 ") and "!" in m.view.cells
    else:
        leaked = int(re.search(r"(\d+) frames leaked", summary)[1])
        assert m.owner("L") >= leaked and "L" in m.cells
