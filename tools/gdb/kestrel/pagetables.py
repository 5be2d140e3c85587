"""pagedir and vtop: page directories and translations, read the way the
MMU reads them (physical addresses), whatever the current mappings are."""
import textwrap

import gdb

from . import layout as L
from .target import (kernel_static, physical_memory, register, require_target, to_address)


class Machine:
    """What the commands need to know about the CPU and the kernel, read
    before switching to physical memory."""

    def __init__(self):
        require_target()
        self.cr0 = register("cr0")
        self.cr3 = register("cr3") & L.FRAME_MASK
        try:
            self.cr4 = register("cr4")
        except (gdb.error, ValueError):
            self.cr4 = 0
        self.pse = bool(self.cr4 & L.CR4_PSE)
        try:
            self.ram_end = int(kernel_static("ram_end", "pmm.c") or 0)
        except gdb.MemoryError:
            self.ram_end = 0  # the kernel's own variables are not mapped: paging is broken
        self.owners = directory_owners()

    def paging(self):
        return bool(self.cr0 & L.CR0_PG)

    def name(self, phys):
        """How to call directory `phys`: CR3, a process's..."""
        names = []
        if phys == self.cr3:
            names.append("CR3")
        names += self.owners.get(phys, [])
        return " (%s)" % ", ".join(names) if names else ""


def directory_owners():
    """Directory physical address -> ["pid 3 (sleep)", ...]."""
    owners = {}
    table = kernel_static("process_table", "proc.c")
    if table is None:
        return owners
    lo, hi = table.type.strip_typedefs().range()
    try:
        for i in range(lo, hi + 1):
            p = table[i]
            if int(p["state"]) != 0 and int(p["pd_phys"]):
                owners.setdefault(int(p["pd_phys"]) & L.FRAME_MASK, []).append(
                    "pid %d (%s)" % (int(p["pid"]), p["name"].string()))
    except gdb.MemoryError:
        pass
    return owners


def directory_arg(machine, text, usage):
    """The directory a command works on: `text` (an expression) or CR3."""
    if text:
        phys = to_address(text)
        if phys % L.PAGE_SIZE:
            raise gdb.GdbError("0x%08x is not page-aligned: a directory starts on a page boundary" % phys)
        return phys
    if not machine.cr3:
        raise gdb.GdbError("CR3 is 0: no page directory is loaded yet (init_paging() loads one). "
                           "Name one: " + usage)
    return machine.cr3


def paging_status(machine, phys):
    if not machine.paging():
        return "Paging is OFF (CR0.PG clear): the CPU does not use this directory yet."
    if phys != machine.cr3:
        return "Paging is on; CR3 holds 0x%08x, not this directory." % machine.cr3
    if not machine.cr0 & L.CR0_WP:
        return "Paging is on (CR0.PG); CR0.WP is clear: the kernel may still write to read-only pages."
    return "Paging is on (CR0.PG, CR0.WP)."


# ---- pagedir -----------------------------------------------------------------

class Directory:
    """A directory and its tables, as read from physical memory."""

    def __init__(self, mem, phys, pse):
        self.phys = phys
        self.pse = pse
        self.pdes = mem.words(phys, L.ENTRIES)
        self.tables = {}  # directory index -> 1024 entries, or None when unreadable
        for i, pde in enumerate(self.pdes):
            if pde & L.PRESENT and not self.big(i):
                try:
                    self.tables[i] = mem.words(pde & L.FRAME_MASK, L.ENTRIES)
                except gdb.MemoryError:
                    self.tables[i] = None

    def big(self, i):
        return self.pse and self.pdes[i] & L.PAGE_SIZE_BIT

    def pages(self, i):
        """(vaddr, frame, user, write) of every present page of entry i."""
        pde = self.pdes[i]
        if not pde & L.PRESENT:
            return
        if self.big(i):
            for j in range(L.ENTRIES):
                yield (i << 22) | (j << 12), (pde & 0xFFC00000) + (j << 12), bool(pde & L.USER), bool(pde & L.WRITE)
            return
        for j, pte in enumerate(self.tables.get(i) or ()):
            if pte & L.PRESENT:
                yield ((i << 22) | (j << 12), pte & L.FRAME_MASK, bool(pde & pte & L.USER),
                       bool(pde & pte & L.WRITE))


