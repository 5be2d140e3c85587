"""QEMU's firmware configuration device (fw_cfg, I/O ports 0x510-0x511),
as the grader watches it: QEMU traces each item the guest selects into a
pipe, and the grader counts those that come after the boot loader's.
"""
from __future__ import annotations

import os
import select

FW_CFG_EVENT = "fw_cfg_select"  # QEMU trace event: the guest chose an item of the fw_cfg device


class FwCfgTrace:
    """QEMU's trace of fw_cfg item selections, read from a pipe (QEMU -D):
    counts the selections made once armed (the boot loader's come before)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.armed = False
        self.count = 0
        self._tail = b""

    def feed(self) -> bool:
        """Reads what QEMU wrote; False at the end of the pipe."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return True
        text = self._tail + chunk
        cut = text.rfind(b"\n") + 1  # whole lines only; the rest waits for its end
        if self.armed:
            self.count += text[:cut].count(FW_CFG_EVENT.encode())
        self._tail = text[cut:]
        return bool(chunk)

    def arm(self) -> None:
        while self.feed() and self._readable():
            pass
        self.armed = True

    def _readable(self) -> bool:
        return bool(select.select([self.fd], [], [], 0)[0])
