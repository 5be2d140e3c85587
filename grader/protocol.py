"""The kernel <-> grader protocol: exit codes, harness markers, the proof.

The trusted harness (kernel/harness.c) prints

    [harness] begin <test> seed=<n>
    ...
    [harness] end <test> PASS checks=<n> proof=<16 hex digits>
    [harness] end <test> FAIL            (after a "[harness] FAIL: <why>" line)

and ends QEMU through isa-debug-exit (kernel/qemu.h). A pass counts only
with the pass exit code, the end marker of the test that was asked for, and
the proof: FNV-1a-64 of "<token>:<test>", where the token is a fresh random
value the grader put on the command line and the harness wiped before any
gap code ran.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

# Exit statuses of QEMU: (value written to the isa-debug-exit port << 1) | 1.
EXIT_PASS = (0x31 << 1) | 1
EXIT_FAIL = (0x32 << 1) | 1
EXIT_PANIC = (0x33 << 1) | 1
EXIT_NOT_IMPLEMENTED = (0x34 << 1) | 1
EXIT_SHUTDOWN = (0x35 << 1) | 1
EXIT_TRIPLE_FAULT = 0  # QEMU with -no-reboot on a CPU reset
EXIT_QEMU_ERROR = 1

END_MARKER = re.compile(r"^\[harness\] end (?P<test>\S+) (?P<verdict>PASS|FAIL)"
                        r"(?: checks=(?P<checks>\d+))?(?: proof=(?P<proof>[0-9a-f]{16}))?\s*$")
FAIL_LINE = re.compile(r"^\[harness\] FAIL: (?P<message>.*)$")
NOT_IMPLEMENTED = re.compile(r"^NOT IMPLEMENTED: (?P<function>\w+)\(\) \(lab (?P<lab>\d+)\)")
PANIC_LINE = re.compile(r"^PANIC: (?P<message>.*)$")

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def fnv1a64(data: str, h: int = _FNV_OFFSET) -> int:
    """FNV-1a over the UTF-8 bytes of `data`, 64 bits (as kernel/harness.c)."""
    for byte in data.encode():
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def new_token() -> str:
    """A fresh run token: 16 random hex digits."""
    return secrets.token_hex(8)


def proof_for(token: str, test: str) -> str:
    """The proof the harness prints when `test` passes with `token`."""
    return f"{fnv1a64(f'{token}:{test}'):016x}"


@dataclass(frozen=True)
class EndMarker:
    line: int  # 0-based index in the log
    test: str
    passed: bool
    proof: str | None

    def proves_pass(self, token: str) -> bool:
        """True when this is the harness's pass marker for this run's token."""
        return self.passed and self.proof == proof_for(token, self.test)


def parse_end_marker(line: str, index: int, test: str) -> EndMarker | None:
    """The end marker of `test` on this log line, if it is one."""
    m = END_MARKER.match(line)
    if m and m["test"] == test:
        return EndMarker(index, test, m["verdict"] == "PASS", m["proof"])
    return None


def end_markers(lines: list[str], test: str) -> list[EndMarker]:
    """Every end marker of `test` in the log (gap code may print fake ones)."""
    return [m for i, line in enumerate(lines) if (m := parse_end_marker(line, i, test))]