class Run:
    """Consecutive present pages with the same access, region and kind
    (identity-mapped or not)."""

    def __init__(self, vaddr, frame, user, write):
        self.start = vaddr
        self.end = vaddr + L.PAGE_SIZE
        self.user, self.write = user, write
        self.region, self.user_ok = L.region(vaddr)
        self.identity = frame == vaddr
        self.first = self.last = self.low = self.high = frame
        self.frames = [frame]  # the first few, for short runs
        self.linear = True

    def extend(self, vaddr, frame, user, write):
        """Adds the page if it continues this run; False otherwise."""
        if (vaddr != self.end or (user, write) != (self.user, self.write) or L.region(vaddr)[0] != self.region
                or (frame == vaddr) != self.identity):
            return False
        self.linear = self.linear and frame == self.last + L.PAGE_SIZE
        self.end += L.PAGE_SIZE
        self.last = frame
        self.low, self.high = min(self.low, frame), max(self.high, frame)
        if len(self.frames) < 4:
            self.frames.append(frame)
        return True

    def count(self):
        return (self.end - self.start) // L.PAGE_SIZE

    def maps_to(self):
        if self.identity:
            return "identity"
        if self.count() == 1:
            return "frame 0x%08x" % self.first
        if self.linear:
            return "frames 0x%08x-0x%08x" % (self.first, self.last + L.PAGE_SIZE - 1)
        if self.count() <= 3:
            return "frames " + ", ".join("0x%08x" % f for f in self.frames)
        return "%d frames in 0x%08x-0x%08x" % (self.count(), self.low, self.high + L.PAGE_SIZE - 1)


def page_runs(d):
    runs = []
    for i in range(L.ENTRIES):
        for page in d.pages(i):
            if not runs or not runs[-1].extend(*page):
                runs.append(Run(*page))
    return runs


def entry_runs(d, verbose):
    """Groups of consecutive present directory entries: [(first, last)]."""
    groups = []
    for i, pde in enumerate(d.pdes):
        if not pde & L.PRESENT:
            continue
        key = (pde & (L.USER | L.WRITE | L.PAGE_SIZE_BIT), L.region(i << 22)[0], d.tables.get(i, 0) is None)
        if groups and not verbose and groups[-1][1] == i - 1 and groups[-1][2] == key:
            groups[-1][1] = i
        else:
            groups.append([i, i, key])
    return [(first, last) for first, last, _ in groups]


def describe_tables(d, first, last):
    if d.big(first):
        return "4 MiB pages" if first == last else "4 MiB page at 0x%08x" % (d.pdes[first] & 0xFFC00000)
    frames = [d.pdes[i] & L.FRAME_MASK for i in range(first, last + 1)]
    unreadable = [i for i in range(first, last + 1) if d.tables.get(i) is None]
    if unreadable:
        return "table%s at 0x%08x%s: UNREADABLE (beyond RAM?)" % (
            "s" if len(frames) > 1 else "", frames[0], "..." if len(frames) > 1 else "")
    if len(frames) == 1:
        return "table 0x%08x" % frames[0]
    step = frames[1] - frames[0]
    if step in (L.PAGE_SIZE, -L.PAGE_SIZE) and all(b - a == step for a, b in zip(frames, frames[1:])):
        return "%d tables 0x%08x-0x%08x" % (len(frames), min(frames), max(frames) + L.PAGE_SIZE - 1)
    return "%d tables in 0x%08x-0x%08x" % (len(frames), min(frames), max(frames) + L.PAGE_SIZE - 1)


def entry_line(d, first, last):
    pde = d.pdes[first]
    span = "%d" % first if first == last else "%d-%d" % (first, last)
    pages = sum(1 for i in range(first, last + 1) for _ in d.pages(i))
    empty = sum(1 for i in range(first, last + 1) if d.tables.get(i) and not any(e & L.PRESENT for e in d.tables[i]))
    count = "%d page%s" % (pages, "" if pages == 1 else "s")
    if empty and first == last:
        count = "empty table"
    elif empty:
        count += " (%d of the tables empty)" % empty
    return "  PDE %-9s 0x%08x-0x%08x  %-9s  %-36s %s" % (
        span, first << 22, ((last + 1) << 22) - 1, L.access(pde & L.USER, pde & L.WRITE),
        describe_tables(d, first, last), count)


def run_line(run):
    return "  0x%08x-0x%08x %7d  %-38s %-9s  %s" % (run.start, run.end - 1, run.count(), run.maps_to(),
                                                   L.access(run.user, run.write), run.region)


def identity_gaps(runs, ram_end):
    """Parts of RAM [one page .. ram_end) that are not identity-mapped."""
    gaps, at = [], L.PAGE_SIZE  # page 0 is unmapped on purpose
    for run in runs:
        if run.identity and run.end > at and run.start < ram_end:
            if run.start > at:
                gaps.append((at, run.start))
            at = max(at, run.end)
    if at < ram_end:
        gaps.append((at, ram_end))
    return gaps


