"""Looking at processes from a test: which QEMUs run, a process tree, a
process's state, which processes are left behind, and waiting for
something to happen."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


def processes() -> dict[int, tuple[int, list[str]]]:
    """Every live process (zombies aside): pid -> (parent pid, argv)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat)
            argv = (stat.parent / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            found[int(stat.parent.name)] = (int(fields[1]), argv)
    return found


def state(pid: int) -> str:
    """`pid`'s state letter in /proc (R, S, Z for a zombie, ...); OSError
    when it is gone."""
    return _stat_fields(Path(f"/proc/{pid}/stat"))[0]


def _stat_fields(stat: Path) -> list[str]:
    """The fields of a /proc/PID/stat after the command's name."""
    return stat.read_text().rsplit(")", 1)[1].split()


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes (this one aside) that
    contain `text`: for tests that check none is left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and text in cmdline and entry.name != str(os.getpid()):
            found.append(cmdline)
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
