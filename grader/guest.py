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
        self._looked = False
        self._host: tuple[int, int] | None = None  # QEMU's memory (fd), and guest RAM's address in it

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
        fd, ram = self._host
        data = os.pread(fd, size, ram + addr)
        if len(data) != size:
            raise OSError(f"QEMU's memory at guest address {addr:#x}: {len(data)} of {size} bytes")
        return data

    @property
    def direct(self) -> bool:
        """True when large reads come straight from QEMU's memory."""
        return self._guest_ram() is not None

    def words(self, addr: int, count: int) -> list[int]:
        data = self.read(addr, 4 * count)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def close(self) -> None:
        if self._host:
            os.close(self._host[0])

    def _guest_ram(self) -> tuple[int, int] | None:
        """QEMU's memory and guest RAM's address in it, found once: the one
        anonymous mapping of exactly the RAM's size whose bytes at 1 MiB are
        those the gdbstub reads there (None when QEMU's memory cannot be read)."""
        if not self._looked:
            self._looked = True
            try:
                fd = os.open(f"/proc/{self._pid}/mem", os.O_RDONLY)
            except OSError:
                return None
            with open(f"/proc/{self._pid}/maps") as maps:
                starts = [int(f[0].split("-")[0], 16) for f in map(str.split, maps)
                          if len(f) == 5 and f[1] == "rw-p" and f[4] == "0" and _size(f[0]) == self._ram_bytes]
            probe = self._gdb.read(_HIGH_MEMORY, _PROBE, physical=True)
            found = [start for start in starts if any(probe) and _pread(fd, _PROBE, start + _HIGH_MEMORY) == probe]
            if len(found) == 1:
                self._host = (fd, found[0])
            else:
                os.close(fd)
        return self._host


def _size(span: str) -> int:
    start, end = span.split("-")
    return int(end, 16) - int(start, 16)


def _pread(fd: int, size: int, at: int) -> bytes:
    try:
        return os.pread(fd, size, at)
    except OSError:  # the host refuses to let the grader read QEMU's memory
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
