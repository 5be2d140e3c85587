"""Connecting to a unix socket that QEMU creates when it gets to it."""
from __future__ import annotations

import socket
import time
from pathlib import Path


def connect(path: Path, until: float) -> socket.socket | None:
    """A connection to `path`, retried until time.monotonic() reaches
    `until` while the socket does not exist or refuses; None then."""
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > until:
                return None
            time.sleep(0.002)
