"""The kernel <-> grader protocol: exit codes and harness markers.

The trusted harness (kernel/harness.c) prints

    [harness] begin <test> seed=<n>
    ...
    [harness] end <test> PASS checks=<n>
    [harness] end <test> FAIL            (after a "[harness] FAIL: <why>" line)

and ends QEMU through isa-debug-exit (kernel/qemu.h). These lines are for
humans and traces: a pass counts only when the grader itself stopped the
guest at the trusted pass point (grader/observer.py), so an end marker or
an exit status the grader did not see coming is a forged finish.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Exit statuses of QEMU: (value written to the isa-debug-exit port << 1) | 1.
EXIT_PASS = (0x31 << 1) | 1
EXIT_FAIL = (0x32 << 1) | 1
EXIT_PANIC = (0x33 << 1) | 1
EXIT_NOT_IMPLEMENTED = (0x34 << 1) | 1
EXIT_SHUTDOWN = (0x35 << 1) | 1
EXIT_TRIPLE_FAULT = 0  # QEMU with -no-reboot on a CPU reset
EXIT_QEMU_ERROR = 1

END_MARKER = re.compile(r"^\[harness\] end (?P<test>\S+) (?P<verdict>PASS|FAIL)(?: checks=(?P<checks>\d+))?\s*$")
FAIL_LINE = re.compile(r"^\[harness\] FAIL: (?P<message>.*)$")
NOT_IMPLEMENTED = re.compile(r"^NOT IMPLEMENTED: (?P<function>\w+)\(\) \(lab (?P<lab>\d+)\)")
PANIC_LINE = re.compile(r"^PANIC: (?P<message>.*)$")

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def fnv1a64(data: str, h: int = _FNV_OFFSET) -> int:
    """FNV-1a over the UTF-8 bytes of `data`, 64 bits."""
    for byte in data.encode():
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass(frozen=True)
class EndMarker:
    line: int  # 0-based index in the log
    test: str
    passed: bool


def parse_end_marker(line: str, index: int, test: str) -> EndMarker | None:
    """The end marker of `test` on this log line, if it is one."""
    m = END_MARKER.match(line)
    if m and m["test"] == test:
        return EndMarker(index, test, m["verdict"] == "PASS")
    return None


def end_markers(lines: list[str], test: str) -> list[EndMarker]:
    """Every end marker of `test` in the log (gap code may print fake ones)."""
    return [m for i, line in enumerate(lines) if (m := parse_end_marker(line, i, test))]


def fail_message(lines: list[str], test: str | None) -> str | None:
    """Why the test failed: the FAIL line just before the harness's last
    FAIL marker (a failed test is worth nothing whoever printed it, so this
    is feedback, never a verdict), else the first FAIL line."""
    markers = [m for m in end_markers(lines, test) if not m.passed] if test else []
    if markers and markers[-1].line > 0:
        m = FAIL_LINE.match(lines[markers[-1].line - 1])
        if m:
            return m["message"]
    return next((m["message"] for m in map(FAIL_LINE.match, lines) if m), None)
