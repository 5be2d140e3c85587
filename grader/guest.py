"""The guest as the grader's checks see it while it is stopped: its
physical memory, and what an inspector gets at the pass point.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .gdbstub import GdbStub
from .kernelmap import KernelMap
from .qmp import Qmp, QmpError

_SMALL_READ = 8192  # bytes: below this the gdbstub reads faster than a QMP pmemsave


class Memory:
    """Guest physical memory while the guest is stopped: small reads
    through the gdbstub, large ones with one QMP pmemsave (several times
    faster per byte; tools/bench.py measures both)."""

    def __init__(self, gdb: GdbStub, qmp_path: Path | None) -> None:
        self._gdb = gdb
        self._qmp_path = qmp_path
        self._qmp: Qmp | None = None

    def connect(self) -> None:
        """Opens the QMP connection ahead of time (while the guest runs)."""
        if self._qmp is None and self._qmp_path is not None:
            self._qmp = Qmp(self._qmp_path)

    def read(self, addr: int, size: int, through: str = "") -> bytes:
        """`size` bytes at physical `addr`; `through` "gdb" or "qmp" forces
        the way (tools/bench.py compares them)."""
        if through == "gdb" or not through and (size <= _SMALL_READ or self._qmp_path is None):
            return self._gdb.read(addr, size, physical=True)
        self.connect()
        assert self._qmp and self._qmp_path
        dump = self._qmp_path.with_name("pmem")
        self._qmp.execute("pmemsave", val=addr, size=size, filename=str(dump))
        data = dump.read_bytes()
        if len(data) != size:
            raise QmpError(f"pmemsave at {addr:#x}: {len(data)} of {size} bytes")
        return data

    def words(self, addr: int, count: int) -> list[int]:
        data = self.read(addr, 4 * count)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def close(self) -> None:
        if self._qmp:
            self._qmp.close()


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
