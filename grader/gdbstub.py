"""A small client of QEMU's gdbstub (the GDB remote serial protocol) on a
private unix socket: breakpoints, watchpoints, continue, registers, memory.

Under TCG, QEMU checks breakpoints and watchpoints while translating and
running guest code: nothing is written into guest memory, so the guest
cannot see them. A stop costs well under a millisecond; a breakpoint is
removed when it has served (resuming on one would stop again at once).

Every failure (QEMU gone, a closed socket in the middle of a packet, no
answer in time) raises GdbError: the runner makes it a verdict.
"""
from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from . import unixsock

# Layout of the `g` packet of qemu-system-i386 (target/i386/gdbstub.c): 16
# general and segment registers, fs_base, gs_base, k_gs_base, then the control
# registers cr0, cr2, cr3, cr4, cr8 and efer (then FPU and SSE state).
_GENERAL = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", "cs", "ss", "ds", "es",
            "fs", "gs", "fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer")
_G_PACKET_SIZE = 344  # bytes: what qemu-system-i386 sends; anything else is another layout

# Z/z packet types.
BREAKPOINT, WRITE_WATCH, READ_WATCH, ACCESS_WATCH = 0, 2, 3, 4
_WATCH_KINDS = {b"watch": WRITE_WATCH, b"rwatch": READ_WATCH, b"awatch": ACCESS_WATCH}
_MAX_READ = 0x7F0  # bytes per `m` packet: the reply must fit QEMU's 4 KiB packet buffer


class GdbError(Exception):
    """The gdbstub went away, answered an error, or did not answer in time."""


@dataclass(frozen=True)
class Stop:
    """Why the guest stopped: a breakpoint (watch is None) or a watchpoint
    of `watch` kind whose range starts at `watch_addr`."""

    signal: int
    watch: int | None = None
    watch_addr: int = 0


class GdbStub:
    """One connection to `-gdb unix:PATH,server=on,wait=off` (with -S: the
    guest waits at its first instruction until resume())."""

    def __init__(self, path: Path, timeout: float = 5.0, connect_until: float | None = None) -> None:
        self._sock = _connect(path, connect_until or time.monotonic() + timeout)
        self._sock.settimeout(timeout)
        self._buf = b""
        self._phys = False
        self.running = False

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    # ---- Packets -------------------------------------------------------------

    def _send(self, payload: bytes) -> None:
        packet = b"$%s#%02x" % (payload, sum(payload) & 0xFF)
        try:
            self._sock.sendall(packet)
        except OSError as e:
            raise GdbError(f"the gdbstub closed its socket ({e})") from e
        if self._read_byte() != b"+":
            raise GdbError(f"the gdbstub refused the packet {payload[:20]!r}")

    def _read_byte(self) -> bytes:
        while not self._buf:
            self._fill()
        byte, self._buf = self._buf[:1], self._buf[1:]
        return byte

    def _fill(self) -> None:
        try:
            chunk = self._sock.recv(1 << 16)
        except socket.timeout as e:
            raise GdbError("the gdbstub did not answer in time") from e
        except OSError as e:
            raise GdbError(f"the gdbstub closed its socket ({e})") from e
        if not chunk:
            raise GdbError("the gdbstub closed its socket (QEMU exited)")
        self._buf += chunk

    def _receive(self) -> bytes:
        """The next packet's payload (acknowledged)."""
        while True:
            start = self._buf.find(b"$")
            end = self._buf.find(b"#", start + 1) if start >= 0 else -1
            if end >= 0 and len(self._buf) >= end + 3:
                payload = self._buf[start + 1:end]
                self._buf = self._buf[end + 3:]
                try:
                    self._sock.sendall(b"+")
                except OSError as e:
                    raise GdbError(f"the gdbstub closed its socket ({e})") from e
                return payload
            self._fill()

    def command(self, payload: bytes) -> bytes:
        """Sends one packet and returns the reply; an `Exx` reply raises."""
        self._send(payload)
        reply = self._receive()
        if reply.startswith(b"E") and len(reply) == 3:
            raise GdbError(f"the gdbstub answered {reply.decode()} to {payload[:24].decode(errors='replace')}")
        return reply

    def _ok(self, payload: bytes) -> None:
        reply = self.command(payload)
        if reply != b"OK":
            raise GdbError(f"the gdbstub does not support {payload[:3].decode()} (answered {reply[:20]!r})")

    # ---- Execution -----------------------------------------------------------

    def set_breakpoint(self, addr: int) -> None:
        self._ok(b"Z0,%x,1" % addr)

    def remove_breakpoint(self, addr: int) -> None:
        self._ok(b"z0,%x,1" % addr)

    def set_watchpoint(self, kind: int, addr: int, length: int) -> None:
        self._ok(b"Z%d,%x,%x" % (kind, addr, length))

    def remove_watchpoint(self, kind: int, addr: int, length: int) -> None:
        self._ok(b"z%d,%x,%x" % (kind, addr, length))

    def resume(self) -> None:
        """Continues the guest; the stop arrives later (wait_stop())."""
        self._send(b"c")
        self.running = True

    def has_reply(self) -> bool:
        """True when a reply is already buffered (select() will not say so)."""
        start = self._buf.find(b"$")
        end = self._buf.find(b"#", start + 1) if start >= 0 else -1
        return end >= 0 and len(self._buf) >= end + 3

    def wait_stop(self) -> Stop:
        """The stop reply that follows resume() (blocks; call it when the
        socket is readable)."""
        reply = self._receive()
        self.running = False
        if reply[:1] in (b"W", b"X"):
            raise GdbError("QEMU exited")
        if reply[:1] != b"T" and reply[:1] != b"S":
            raise GdbError(f"unexpected stop reply {reply[:40]!r}")
        signal = int(reply[1:3], 16)
        for field in reply[3:].split(b";"):
            name, _, value = field.partition(b":")
            if name in _WATCH_KINDS:
                return Stop(signal, _WATCH_KINDS[name], int(value, 16))
        return Stop(signal)

    # ---- State ---------------------------------------------------------------

    def registers(self) -> dict[str, int]:
        """eax ... eip, eflags, the segment selectors, cr0, cr2, cr3, cr4."""
        raw = bytes.fromhex(self.command(b"g").decode())
        if len(raw) != _G_PACKET_SIZE:
            raise GdbError(f"unknown register layout ({len(raw)} bytes): not qemu-system-i386?")
        return dict(zip(_GENERAL, struct.unpack_from(f"<{len(_GENERAL)}I", raw)))

    def read(self, addr: int, size: int, physical: bool = False) -> bytes:
        """Guest memory: virtual addresses through the current page tables,
        or physical ones."""
        if physical != self._phys:
            self._ok(b"Qqemu.PhyMemMode:%d" % physical)
            self._phys = physical
        out = bytearray()
        while len(out) < size:
            n = min(_MAX_READ, size - len(out))
            reply = self.command(b"m%x,%x" % (addr + len(out), n))
            if len(reply) != 2 * n:
                raise GdbError(f"could not read {n} bytes at {addr + len(out):#x}")
            out += bytes.fromhex(reply.decode())
        return bytes(out)

    def read_words(self, addr: int, count: int, physical: bool = False) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read(addr, 4 * count, physical)))


def _connect(path: Path, until: float) -> socket.socket:
    """Connects, waiting for QEMU to create the socket."""
    sock = unixsock.connect(path, until)
    if sock is None:
        raise GdbError(f"no gdbstub socket at {path}")
    return sock
