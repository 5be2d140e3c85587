"""A small QMP client: QEMU's monitor from outside the guest, for tests
that ask QEMU itself (a screendump of the memory map: test_memmap.py).
"""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path


class QmpError(Exception):
    """QEMU's monitor refused a command or went away."""


class Qmp:
    """A connection to `-qmp unix:PATH,server=on,wait=off`."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self._sock = _connect(path, timeout)
        self._sock.settimeout(timeout)
        self._buf = b""
        self._read_message()  # the greeting
        self.execute("qmp_capabilities")

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Qmp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, command: str, **arguments: object) -> object:
        """Runs one QMP command; returns its "return" value."""
        message: dict[str, object] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            # anything else is an asynchronous event: skip it

    def _read_message(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise QmpError("QEMU closed the monitor connection")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)


def _connect(path: Path, timeout: float) -> socket.socket:
    """Connects, waiting for QEMU to create the socket."""
    until = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > until:
                raise QmpError(f"no QMP socket at {path} after {timeout:.0f} s") from None
            time.sleep(0.002)
