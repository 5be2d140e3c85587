"""The guest as the grader's checks see it while it is stopped: its
physical memory, and what an inspector gets at the pass point.
"""
from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from typing import Callable

from .gdbstub import GdbStub
from .kernelmap import KernelMap

_HIGH_MEMORY = 0x100000  # below: the PC's ROM and device windows, not plain RAM
# A private anonymous mapping in /proc/PID/maps: where QEMU may keep guest RAM.
_ANONYMOUS = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0 *$", re.MULTILINE)
_PROBE = 256  # bytes compared, through the gdbstub, to tell guest RAM among QEMU's mappings


class Memory:
    """Guest physical memory while the guest is stopped, read straight from
    QEMU's own memory (/proc/PID/mem at the host address of guest RAM):
    no round trip to QEMU, and many times faster per byte than the gdbstub
    (tools/bench.py measures both). Below 1 MiB (the PC's ROM and device
    windows), past the end of RAM, and where the host does not let the
    grader read QEMU's memory, reads go through the gdbstub."""

    def __init__(self, gdb: GdbStub, pid: int, ram_bytes: int) -> None:
        self._gdb = gdb
        self._pid = pid
        self._ram_bytes = ram_bytes
        self._fd: int | None = None  # QEMU's memory
        self._candidates: list[int] | None = None  # where guest RAM may be in it (None: not looked yet)
        self._ram: int | None = None  # where it is, once checked
        self._checked = False

    def prepare(self) -> None:
        """Lists QEMU's mappings that may hold guest RAM: the anonymous ones
        of exactly its size. Call it while the guest runs: it costs about a
        millisecond, which a stop would add to the boot."""
        self._candidates = []
        try:
            self._fd = os.open(f"/proc/{self._pid}/mem", os.O_RDONLY)
            with open(f"/proc/{self._pid}/maps") as maps:
                spans = _ANONYMOUS.findall(maps.read())
            self._candidates = [int(a, 16) for a, b in spans if int(b, 16) - int(a, 16) == self._ram_bytes]
        except OSError:  # the host does not let the grader read QEMU's memory
            pass

    def read(self, addr: int, size: int, through: str = "") -> bytes:
        """`size` bytes at physical `addr`; `through` "gdb" or "host"
        forces the way (tools/bench.py compares them)."""
        if not through:
            through = "host" if _HIGH_MEMORY <= addr and addr + size <= self._ram_bytes and self.direct else "gdb"
        if through == "gdb":
            return self._gdb.read(addr, size, physical=True)
        if not self.direct:
            raise OSError("QEMU's memory cannot be read on this host")
        assert self._fd is not None and self._ram is not None
        data = os.pread(self._fd, size, self._ram + addr)
        if len(data) != size:
            raise OSError(f"QEMU's memory at guest address {addr:#x}: {len(data)} of {size} bytes")
        return data

    @property
    def direct(self) -> bool:
        """True when reads come straight from QEMU's memory: the one
        candidate mapping whose bytes at 1 MiB are those the gdbstub reads
        there (checked once, with the guest stopped)."""
        if not self._checked:
            self._checked = True
            if self._candidates is None:
                self.prepare()
            probe = self._gdb.read(_HIGH_MEMORY, _PROBE, physical=True) if self._candidates else b""
            if any(probe):  # (an image wiped at 1 MiB tells no mapping apart)
                found = [ram for ram in self._candidates or () if self._pread(_PROBE, ram + _HIGH_MEMORY) == probe]
                self._ram = found[0] if len(found) == 1 else None
        return self._ram is not None

    def words(self, addr: int, count: int) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read(addr, 4 * count)))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)

    def _pread(self, size: int, at: int) -> bytes:
        assert self._fd is not None
        try:
            return os.pread(self._fd, size, at)
        except OSError:  # the host does not let the grader read QEMU's memory
            return b""


@dataclass(frozen=True)
class Halted:
    """What an inspector sees: the guest stopped at the pass point."""

    registers: dict[str, int]
    test_cr3: int  # CR3 when the test's function started
    memory: Memory
    kernel: KernelMap


# Checks run from outside on the guest stopped at the pass point; they
# return the problems found (none: the state is right).
Inspector = Callable[[Halted], list[str]]
