"""Crash triage: one short paragraph that says what crashed, where, and why
that usually happens.

Sources: the kernel's own panic report (exception, error code, CR2, EIP) and,
for crashes the kernel could not report (triple faults), QEMU's exception
log from a second boot with `-d int,cpu_reset`. EIP is mapped to a function
and file:line with addr2line.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from . import qemu
from .build import binutil

# A line of QEMU's `-d int` log, e.g.
#      1: v=0e e=0002 i=0 cpl=0 IP=0008:00101b7d pc=00101b7d SP=0010:0011a9e8 CR2=e0000000
#   followed by a register dump whose CR0 line has CR2=.
_QEMU_EXCEPTION = re.compile(r"v=(?P<vector>[0-9a-f]{2}) e=(?P<err>[0-9a-f]{4}) i=(?P<soft>\d) cpl=(?P<cpl>\d) "
                             r"IP=[0-9a-f]{4}:(?P<eip>[0-9a-f]{8})[^\n]*\n(?:(?!\s*\d+: v=)[^\n]*\n)*?"
                             r"CR0=[0-9a-f]{8} CR2=(?P<cr2>[0-9a-f]{8})")
_KERNEL_FAULT = re.compile(r"^PANIC: unhandled (?P<name>.+?) \(vector (?P<vector>\d+)\) "
                           r"at EIP 0x(?P<eip>[0-9a-f]{8})")
_KERNEL_PF = re.compile(r"^\s+page fault at CR2=0x(?P<cr2>[0-9a-f]{8}): (?P<cause>.*) \(error code 0x(?P<err>[0-9a-f]+)\)")
_BACKTRACE = re.compile(r"^\s+#(?P<n>\d+) 0x(?P<addr>[0-9a-f]{8}) ")

EXCEPTIONS = {0: "divide error", 1: "debug", 3: "breakpoint", 6: "invalid opcode", 8: "double fault",
              10: "invalid TSS", 11: "segment not present", 12: "stack-segment fault",
              13: "general protection fault", 14: "page fault"}


@dataclass(frozen=True)
class Fault:
    vector: int
    eip: int
    cr2: int | None
    err: int | None
    cause: str  # decoded page-fault error code, or ""

    @property
    def name(self) -> str:
        return EXCEPTIONS.get(self.vector, f"exception {self.vector}")


def decode_page_fault(err: int) -> str:
    """The page-fault error code in words (as kernel/exception.c says it)."""
    access = "instruction fetch from" if err & 0x10 else "write to" if err & 2 else "read from"
    page = ("a page with reserved bits set" if err & 8 else
            "a present page (protection violation)" if err & 1 else "a non-present page")
    return f"{access} {page} in {'user' if err & 4 else 'kernel'} mode"


def fault_from_panic(lines: Sequence[str]) -> Fault | None:
    """The fault the kernel reported in its panic, if it was an exception."""
    for i, line in enumerate(lines):
        m = _KERNEL_FAULT.match(line)
        if not m:
            continue
        pf = _KERNEL_PF.match(lines[i + 1]) if i + 1 < len(lines) else None
        return Fault(int(m["vector"]), int(m["eip"], 16), int(pf["cr2"], 16) if pf else None,
                     int(pf["err"], 16) if pf else None, pf["cause"] if pf else "")
    return None


def fault_from_qemu_log(text: str) -> Fault | None:
    """The first hardware exception of the cascade that reset the CPU: the
    last exception that is not a software interrupt, a double fault or an
    IRQ, before the reset."""
    faults = [m for m in _QEMU_EXCEPTION.finditer(text) if m["soft"] == "0" and int(m["vector"], 16) < 32]
    if not faults:
        return None
    primary = [m for m in faults if int(m["vector"], 16) != 8]
    m = (primary or faults)[-1]
    vector, err = int(m["vector"], 16), int(m["err"], 16)
    return Fault(vector, int(m["eip"], 16), int(m["cr2"], 16), err,
                 decode_page_fault(err) if vector == 14 else "")


def addr2line(kernel: Path, addr: int) -> str:
    """'function at file:line' for an address of the kernel, or '?'."""
    tool = binutil("addr2line")
    try:
        out = subprocess.run([tool, "-f", "-C", "-e", str(kernel), f"{addr:#x}"], capture_output=True, text=True,
                             timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    if len(out) < 2 or out[0] == "??":
        return "?"
    location = re.sub(r" \(discriminator \d+\)", "", out[1])
    path, _, line = location.rpartition(":")
    root = str(Path(__file__).resolve().parent.parent) + "/"
    if path.startswith(root):  # the grader names gap files kernel/NAME in what it builds
        path = path[len(root):]
    return f"{out[0]} at {path}:{line}"


def hint(fault: Fault, where: str) -> str:
    """The usual reason for a fault like this one."""
    function = where.split(" ", 1)[0]
    if fault.vector == 14 and fault.cr2 is not None:
        # i386 without NX sets no fetch bit (0x10): a fault on the page of
        # EIP itself is the sign.
        if fault.cr2 >> 12 == fault.eip >> 12 or (fault.err or 0) & 0x10:
            return ("the CPU could not fetch the next instruction: if this is right after paging was turned on, "
                    "the identity map does not cover the kernel's code")
        if fault.cr2 < 0x1000:
            return "an access near address 0: a NULL pointer (page 0 is unmapped on purpose)"
        if fault.err is not None and fault.err & 1 and fault.err & 2:
            return "a write to a read-only page: check the PAGE_WRITE flag where this page is mapped"
        if 0xD0000000 <= fault.cr2 < 0xF0000000:
            return "an access to the kernel heap that is not mapped (lab 2: paging_alloc_page/paging_free_page)"
    if fault.vector == 13:
        return "a general protection fault: often a bad segment, a bad IDT/GDT, or iret with a broken frame"
    if function.startswith(("paging_", "init_paging", "process_", "sys_waitpid")):
        return f"the fault is in {function}, one of the lab functions: start there (see the handout's GDB section)"
    return ""


@dataclass(frozen=True)
class CrashTriage:
    """What a crash report says, piece by piece (reports draw it; text() is
    the paragraph a student reads)."""

    fault: Fault | None
    where: str  # "function at file:line" of EIP, or "?"
    source: str  # where the fault was read from
    hint: str
    backtrace: tuple[str, ...]
    last_lines: tuple[str, ...]

    def text(self) -> str:
        parts: list[str] = []
        if self.fault:
            parts.append(f"{self.fault.name} at EIP {self.fault.eip:#010x}: {self.where}")
            if self.fault.vector == 14 and self.fault.cr2 is not None:
                parts.append(f"CR2 (the address) {self.fault.cr2:#010x}: {self.fault.cause} "
                             f"(error code {self.fault.err:#x})")
            parts.append(f"(from {self.source})")
            if self.hint:
                parts.append(f"hint: {self.hint}")
        if self.backtrace:
            parts.append("backtrace: " + " <- ".join(self.backtrace))
        parts.append(last_lines(self.last_lines))
        return "\n".join(parts)

    def to_dict(self) -> dict:
        """The evidence.Triage shape."""
        f = self.fault
        return {"exception": f.name if f else "", "eip": f"{f.eip:#010x}" if f else "", "where": self.where,
                "cr2": f"{f.cr2:#010x}" if f and f.cr2 is not None else "", "cause": f.cause if f else "",
                "source": self.source, "hint": self.hint, "backtrace": list(self.backtrace),
                "last_lines": [ln[:160] for ln in self.last_lines]}


def triage_crash(result: qemu.RunResult, kernel: Path, rerun: Callable[[], Path] | None = None) -> CrashTriage:
    """The triage of a panic or a triple fault."""
    fault = fault_from_panic(result.lines)
    source = "the kernel's panic report"
    if fault is None and result.outcome is qemu.Outcome.TRIPLE_FAULT and rerun is not None:
        log = rerun()
        fault = fault_from_qemu_log(log.read_text(errors="replace")) if log.exists() else None
        source = f"QEMU's exception log ({log})"
    where = addr2line(kernel, fault.eip) if fault else "?"
    backtrace = [ln.strip() for ln in result.lines if _BACKTRACE.match(ln)]
    return CrashTriage(fault, where, source, hint(fault, where) if fault else "",
                       tuple(b.split(" ", 2)[2] for b in backtrace if len(b.split(" ", 2)) > 2),
                       tuple(tail(result.lines)))


def tail(lines: Sequence[str], count: int = 8) -> list[str]:
    """The last `count` lines of the serial log that are not blank."""
    return [ln for ln in lines if ln.strip()][-count:]


def last_lines(lines: Sequence[str], count: int = 8) -> str:
    """The end of the serial log, for context."""
    end = tail(lines, count)
    if not end:
        return "the kernel printed nothing"
    return "last lines of the serial log:\n" + "\n".join(f"  | {ln[:160]}" for ln in end)
