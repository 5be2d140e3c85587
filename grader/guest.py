"""The guest as the grader's checks see it while it is stopped: its
physical memory, and what an inspector gets at the pass point.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from .gdbstub import GdbStub
from .kernelmap import KernelMap

_SMALL_READ = 8192  # bytes: below this the gdbstub's answer comes as fast
_HIGH_MEMORY = 0x100000  # below: the PC's ROM and device windows, not plain RAM
_PROBE = 256  # bytes compared, through the gdbstub, to tell guest RAM among QEMU's mappings


class Memory:
    """Guest physical memory while the guest is stopped. Small reads go
    through the gdbstub; large ones straight from QEMU's own memory
    (/proc/PID/mem at the host address of guest RAM), many times faster per
    byte (tools/bench.py measures both). Where the host does not let the
    grader read QEMU's memory, everything goes through the gdbstub."""

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
                self._candidates = [int(f[0].split("-")[0], 16) for f in map(str.split, maps)
                                    if len(f) == 5 and f[1] == "rw-p" and f[4] == "0" and _size(f[0]) == self._ram_bytes]
        except OSError:  # the host does not let the grader read QEMU's memory
            pass

    def read(self, addr: int, size: int, through: str = "") -> bytes:
        """`size` bytes at physical `addr`; `through` "gdb" or "host"
        forces the way (tools/bench.py compares them)."""
        if not through:
            large = size > _SMALL_READ and _HIGH_MEMORY <= addr and addr + size <= self._ram_bytes
            through = "host" if large and self.direct else "gdb"
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
        """True when large reads come straight from QEMU's memory: the one
        candidate mapping whose bytes at 1 MiB are those the gdbstub reads
        there (checked once, with the guest stopped)."""
        if not self._checked:
            self._checked = True
            if self._candidates is None:
                self.prepare()
            probe = self._gdb.read(_HIGH_MEMORY, _PROBE, physical=True) if self._candidates else b""
            found = [ram for ram in self._candidates or () if any(probe) and self._pread(_PROBE, ram + _HIGH_MEMORY)
                     == probe]
            self._ram = found[0] if len(found) == 1 else None
        return self._ram is not None

    def words(self, addr: int, count: int) -> list[int]:
        data = self.read(addr, 4 * count)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)

    def _pread(self, size: int, at: int) -> bytes:
        assert self._fd is not None
        try:
            return os.pread(self._fd, size, at)
        except OSError:  # the host does not let the grader read QEMU's memory
            return b""


def _size(span: str) -> int:
    start, end = span.split("-")
    return int(end, 16) - int(start, 16)


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
