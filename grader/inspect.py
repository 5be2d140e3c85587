"""Checks from outside the guest, on the guest stopped at the pass point:
page tables read out of guest physical memory, completely, so no code in
the guest, trusted or not, can make them pass.
"""
from __future__ import annotations

import functools
from array import array

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
    pages = end // PAGE
    # Page 0 stays unmapped (NULL faults): the entries checked start at page 1.
    if _maps_to_itself(b"".join(tables[directory[pd] & ~0xFFF] for pd in used)[4:4 * pages], 1):
        return []
    for pd in used:  # something is wrong: find what, table by table
        first = 1 if pd == 0 else 0
        last = min(ENTRIES, pages - pd * ENTRIES)
        table = tables[directory[pd] & ~0xFFF]
        if _maps_to_itself(table[4 * first:4 * last], pd * ENTRIES + first):
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


# Byte maps for bytes.translate(): the flags checked (present, writable,
# user) of an entry's low byte, and the frame's bits of its second byte.
_FLAG_BITS = bytes(b & (PRESENT | WRITE | USER) for b in range(256))
_FRAME_BITS = bytes(b & 0xF0 for b in range(256))


@functools.cache
def _identity_frames() -> tuple[bytes, bytes, bytes]:
    """Bytes 1, 2 and 3 of each entry of an identity map of the first
    IDENTITY_LIMIT bytes of memory (its frames), a column each."""
    frames = array("I", range(0, IDENTITY_LIMIT, PAGE)).tobytes()
    return frames[1::4], frames[2::4], frames[3::4]


def _maps_to_itself(entries: bytes, first_page: int) -> bool:
    """Entry i maps page first_page + i to itself, present, writable, not
    user, for every entry: checked a column of bytes at a time (about a
    millisecond for the 1 MiB of a 1 GiB map)."""
    count = len(entries) // 4
    want = [column[first_page:first_page + count] for column in _identity_frames()]
    return (entries[0::4].translate(_FLAG_BITS) == bytes([PRESENT | WRITE]) * count
            and entries[1::4].translate(_FRAME_BITS) == want[0]
            and entries[2::4] == want[1] and entries[3::4] == want[2])


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
