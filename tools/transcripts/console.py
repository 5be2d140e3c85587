"""Processes a transcript runs (QEMU, GDB, make), read as they print,
and the make commands a student types."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time

from grader.build import ROOT

from . import normalize
from .kinds import SESSION_TIMEOUT, GenerateError, Kit, shell_env


def show_port(text: str, port: int) -> str:
    """The text with the port a run used shown as a student's port."""
    return re.sub(rf"(port |tcp::|localhost:){port}\b", rf"\g<1>{normalize.PORT}", text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """A process whose output is read as it comes (a thread collects it),
    killed with its whole process group when done."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env or shell_env())
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self._chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace").replace("\r", "")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = SESSION_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.text, re.M)) < count:
            if self.proc.poll() is not None:
                self._reader.join(5)
                if len(re.findall(pattern, self.text, re.M)) >= count:
                    return
                raise GenerateError(f"{pattern!r} never came; the output was:\n{self.text[-2000:]}")
            if time.monotonic() > deadline:
                raise GenerateError(f"{pattern!r} did not come in {timeout:.0f} s:\n{self.text[-2000:]}")
            time.sleep(0.02)

    def wait_quiet(self, seconds: float = 1.0) -> None:
        """Waits until nothing has come for `seconds` (or the process ended)."""
        seen = -1
        while len(self._chunks) != seen and self.proc.poll() is None:
            seen = len(self._chunks)
            time.sleep(seconds)

    def type(self, line: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = SESSION_TIMEOUT) -> str:
        """Waits for the process to end by itself; kills it after `timeout`."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise GenerateError(f"still running after {timeout:.0f} s:\n{self.text[-2000:]}")
        self._reader.join(5)
        return self.text

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._reader.join(5)


def make_vars(kit: Kit, source: str) -> list[str]:
    return [f"GAP_DIR={kit.gap_dir(source)}", f"OUT={kit.out(source)}"]


def prebuild(kit: Kit, source: str) -> None:
    """What `make` builds before a student runs anything (the disassembly
    too), so that the transcript shows no compiler lines."""
    subprocess.run(["make", "-s", "kernel", *make_vars(kit, source)], cwd=ROOT, check=True, capture_output=True,
                   env=shell_env())


def make_dry_run(args: list[str]) -> list[str]:
    """The commands `make -n ARGS` would run, one a line, continuations joined."""
    out = subprocess.run(["make", "-s", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=shell_env())
    return out.stdout.replace("\\\n", " ").splitlines()
