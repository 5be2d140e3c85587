"""A small client of QEMU's gdbstub (the GDB remote serial protocol) on a
private unix socket: breakpoints, watchpoints, continue, registers, memory.

Under TCG, QEMU checks breakpoints and watchpoints while translating and
running guest code: nothing is written into guest memory, so the guest
cannot see them. A stop costs well under a millisecond; a breakpoint is
removed when it has served (resuming on one would stop again at once).
Packets go in batches (exchange()): QEMU answers them in order.

Every failure (QEMU gone, a closed socket in the middle of a packet, no
answer in time) raises GdbError: the runner makes it a verdict.
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


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


def listen(path: Path) -> socket.socket:
    """The socket QEMU's gdbstub connects to (`-gdb unix:PATH`); accept()
    it once readable."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(1)
    return sock


class GdbStub:
    """One connection from QEMU's gdbstub (with -S: the guest waits at its
    first instruction until the first resume)."""

    def __init__(self, sock: socket.socket, timeout: float = 5.0) -> None:
        self._sock = sock
        self._sock.settimeout(timeout)
        self._buf = b""
        self._phys = False
        self.running = False

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    # ---- Packets -------------------------------------------------------------

    def exchange(self, payloads: Sequence[bytes], resume: bool = False) -> list[bytes]:
        """Sends the packets in one write (QEMU answers them in order) and
        returns their replies; an `Exx` reply raises. With `resume`, a `c`
        follows: the guest runs on, and its next stop comes through
        wait_stop(). (One write and one wait per stop, however many
        packets: each wait costs a trip through the scheduler.)"""
        sent = [*payloads, b"c"] if resume else list(payloads)
        try:
            self._sock.sendall(b"".join(b"$%s#%02x" % (p, sum(p) & 0xFF) for p in sent))
        except OSError as e:
            raise GdbError(f"the gdbstub closed its socket ({e})") from e
        replies = []
        for payload in payloads:
            reply = self._receive()
            if reply.startswith(b"E") and len(reply) == 3:
                raise GdbError(f"the gdbstub answered {reply.decode()} to {payload[:24].decode(errors='replace')}")
            replies.append(reply)
        self.running = resume
        return replies

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
        """The next packet's payload (QEMU's `+` for ours are skipped).

        Never acknowledged: QEMU (system emulation) does not wait for a `+`,
        drops an unacknowledged reply when the next command comes, and takes
        any byte that arrives while the guest runs as an order to stop it,
        so a late `+` would stop the guest."""
        while True:
            start = self._buf.find(b"$")
            end = self._buf.find(b"#", start + 1) if start >= 0 else -1
            if end >= 0 and len(self._buf) >= end + 3:
                payload = self._buf[start + 1:end]
                self._buf = self._buf[end + 3:]
                return payload
            self._fill()

    def take_input(self) -> bool:
        """Reads what the socket holds (call it when select() says it is
        readable): True when a whole reply is now buffered. QEMU also sends
        bare `+` acknowledgements, which are no stop."""
        self._fill()
        return self.has_reply()

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
        raw = bytes.fromhex(self.exchange([b"g"])[0].decode())
        if len(raw) != _G_PACKET_SIZE:
            raise GdbError(f"unknown register layout ({len(raw)} bytes): not qemu-system-i386?")
        return dict(zip(_GENERAL, struct.unpack_from(f"<{len(_GENERAL)}I", raw)))

    def read(self, addr: int, size: int, physical: bool = False) -> bytes:
        """Guest memory: virtual addresses through the current page tables,
        or physical ones (all packets in one exchange)."""
        mode = [] if physical == self._phys else [b"Qqemu.PhyMemMode:%d" % physical]
        chunks = [(at, min(_MAX_READ, addr + size - at)) for at in range(addr, addr + size, _MAX_READ)]
        replies = self.exchange(mode + [b"m%x,%x" % chunk for chunk in chunks])
        self._phys = physical
        if mode and replies[0] != b"OK":
            raise GdbError("the gdbstub cannot read physical memory (Qqemu.PhyMemMode)")
        out = bytearray()
        for (at, n), reply in zip(chunks, replies[len(mode):]):
            if len(reply) != 2 * n:
                raise GdbError(f"could not read {n} bytes at {at:#x}")
            out += bytes.fromhex(reply.decode())
        return bytes(out)

    def read_words(self, addr: int, count: int, physical: bool = False) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read(addr, 4 * count, physical)))


def breakpoint_packet(addr: int, insert: bool = True) -> bytes:
    """The packet that sets (or removes) a breakpoint at `addr`."""
    return b"%s%d,%x,1" % (b"Z" if insert else b"z", BREAKPOINT, addr)


def watchpoint_packet(kind: int, addr: int, length: int, insert: bool = True) -> bytes:
    """The packet that sets (or removes) a watchpoint of `kind` over a range."""
    return b"%s%d,%x,%x" % (b"Z" if insert else b"z", kind, addr, length)


def expect_ok(replies: list[bytes]) -> None:
    """Raises unless every reply is OK (an empty one: not supported)."""
    for reply in replies:
        if reply != b"OK":
            raise GdbError(f"the gdbstub does not support a breakpoint or watchpoint (answered {reply[:20]!r})")
