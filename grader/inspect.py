"""Checks from outside the guest, on the guest stopped at the pass point:
page tables read out of guest physical memory, completely, so no code in
the guest, trusted or not, can make them pass.
"""
from __future__ import annotations

import functools

from .guest import Halted, Inspector

PRESENT, WRITE, USER, PAGE_SIZE_4M = 0x1, 0x2, 0x4, 0x80
PAGE = 4096
ENTRIES = 1024
CR0_PG = 0x80000000
IDENTITY_LIMIT = 1 << 30  # kernel/memlayout.h: RAM above this is ignored
RAM_END = ("pmm.c", "ram_end")  # where the kernel keeps the end of RAM it found
MAX_PROBLEMS = 3


def identity_map_problems(mem_mb: int) -> Inspector:
    """An inspector: paging is on with the directory the test started with,
    and every page of RAM from 4 KiB to the end of RAM the kernel found (at
    most 1 MiB short of `mem_mb`) maps to itself, present, writable and
    kernel-only, at both levels."""

    def inspect(h: Halted) -> list[str]:
        cr3 = h.registers["cr3"] & ~0xFFF
        if not h.registers["cr0"] & CR0_PG:
            return ["CR0.PG is clear: paging is off"]
        if cr3 != h.test_cr3 & ~0xFFF:
            return [f"CR3 changed while the test ran: {h.test_cr3:#010x} when it started, {cr3:#010x} at the pass"]
        ram = min(mem_mb << 20, IDENTITY_LIMIT)
        symbol = h.kernel.elf.symbol(RAM_END[1], RAM_END[0])
        end = h.memory.words(symbol.value, 1)[0]  # the kernel's own idea of RAM's end
        if not ram - (1 << 20) < end <= ram or end % PAGE:
            return [f"the kernel says RAM ends at {end:#010x}, but QEMU has {mem_mb} MiB"]
        return _identity_problems(h, cr3, end)[:MAX_PROBLEMS]

    return inspect


def _identity_problems(h: Halted, cr3: int, end: int) -> list[str]:
    """Problems of the identity map of [4 KiB, end) in the directory at `cr3`."""
    directory = h.memory.words(cr3, ENTRIES)
    used = range((end - 1) // (PAGE * ENTRIES) + 1)
    problems = []
    for pd in used:
        pde = directory[pd]
        if not pde & PRESENT:
            problems.append(f"pages {pd << 22:#010x}-{(pd << 22) + (1 << 22) - 1:#010x} are not mapped: directory "
                            f"entry {pd} is not present")
        elif pde & PAGE_SIZE_4M:
            problems.append(f"directory entry {pd} ({pde:#010x}) maps a 4 MiB page: the lab asks for page tables")
        elif not pde & WRITE or pde & USER:
            problems.append(f"directory entry {pd} has wrong flags ({pde:#010x}): kernel memory is writable and "
                            "kernel-only")
    if problems:
        return problems
    tables = _read_tables(h, [directory[pd] & ~0xFFF for pd in used])
    for pd in used:
        first = 1 if pd == 0 else 0  # page 0 stays unmapped (NULL faults)
        last = min(ENTRIES, (end >> 12) - pd * ENTRIES)
        table = tables[directory[pd] & ~0xFFF]
        if first == 0 and last == ENTRIES and _whole_table_ok(table, pd):
            continue
        problems += _entry_problems(table, pd, first, last, directory[pd])
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _read_tables(h: Halted, frames: list[int]) -> dict[int, bytes]:
    """Each page table's bytes, read in as few pieces as possible: runs of
    consecutive frames (a kernel usually takes its tables in a row)."""
    out: dict[int, bytes] = {}
    ordered = sorted(set(frames))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + PAGE:
            j += 1
        data = h.memory.read(ordered[i], (j - i + 1) * PAGE)
        for k in range(i, j + 1):
            out[ordered[k]] = data[(k - i) * PAGE:(k - i + 1) * PAGE]
        i = j + 1
    return out


@functools.cache
def _ones() -> int:
    """1 in each of the 1024 32-bit lanes of a table, as one integer."""
    return sum(1 << (32 * i) for i in range(ENTRIES))


def _lanes(value: int) -> int:
    """`value` in each lane."""
    return value * _ones()


@functools.cache
def _steps() -> int:
    """Lane i holds i * 4096: the frames of an identity table, less its base."""
    return sum((i * PAGE) << (32 * i) for i in range(ENTRIES))


def _whole_table_ok(table: bytes, pd: int) -> bool:
    """Every entry maps page pd*1024+i to itself, present, writable, not
    user: checked on all 1024 entries at once (big-integer arithmetic)."""
    v = int.from_bytes(table, "little")
    return (v & _lanes(0xFFFFF000) == _steps() + _lanes(pd << 22)
            and v & _lanes(PRESENT | WRITE | USER) == _lanes(PRESENT | WRITE))


def _entry_problems(table: bytes, pd: int, first: int, last: int, pde: int) -> list[str]:
    problems = []
    for i in range(first, last):
        addr = (pd << 22) | (i << 12)
        pte = int.from_bytes(table[4 * i:4 * i + 4], "little")
        if not pte & PRESENT or pte & ~0xFFF != addr:
            problems.append(f"page {addr:#010x} does not map to itself (pde {pde:#010x}, pte {pte:#010x})")
        elif not pte & WRITE or pte & USER:
            problems.append(f"page {addr:#010x} has wrong flags (pde {pde:#010x}, pte {pte:#010x})")
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems
