"""Running an untrusted tool (the compiler or the assembler on a gap file)
within limits: its own process group, CPU time, memory (address space),
file size and wall time, with stdin closed and its output in files.

Whatever happens, when a tool is finished no process of its group runs any
more: a tool that hangs (an #include of a pipe) is killed with all its
children.
"""
from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 20
    memory_mb: int = 512  # address space of each process
    file_mb: int = 64  # largest file a process may write (its output included)
    wall_seconds: float = 60.0

    def apply(self) -> None:
        """Sets the limits on the calling process (run in the child)."""
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (self.memory_mb << 20, self.memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_mb << 20, self.file_mb << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass(frozen=True)
class Finished:
    returncode: int  # negative: killed by that signal
    timed_out: bool  # killed after limits.wall_seconds
    seconds: float
    stdout: Path
    stderr: Path

    def error_text(self, limit: int = 256 << 10) -> str:
        """The start of the tool's error output (never more than `limit` bytes)."""
        with open(self.stderr, "rb") as f:
            return f.read(limit).decode(errors="replace")


@dataclass
class Running:
    """A tool started by start(); finish() waits for it."""
    proc: subprocess.Popen
    limits: Limits
    started: float
    stdout: Path
    stderr: Path

    def finish(self) -> Finished:
        """Waits until the tool ends or its wall time is up, then kills its
        whole process group."""
        left = self.limits.wall_seconds - (time.monotonic() - self.started)
        timed_out = not _wait_unreaped(self.proc, max(0.0, left))
        # The leader is not reaped yet, so its group id still names this group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        returncode = self.proc.wait()
        _wait_until_gone(self.proc.pid)
        return Finished(returncode, timed_out, time.monotonic() - self.started, self.stdout, self.stderr)


def start(argv: list[str], cwd: Path, env: dict[str, str], limits: Limits, output: Path) -> Running:
    """Starts `argv` with `limits` in a process group of its own; its
    stdout and stderr go to OUTPUT.out and OUTPUT.err. Several may run at
    once; each must be finished."""
    out, err = output.with_name(output.name + ".out"), output.with_name(output.name + ".err")
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                start_new_session=True, preexec_fn=limits.apply)
    return Running(proc, limits, time.monotonic(), out, err)


def run(argv: list[str], cwd: Path, env: dict[str, str], limits: Limits, output: Path) -> Finished:
    """start() and finish(): no process of the group is left on return."""
    return start(argv, cwd, env, limits, output).finish()


def _wait_until_gone(group: int, timeout: float = 10.0) -> None:
    """Waits until no process of `group` runs any more: SIGKILL takes
    effect when the process is next scheduled, not when kill() returns.
    (Orphans become zombies of init; a zombie runs nothing.)"""
    deadline = time.monotonic() + timeout
    while _runs(group) and time.monotonic() < deadline:
        time.sleep(0.005)


def _runs(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    if not os.path.isdir("/proc"):
        return False  # not Linux: the kill was sent, that is all one can know
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            return True
    return False


def _wait_unreaped(proc: subprocess.Popen, timeout: float) -> bool:
    """Waits until `proc` exits, without reaping it; False on timeout."""
    if not hasattr(os, "pidfd_open"):  # not Linux: reaping first leaves a tiny window, nothing more
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    fd = os.pidfd_open(proc.pid)
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)
