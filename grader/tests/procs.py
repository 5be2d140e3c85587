"""Looking at processes from a test: which QEMUs run, a process tree, and
waiting for something to happen."""
from __future__ import annotations

import time
from pathlib import Path

import pytest


def processes() -> dict[int, tuple[int, list[str]]]:
    """Every live process (zombies aside): pid -> (parent pid, argv)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            argv = (stat.parent / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            found[int(stat.parent.name)] = (int(fields[1]), argv)
    return found


def qemus(*marks: str) -> list[int]:
    """The running QEMUs whose command line holds every one of `marks`."""
    return [pid for pid, (_, argv) in processes().items()
            if "qemu-system" in argv[0] and all(any(m in a for a in argv) for m in marks)]


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    table = processes()
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (pp, _) in table.items() if pp == parent]
        found += children
        frontier += children
    return found


def wait_for(condition, what: str, bound: float = 120.0):
    """Polls `condition` until it returns something true, and returns that.
    The bound is a guard against a hang, not a speed limit."""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"never happened: {what}")
