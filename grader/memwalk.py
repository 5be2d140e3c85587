"""The memory map computed from physical memory, on the host: the twin of
kernel/memmap.c and kernel/memmap_view.c, for GDB's `memmap`, which reads
a stopped kernel's memory and never runs kernel code (so it works inside
a student's broken code too). Same passes, same order, same rules, same
words: the tests compare the two on a running kernel, block for block.

    machine = Machine(ram_end, kernel_end, paging, master, processes, managed, used, read_words)
    memmap.render(build(machine, pid=2))
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from .memmap import MARK_KINDS, MemMap, Mark, Owner, Space, View

PAGE = 4096
ENTRIES = 1024
MASK = 0xFFFFF000
PRESENT, USER_BIT = 0x1, 0x4
KERNEL_LOAD = 0x00100000
IDENTITY_LIMIT = USER_BASE = 0x40000000
USER_TOP = 0xC0000000
KHEAP_BASE, KHEAP_TOP = 0xD0000000, 0xF0000000
USER_PDES = range(USER_BASE >> 22, USER_TOP >> 22)
HEAP_PDES = range(KHEAP_BASE >> 22, KHEAP_TOP >> 22)
PHYS_CELLS, VIRT_CELLS, VIRT_CELL_PDES, MARKS = 1024, 256, 4, 8
NAME_MAX = 16  # PROC_NAME_MAX
NONE = 0xFFFFFFFF  # MEMMAP_NONE
BY_HEAP, BY_KERNEL = -1, -2
UNCLAIMED, TABLE, PAGE_CLAIM, CONFLICT = range(4)
OWNER_NAMES = (("K", "kernel"), ("T", "page tables"), ("H", "kernel heap"), ("L", "lost"), ("!", "wrong"),
               ("#", "reserved"), (".", "free"))


@dataclass(frozen=True)
class Process:
    pid: int
    name: bytes  # as in the process table, up to its NUL
    pd_phys: int


@dataclass(frozen=True)
class Machine:
    """What the walk reads from the stopped kernel."""

    ram_end: int  # pmm_ram_end(): 0 before the PMM starts
    kernel_end: int  # _kernel_end
    paging: bool  # CR0.PG
    master: int  # vm_kernel_directory(), else CR3 while paging is on; 0 when off
    processes: Sequence[Process]  # slots in use with a directory, in any order
    managed: bytes  # the PMM's bitmaps, at least ram_end / PAGE / 8 bytes
    used: bytes
    read_words: Callable[[int, int], Sequence[int]]  # `count` words of physical memory at `addr`


@dataclass
class _Mark:
    kind: int
    phys: int
    virt: int
    count: int = 1
    by: int = 0
    first_by: int = 0
    first_virt: int = NONE


@dataclass
class _Space:
    pid: int
    key: str
    name: str
    pd_phys: int
    pages: int = 0


SHARED, FREED, KERNEL_MARK, BEYOND, LOST, HOLE, MOVED, EXPOSED = range(8)  # indexes of memmap.MARK_KINDS


def printable(name: bytes) -> str:
    """A process name as the legend prints it (memmap.c copy_name)."""
    text = "".join(chr(b) if 0x20 < b < 0x7F and b != ord("|") else "_" for b in name[:NAME_MAX - 1])
    return text or "?"


@dataclass
class _Walk:
    m: Machine
    frames: int = 0
    per_cell: int = 4
    cells: int = 0
    spaces: list[_Space] = field(default_factory=list)
    claims: bytearray = field(default_factory=bytearray)
    owners: dict[str, int] = field(default_factory=dict)
    marks: list[_Mark] = field(default_factory=list)
    total: int = 0
    last: _Mark | None = None
    tables: dict[int, Sequence[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frames = self.m.ram_end // PAGE
        while self.frames > self.per_cell * PHYS_CELLS:
            self.per_cell *= 2
        self.cells = -(-self.frames // self.per_cell)
        self.claims = bytearray(self.frames)
        self.owners = {key: 0 for key, _ in OWNER_NAMES}
        n = self.cells
        self.kernel_n, self.tables_n, self.heap_n, self.proc_n, self.walk_n = ([0] * n for _ in range(5))
        self.proc_key = [""] * n
        self.wrong, self.lost, self.reserved = (bytearray(n) for _ in range(3))

    # ---- memory and bitmaps
    def table(self, addr: int) -> Sequence[int]:
        if addr not in self.tables:
            self.tables[addr] = self.m.read_words(addr, ENTRIES)
        return self.tables[addr]

    def word(self, addr: int) -> int:
        return self.table(addr & MASK)[(addr & ~MASK) // 4]

    def managed(self, f: int) -> bool:
        return bool(self.m.managed[f // 8] >> (f % 8) & 1)

    def used(self, f: int) -> bool:
        return bool(self.m.used[f // 8] >> (f % 8) & 1)

    def in_ram(self, frame: int) -> bool:
        return frame < self.m.ram_end

    def master_readable(self) -> bool:
        return bool(self.m.master) and self.in_ram(self.m.master)

    def in_image(self, addr: int) -> bool:
        return KERNEL_LOAD <= addr < (self.m.kernel_end + PAGE - 1) & MASK

    # ---- marks (memmap_mark)
    def mark(self, mark: _Mark) -> None:
        last = self.last
        if self.total and last is not None and self._extends(last, mark):
            last.count += mark.count
            if self.total <= MARKS:
                self.marks[self.total - 1].count = last.count
            return
        self.last = replace(mark)
        self.total += 1
        if self.total <= MARKS:
            self.marks.append(replace(mark))

    @staticmethod
    def _extends(last: _Mark, mark: _Mark) -> bool:
        if last.kind != mark.kind:
            return False
        if mark.kind == LOST:
            return last.phys + last.count * PAGE == mark.phys
        if mark.kind in (HOLE, EXPOSED):
            return last.virt + last.count * PAGE == mark.virt
        return False

    # ---- spaces and the view
    def add_space(self, pid: int, name: bytes, pd_phys: int) -> None:
        i = len(self.spaces)
        self.spaces.append(_Space(pid, chr(ord("a") + i) if i < 26 else "*", printable(name), pd_phys))

    def choose_view(self, pid: int, view_pd: int) -> tuple[int, int, str]:
        view_space, view = -1, view_pd & MASK if view_pd else self.m.master
        for i, s in enumerate(self.spaces):
            if (s.pid == pid) if pid else (view_pd and s.pd_phys == view):
                view_space, view = i, s.pd_phys
                break
        if view_space < 0 and view_pd and view != self.m.master:
            self.add_space(0, b"directory", view)
            view_space = len(self.spaces) - 1
        return view_space, view, self.spaces[view_space].key if view_space >= 0 else "U"

    # ---- pass 1: tables
    def claim_table(self, frame: int, virt: int, by: int) -> bool:
        if not self.in_ram(frame):
            self.mark(_Mark(BEYOND, frame, virt, by=by))
            return False
        f = frame // PAGE
        if self.claims[f] == CONFLICT:
            return True
        if self.managed(f) and not self.used(f):
            self.mark(_Mark(FREED, frame, NONE, by=by))
            self.claims[f] = CONFLICT
            return True
        self.claims[f] = TABLE
        return True

    def claim_tables(self, pd: int, by: int) -> None:
        if not self.claim_table(pd, NONE, by):
            return
        master = self.m.master
        for i in range(ENTRIES):
            pde = self.word(pd + i * 4)
            if not pde & PRESENT or (pd != master and i not in USER_PDES and self.master_readable()
                                     and pde == self.word(master + i * 4)):
                continue
            self.claim_table(pde & MASK, i << 22, by)

    # ---- pass 2: pages
    def walk_pages(self, pd: int, pdes: range, by: int, fn: Callable[[int, int, int], bool]) -> bool:
        for i in pdes:
            pde = self.word(pd + i * 4)
            if not pde & PRESENT or not self.in_ram(pde & MASK):
                continue
            for j, pte in enumerate(self.table(pde & MASK)):
                if pte & PRESENT and not fn(pte & MASK, i << 22 | j << 12, by):
                    return False
        return True

    def walk_master(self, fn: Callable[[int, int, int], bool]) -> bool:
        master = self.m.master
        return not self.master_readable() or (
            self.walk_pages(master, HEAP_PDES, BY_HEAP, fn)
            and self.walk_pages(master, range(USER_TOP >> 22, KHEAP_BASE >> 22), BY_KERNEL, fn)
            and self.walk_pages(master, range(KHEAP_TOP >> 22, ENTRIES), BY_KERNEL, fn))

    def walk_space(self, i: int, fn: Callable[[int, int, int], bool]) -> bool:
        pd = self.spaces[i].pd_phys
        return not self.in_ram(pd) or self.walk_pages(pd, USER_PDES, i, fn)

    def count_page(self, frame: int, by: int) -> None:
        c = frame // PAGE // self.per_cell
        if by >= 0:
            self.spaces[by].pages += 1
            self.walk_n[c] += 1
        elif by == BY_HEAP:
            self.owners["H"] += 1
            self.heap_n[c] += 1
        else:
            self.owners["K"] += 1
            self.kernel_n[c] += 1

    def claim_page(self, frame: int, virt: int, by: int) -> bool:
        if not self.in_ram(frame):
            if by != BY_KERNEL:
                self.mark(_Mark(BEYOND, frame, virt, by=by))
            return True
        f = frame // PAGE
        claim, managed = self.claims[f], self.managed(f)
        if by == BY_KERNEL and (not managed or claim == TABLE):
            return True
        self.count_page(frame, by)
        if claim == CONFLICT:
            return True
        wrong = (KERNEL_MARK if claim == TABLE or not managed else FREED if not self.used(f)
                 else SHARED if claim == PAGE_CLAIM else None)
        if wrong is None:
            self.claims[f] = PAGE_CLAIM
            return True
        self.mark(_Mark(wrong, frame, virt, by=by))
        self.claims[f] = CONFLICT
        return True

    def claim_pages(self) -> None:
        self.walk_master(self.claim_page)
        for i, space in enumerate(self.spaces):
            self.walk_space(i, self.claim_page)
            for c in range(self.cells):
                if self.walk_n[c] > self.proc_n[c]:
                    self.proc_n[c], self.proc_key[c] = self.walk_n[c], space.key
                self.walk_n[c] = 0

    def name_first_owners(self) -> None:
        for mark in self.marks:
            if mark.kind != SHARED:
                continue

            def find(frame: int, virt: int, by: int, mark: _Mark = mark) -> bool:
                if frame != mark.phys:
                    return True
                mark.first_by, mark.first_virt = by, virt
                return False

            more = self.walk_master(find)
            for i in range(len(self.spaces)):
                if not more:
                    break
                more = self.walk_space(i, find)

    # ---- pass 3: frames
    def classify_frames(self) -> None:
        for f in range(self.frames):
            c, addr, claim = f // self.per_cell, f * PAGE, self.claims[f]
            if claim == TABLE:
                self.owners["T"] += 1
                self.tables_n[c] += 1
            elif claim == CONFLICT:
                self.owners["!"] += 1
                self.wrong[c] = 1
            elif claim == PAGE_CLAIM:
                continue
            elif self.in_image(addr):
                self.owners["K"] += 1
                self.kernel_n[c] += 1
            elif not self.managed(f):
                self.owners["#"] += 1
                self.reserved[c] = 1
            elif self.used(f):
                self.owners["L"] += 1
                self.lost[c] = 1
                self.mark(_Mark(LOST, addr, NONE))
            else:
                self.owners["."] += 1

    def cell_key(self, c: int) -> str:
        if self.wrong[c]:
            return "!"
        if self.lost[c]:
            return "L"
        if self.proc_n[c]:
            return self.proc_key[c]
        best = max(range(3), key=lambda i: ((self.kernel_n, self.tables_n, self.heap_n)[i][c], -i))
        n = (self.kernel_n, self.tables_n, self.heap_n)[best][c]
        if n:
            return "KTH"[best]
        return "#" if self.reserved[c] else "."

    # ---- the view (memmap_view.c)
    def build_view(self, view_pd: int, view_key: str) -> tuple[list[int], str]:
        kinds, cells = [0] * 5, ""
        for c in range(VIRT_CELLS):
            n = [0] * 5
            if view_pd >= self.m.ram_end:
                n[4] = int(c == 0)
            else:
                for i in range(c * VIRT_CELL_PDES, (c + 1) * VIRT_CELL_PDES):
                    self.view_entry(view_pd, i, n)
            kinds = [a + b for a, b in zip(kinds, n)]
            cells += "!" if view_pd >= self.m.ram_end else self.view_key_of(n, view_key)
        return kinds, cells

    def view_entry(self, pd: int, i: int, n: list[int]) -> None:
        pde, va = self.word(pd + i * 4), i << 22
        if not pde & PRESENT:
            self.hole(va, ENTRIES, n)
            return
        if (pde & MASK) >= self.m.ram_end:
            n[4] += 1
            return
        for j, pte in enumerate(self.table(pde & MASK)):
            if pte & PRESENT:
                self.view_page(va | j << 12, pde, pte, n)
            else:
                self.hole(va | j << 12, 1, n)

    def hole(self, va: int, pages: int, n: list[int]) -> None:
        start, end = max(va, PAGE), min(va + pages * PAGE, self.m.ram_end)
        if va >= IDENTITY_LIMIT or start >= end:
            return
        self.mark(_Mark(HOLE, NONE, start, (end - start) // PAGE))
        n[4] += (end - start) // PAGE

    def view_page(self, va: int, pde: int, pte: int, n: list[int]) -> None:
        frame, user = pte & MASK, pde & pte & USER_BIT
        wrong = frame >= self.m.ram_end or self.claims[frame // PAGE] == CONFLICT
        if va < IDENTITY_LIMIT:
            if frame != va:
                self.mark(_Mark(MOVED, frame, va))
                n[4] += 1
            elif user:
                self.mark(_Mark(EXPOSED, NONE, va))
                n[4] += 1
            else:
                n[0] += 1
        elif USER_BASE <= va < USER_TOP:
            n[4 if wrong else 1] += 1
        else:
            heap = KHEAP_BASE <= va < KHEAP_TOP
            if user:
                self.mark(_Mark(EXPOSED, NONE, va))
                n[4] += 1
            elif wrong and heap:
                n[4] += 1
            else:
                n[2 if heap else 3] += 1

    @staticmethod
    def view_key_of(n: list[int], view_key: str) -> str:
        if n[4]:
            return "!"
        best = max(range(4), key=lambda i: (n[i], -i))
        return ("I", view_key, "H", "K")[best] if n[best] else "."

    # ---- words (memmap_print.c)
    def owner_name(self, by: int) -> str:
        if by == BY_HEAP:
            return "the kernel heap"
        if by == BY_KERNEL:
            return "the kernel"
        s = self.spaces[by] if 0 <= by < len(self.spaces) else _Space(0, "", "", 0)
        return f"pid {s.pid} ({s.name})" if s.pid else f"directory {s.pd_phys:#010x}"

    def text(self, k: _Mark) -> str:
        by, s = self.owner_name(k.by), "" if k.count == 1 else "s"
        if k.kind == SHARED:
            return (f"frame {k.phys:#010x} is page {k.first_virt:#010x} of {self.owner_name(k.first_by)} and page "
                    f"{k.virt:#010x} of {by}: one frame, two owners (a copy needs frames of its own)")
        if k.kind == FREED:
            what = "a page table" if k.virt == NONE else f"page {k.virt:#010x}"
            return f"frame {k.phys:#010x} is free in the PMM, yet {what} of {by}"
        if k.kind == KERNEL_MARK:
            return (f"page {k.virt:#010x} of {by} maps frame {k.phys:#010x}, which the kernel owns (its image, a page "
                    "table or reserved memory)")
        if k.kind == BEYOND:
            if k.virt == NONE:
                return f"the directory of {by} is at {k.phys:#010x}, beyond the end of RAM"
            return f"the entry of {by} for {k.virt:#010x} points to {k.phys:#010x}, beyond the end of RAM"
        if k.kind == LOST:
            return f"{k.count} frame{s} from {k.phys:#010x} in use, owned by no table, heap or process: leaked"
        if k.kind == HOLE:
            return f"{k.count} page{s} of RAM from {k.virt:#010x} not mapped: a hole in the identity map"
        if k.kind == MOVED:
            return f"identity page {k.virt:#010x} maps frame {k.phys:#010x}, not itself"
        return f"{k.count} kernel page{s} from {k.virt:#010x} user-accessible"


def build(machine: Machine, pid: int = 0, view_pd: int = 0, directories: Sequence[int] = ()) -> MemMap:
    """The map, with the view of process `pid` (0: the master directory) or
    of directory `view_pd`, as memmap_build(pid, view_pd) makes it. With
    `directories` (GDB only), those directories no process owns are walked
    too, after the processes, each as an owner of its own."""
    w = _Walk(machine)
    view_space, view, view_key = -1, 0, "U"
    if machine.paging:
        for p in sorted(machine.processes, key=lambda p: p.pid):
            w.add_space(p.pid, p.name, p.pd_phys & MASK)
        for d in directories:
            if d & MASK != machine.master and all(s.pd_phys != d & MASK for s in w.spaces):
                w.add_space(0, b"directory", d & MASK)
        view_space, view, view_key = w.choose_view(pid, view_pd)
    if machine.master:
        w.claim_tables(machine.master, BY_KERNEL)
    for i, space in enumerate(w.spaces):
        w.claim_tables(space.pd_phys, i)
    w.claim_pages()
    w.name_first_owners()
    w.classify_frames()
    cells = "".join(w.cell_key(c) for c in range(w.cells))
    view_result = None
    if view:
        kinds, virt = w.build_view(view, view_key)
        space = w.spaces[view_space] if view_space >= 0 else None
        title = "the kernel" if space is None else f"pid {space.pid} ({space.name})" if space.pid else ""
        counts = tuple(Owner(key, name, n) for key, name, n in zip(
            ("I", view_key, "H", "K", "!"), ("identity", "user", "kernel heap", "kernel", "wrong"), kinds))
        view_result = View(title, view, counts, virt)
    return MemMap(
        ram_end=machine.ram_end, frames=w.frames, per_cell=w.per_cell, paging=machine.paging,
        owners=tuple(Owner(key, name, w.owners[key]) for key, name in OWNER_NAMES),
        spaces=tuple(Space(s.key, s.pid, s.name if s.pid else "dir", 0 if s.pid else s.pd_phys, s.pages)
                     for s in w.spaces),
        cells=cells, view=view_result,
        marks=tuple(Mark(MARK_KINDS[k.kind], None if k.phys == NONE else k.phys, None if k.virt == NONE else k.virt,
                         w.text(k)) for k in w.marks),
        more_marks=max(0, w.total - MARKS))
