"""Checks from outside the guest: page tables read through QEMU's monitor
(QMP) once the harness has halted, so no code in the guest, trusted or not,
can make them pass.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from .qemu import Inspector
from .qmp import Qmp

PRESENT, WRITE, USER = 0x1, 0x2, 0x4
PAGE = 4096
CR0_PG = 0x80000000


@dataclass
class PageTables:
    """The current directory of a halted guest, read on demand."""

    qmp: Qmp
    cr3: int
    directory: list[int]

    @staticmethod
    def current(qmp: Qmp) -> PageTables:
        cr3 = qmp.registers()["CR3"] & ~0xFFF
        return PageTables(qmp, cr3, qmp.read_phys_words(cr3, 1024))

    def lookup(self, vaddr: int) -> tuple[int, int]:
        """(pde, pte) of `vaddr`; pte is 0 when there is no table."""
        pde = self.directory[vaddr >> 22]
        if not pde & PRESENT:
            return pde, 0
        return pde, self.qmp.read_phys_words((pde & ~0xFFF) + ((vaddr >> 12) & 0x3FF) * 4, 1)[0]


def identity_map_problems(mem_mb: int, samples: int, seed: int) -> Inspector:
    """An inspector: paging is on and `samples` random frames of RAM (and
    the first and last 4 MiB boundaries) map to themselves, kernel-only."""

    def inspect(qmp: Qmp) -> list[str]:
        if not qmp.registers()["CR0"] & CR0_PG:
            return ["CR0.PG is clear: paging is off"]
        tables = PageTables.current(qmp)
        ram = mem_mb << 20
        rng = random.Random(seed)
        addrs = {PAGE, 0x400000, 0x1000000 - PAGE, 0x1000000} | {rng.randrange(1, ram // PAGE - 32) * PAGE
                                                                  for _ in range(samples)}
        problems = []
        for addr in sorted(a for a in addrs if a < ram - (1 << 20)):
            pde, pte = tables.lookup(addr)
            if not pte & PRESENT or pte & ~0xFFF != addr:
                problems.append(f"page {addr:#010x} does not map to itself (pde {pde:#010x}, pte {pte:#010x})")
            elif (pde | pte) & USER or not pte & WRITE:
                problems.append(f"page {addr:#010x} has wrong flags (pde {pde:#010x}, pte {pte:#010x})")
        return problems[:3]

    return inspect