def notes(d, runs, machine):
    out = []
    for run in runs:
        if run.user and not run.user_ok:
            out.append("0x%08x-0x%08x is user-accessible in the %s: kernel memory must be kernel-only"
                       % (run.start, run.end - 1, run.region))
    for i, table in sorted(d.tables.items()):
        frame = d.pdes[i] & L.FRAME_MASK
        if table is None or (machine.ram_end and frame >= machine.ram_end):
            out.append("PDE %d points to 0x%08x, beyond the end of RAM (0x%08x): not a page table"
                       % (i, frame, machine.ram_end))
    if machine.ram_end and any(r.region == "identity map" for r in runs):
        for start, end in identity_gaps(runs, machine.ram_end)[:3]:
            out.append("RAM 0x%08x-0x%08x is not identity-mapped" % (start, end - 1))
    return out


class PageDir(gdb.Command):
    """Dump a page directory: its present entries and mapped pages, collapsed into ranges.

Usage: pagedir [-v] [PHYS]

PHYS is the physical address of a directory (any expression: a number,
process_table[1].pd_phys, ...); without it, the directory in CR3.
Tables and pages are read from physical memory, so the dump works even
when the mappings themselves are broken.

Two parts:
  Directory entries: runs of present entries (each covers 4 MiB) with their
    access (from the entry), their page tables' physical addresses and how
    many pages those tables map. Two directories that share page tables
    show the same table addresses. -v lists every entry on its own line.
  Mapped pages: runs of present pages with the same access (directory and
    table bits combined, as the MMU combines them), in one region of
    kernel/memlayout.h: "identity" (virtual == physical), one frame,
    contiguous frames, or "N frames in LOW-HIGH" (scattered, like the heap).
Notes (!) flag what the kernel's rules forbid: user-accessible kernel
memory, tables beyond RAM, RAM that is not identity-mapped.

Example: pagedir; pagedir 0x03f7c000; pagedir process_table[2].pd_phys"""

    def __init__(self):
        super().__init__("pagedir", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        verbose = "-v" in args
        args = [a for a in args if a != "-v"]
        if len(args) > 1:
            raise gdb.GdbError("usage: pagedir [-v] [PHYS] (an expression with spaces goes in quotes)")
        machine = Machine()
        phys = directory_arg(machine, args[0] if args else None, "pagedir PHYS")
        with physical_memory() as mem:
            try:
                d = Directory(mem, phys, machine.pse)
            except gdb.MemoryError:
                raise gdb.GdbError("cannot read a directory at physical 0x%08x (beyond RAM?)" % phys)
        runs = page_runs(d)
        print("Page directory at physical 0x%08x%s." % (phys, machine.name(phys)))
        print(paging_status(machine, phys))
        if machine.ram_end:
            print("RAM ends at 0x%08x (pmm_ram_end()): the identity map should reach 0x%08x."
                  % (machine.ram_end, machine.ram_end - 1))
        entries = entry_runs(d, verbose)
        if not entries:
            print("No entry is present: every access through this directory faults.")
            return
        print("Directory entries (4 MiB each):")
        for first, last in entries:
            print(entry_line(d, first, last))
        print("Mapped pages:%s" % ("" if runs else " none"))
        if runs:
            print("  %-21s %7s  %-38s %-9s  %s" % ("virtual", "pages", "maps to", "access", "region"))
        for run in runs:
            print(run_line(run))
        for note in notes(d, runs, machine):
            print("! " + note)


# ---- vtop --------------------------------------------------------------------

def stop_hint(vaddr, machine, at_directory):
    """Why an address is usually unmapped in this kernel."""
    name, _ = L.region(vaddr)
    if vaddr < L.PAGE_SIZE:
        return "Page 0 is unmapped on purpose after init_paging() (vm_boot), so NULL dereferences fault."
    if name == "identity map" and machine.ram_end and vaddr >= machine.ram_end:
        return "This is above the end of RAM (0x%08x): the identity map stops there." % machine.ram_end
    if name == "identity map":
        return "This is RAM below 0x%08x: the identity map should cover it." % machine.ram_end
    if name == "kernel heap" and at_directory:
        return ("This directory has no page table for this part of the kernel heap. Lab 2 creates every "
                "heap table in the master directory at the first allocation, so that directories cloned "
                "later share them; a directory cloned before that never sees the heap.")
    if name == "kernel heap":
        return "No heap page is allocated here (paging_alloc_page() maps heap pages from 0xd0000000 up)."
    if name == "user space":
        return "User space holds only what exec and sbrk mapped for one process: see `procs` for directories."
    return "Nothing is ever mapped in this part of the address space (kernel/memlayout.h)."


def wrap(text):
    return textwrap.wrap(text, 100, initial_indent="     ", subsequent_indent="     ")


def effective_access(pde, pte):
    user, write = pde & pte & L.USER, pde & pte & L.WRITE
    why = []
    if (pde ^ pte) & L.USER:
        why.append("U is clear in the %s entry" % ("directory" if pte & L.USER else "table"))
    if (pde ^ pte) & L.WRITE:
        why.append("RW is clear in the %s entry" % ("directory" if pte & L.WRITE else "table"))
    return L.access(user, write) + (" (%s)" % "; ".join(why) if why else "")


class VToP(gdb.Command):
    """Translate a virtual address step by step, like the MMU: directory entry, table entry, frame.

Usage: vtop ADDR [PHYS]

ADDR is any expression (0xd0000000, init_paging, &process_table[1], vaddr).
PHYS is the physical address of the directory to use; without it, CR3's.
Prints the indexes the address splits into, each entry read (where it is,
its raw value, its bits in words), then the physical address and the
access the CPU allows. When translation stops, says at which step and why
(entry not present, table beyond RAM), with the usual reason in this kernel.
The entries are read from physical memory, as the MMU reads them.

Example: vtop 0xd0000000; vtop init_paging; vtop 0x40001000 process_table[2].pd_phys"""

    def __init__(self):
        super().__init__("vtop", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if not 1 <= len(args) <= 2:
            raise gdb.GdbError("usage: vtop ADDR [PHYS] (an expression with spaces goes in quotes)")
        vaddr = to_address(args[0])
        machine = Machine()
        phys = directory_arg(machine, args[1] if len(args) > 1 else None, "vtop ADDR PHYS")
        pdi, pti, offset = L.pd_index(vaddr), L.pt_index(vaddr), vaddr & (L.PAGE_SIZE - 1)
        with physical_memory() as mem:
            lines = self.walk(mem, machine, phys, vaddr, pdi, pti, offset)
        print("0x%08x in directory 0x%08x%s:" % (vaddr, phys, machine.name(phys)))
        print("  PD_INDEX %d (0x%03x), PT_INDEX %d (0x%03x), offset 0x%03x" % (pdi, pdi, pti, pti, offset))
        for line in lines:
            print(line)
        if not machine.paging():
            print("  (Paging is OFF: right now the CPU uses 0x%08x as a physical address, untranslated.)" % vaddr)

    def walk(self, mem, machine, phys, vaddr, pdi, pti, offset):
        out = []
        try:
            pde = mem.word(phys + 4 * pdi)
        except gdb.MemoryError:
            return ["  cannot read the directory at physical 0x%08x (beyond RAM?)" % phys]
        out.append("  1. directory entry %d at 0x%08x = 0x%08x: %s"
                   % (pdi, phys + 4 * pdi, pde, L.describe_entry(pde, True, machine.pse)))
        if not pde & L.PRESENT:
            out.append("  => not mapped: translation stops at the directory entry. Entry %d is not present, so"
                       % pdi)
            out.append("     no page table covers 0x%08x-0x%08x; any access there page-faults."
                       % (pdi << 22, ((pdi + 1) << 22) - 1))
            out += wrap(stop_hint(vaddr, machine, True))
            return out
        if machine.pse and pde & L.PAGE_SIZE_BIT:
            frame = pde & 0xFFC00000
            out.append("  => physical 0x%08x (4 MiB page 0x%08x + offset 0x%06x), %s"
                       % (frame + (vaddr & 0x3FFFFF), frame, vaddr & 0x3FFFFF, L.access(pde & L.USER, pde & L.WRITE)))
            return out
        table = pde & L.FRAME_MASK
        out.append("     -> page table at 0x%08x" % table)
        try:
            pte = mem.word(table + 4 * pti)
        except gdb.MemoryError:
            out.append("  => translation stops: the table at 0x%08x cannot be read (beyond RAM?): the directory "
                       "entry holds a bad address" % table)
            return out
        out.append("  2. table entry %d at 0x%08x = 0x%08x: %s" % (pti, table + 4 * pti, pte, L.describe_entry(pte)))
        if not pte & L.PRESENT:
            out.append("  => not mapped: translation stops at the table entry. Entry %d of the table at 0x%08x is"
                       % (pti, table))
            out.append("     not present, so page 0x%08x-0x%08x is unmapped; any access there page-faults."
                       % (vaddr & L.FRAME_MASK, (vaddr & L.FRAME_MASK) + L.PAGE_SIZE - 1))
            out += wrap(stop_hint(vaddr, machine, False))
            return out
        frame = pte & L.FRAME_MASK
        out.append("     -> frame 0x%08x" % frame)
        kind = "identity-mapped" if frame == vaddr & L.FRAME_MASK else "not identity-mapped"
        out.append("  => physical 0x%08x (frame 0x%08x + offset 0x%03x): %s, %s, %s"
                   % (frame | offset, frame, offset, effective_access(pde, pte), kind, L.region(vaddr)[0]))
        if machine.ram_end and frame >= machine.ram_end:
            out.append("  ! the frame is beyond the end of RAM (0x%08x)" % machine.ram_end)
        return out


PageDir()
VToP()
