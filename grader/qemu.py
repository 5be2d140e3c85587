"""The QEMU runner: boots a kernel once and says how the boot ended.

One boot = one `RunRequest` in, one `RunResult` out. The runner reads the
serial port through a pipe into the test's log (capped), kills QEMU at the
wall-clock timeout, and classifies the end: a harness verdict (pass, fail,
panic, not implemented), a triple fault, a timeout, an output flood, a
forged finish, a modified kernel, or an error of QEMU itself.

A test boot runs under the grader's eyes (grader/observer.py): QEMU starts
paused with a gdbstub on a private socket, and a pass counts only when the
grader itself stopped the guest at the trusted pass point and found it
genuine, then saw QEMU exit with the pass status. A QEMU that dies at any
moment is a verdict, never a grader error.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import select
import selectors
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Sequence

from . import gdbstub, protocol
from .callwatch import CallCounts
from .gdbstub import GdbError, GdbStub
from .kernelmap import KernelMap
from .fwcfg import FW_CFG_EVENT, FwCfgTrace
from .guest import Inspector, Memory
from .observer import Observer, ObserverError

QEMU = "qemu-system-i386"
# Serial output beyond this is a flood. The UART moves about 70 KB/s under
# TCG, so a kernel printing in a loop reaches it in a few seconds; no test
# prints a tenth of it.
DEFAULT_OUTPUT_CAP = 256 << 10
# Still printing this much when the timeout hits also counts as a flood.
_FLOOD_AT_TIMEOUT = 32 << 10
_LAZY_READ = 0.02  # seconds between reads of the serial port while the grader watches (_Boot._pump)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# QEMU's last words when a signal ends it; it then exits 0, like a triple
# fault under -no-reboot. The guest cannot write to QEMU's stderr.
_KILLED = re.compile(r"terminating on signal (?P<signal>\d+)")


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"  # a trusted check failed
    PANIC = "panic"
    NOT_IMPLEMENTED = "not implemented"
    TRIPLE_FAULT = "triple fault"
    TIMEOUT = "timeout"
    FLOOD = "output flood"
    FORGED = "forged finish"  # the pass status or end marker without the grader seeing the pass
    TAMPERED = "kernel modified"  # trusted code or read-only data changed, or the image moved
    SHUTDOWN = "shutdown"  # a boot without a test that ended normally
    QEMU_ERROR = "qemu error"
    INTERRUPTED = "interrupted"  # QEMU killed from outside (Ctrl-C, SIGTERM, the OOM killer): no verdict


@functools.cache
def fast_firmware() -> tuple[str, ...]:
    """qboot instead of SeaBIOS when QEMU has it: a -kernel boot then takes
    about 40 ms less (Debian ships it in qemu-system-data)."""
    try:
        out = subprocess.run([QEMU, "-L", "help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if any((Path(d.strip()) / "qboot.rom").is_file() for d in out.splitlines()):
        return ("-bios", "qboot.rom")
    return ()


@dataclass(frozen=True)
class RunRequest:
    kernel: Path
    test: str | None  # None: a normal boot
    params: dict[str, str] = field(default_factory=dict)  # test parameters (seed included)
    mem_mb: int = 64
    timeout: float = 10.0
    log_path: Path | None = None
    output_cap: int = DEFAULT_OUTPUT_CAP
    inspect: Inspector | None = None  # run on the guest stopped at the pass point
    exception_log: Path | None = None  # collect QEMU's `-d int,cpu_reset` log here
    icount: bool = False  # deterministic instruction counting
    # Serial input: when a line matching the pattern appears, send the bytes.
    script: tuple[tuple[str, bytes], ...] = ()
    # Boot this GRUB ISO instead of `kernel` with -kernel: its grub.cfg holds
    # the command line (cmdline() says what it must be).
    iso: Path | None = None

    def cmdline(self) -> str:
        """The multiboot command line this boot gets: nothing secret (the
        guest can read it back from QEMU's fw_cfg device)."""
        args = {"test": self.test, **self.params} if self.test else dict(self.params)
        return " ".join(f"{k}={v}" for k, v in args.items())

    def argv(self, qmp_socket: Path | None = None, gdb_socket: Path | None = None,
             trace_log: Path | None = None, plugin: Sequence[str] = ()) -> list[str]:
        """The QEMU command line; with `gdb_socket`, paused at the first
        instruction, its gdbstub connected to the grader listening there
        (QEMU connects as it starts: nobody waits for a socket to appear);
        with `qmp_socket`, a QMP monitor there; with `trace_log`, the
        fw_cfg items the guest selects traced into it; `plugin`: the
        arguments that load a TCG plugin."""
        boot = ["-cdrom", str(self.iso)] if self.iso else [*fast_firmware(), "-kernel", str(self.kernel),
                                                            "-append", self.cmdline()]
        # -nodefaults and a small translation cache: about 20% less CPU per
        # boot (no VGA, floppy or default drives; tools/bench.py measures).
        argv = [QEMU, "-nodefaults", "-accel", "tcg,tb-size=16", "-m", f"{self.mem_mb}M", "-no-reboot",
                "-display", "none", "-nic", "none", "-monitor", "none", "-serial", "stdio",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *boot]
        if self.icount:
            argv += ["-icount", "shift=0,align=off,sleep=off"]
        if qmp_socket:
            argv += ["-qmp", f"unix:{qmp_socket},server=on,wait=off"]
        if gdb_socket:
            argv += ["-S", "-gdb", f"unix:{gdb_socket}"]
        if self.exception_log:
            argv += ["-d", "int,cpu_reset", "-D", str(self.exception_log)]
        elif trace_log:
            argv += ["-trace", FW_CFG_EVENT, "-D", str(trace_log)]
        return argv + list(plugin)


@dataclass(frozen=True)
class RunResult:
    request: RunRequest
    outcome: Outcome
    message: str  # one line: why it ended this way
    lines: tuple[str, ...]  # serial output, decoded, without CR
    exit_code: int | None
    elapsed: float
    stderr: str = ""
    flags: tuple[str, ...] = ()  # for the instructor's review (never points)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS


def decode_lines(data: bytes) -> list[str]:
    """Serial bytes as lines: UTF-8 (bad bytes replaced), CR dropped, other
    control characters shown as U+FFFD so reports stay printable."""
    text = data.decode("utf-8", errors="replace").replace("\r", "")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [_CONTROL.sub("\ufffd", line.replace("\t", "    ")) for line in lines]


class _Boot:
    """One running QEMU: reads its serial port and the grader's gdbstub
    until it ends or must be ended."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.data = bytearray()
        self.partial = b""
        self.partial_fired = False  # the unfinished last line already answered the script
        self.script = list(request.script)
        self.observer: Observer | None = None
        self.lost: str | None = None  # why the grader lost its gdbstub while QEMU still ran
        self.killed_for: Outcome | None = None
        self.last_output = time.monotonic()

    def run(self) -> RunResult:
        req = self.request
        kernel = KernelMap.load(req.kernel) if req.test else None
        with tempfile.TemporaryDirectory(prefix="kq") as tmp:
            paths = {name: Path(tmp) / name for name in ("gdb", "trace")} if kernel else {}
            listener = gdbstub.listen(paths["gdb"]) if kernel else None
            trace = None
            if kernel and not req.exception_log:  # (that log takes QEMU's -D)
                os.mkfifo(paths["trace"])
                trace = FwCfgTrace(os.open(paths["trace"], os.O_RDONLY | os.O_NONBLOCK))
            # Calls are counted (a TCG plugin slows all of QEMU's translation) only where gap code
            # can run inside a function that passes the test.
            counted = kernel and req.test in kernel.tests and kernel.pass_calls_gap_code(req.test)
            calls = CallCounts.create(Path(tmp), kernel.gap_calls) if counted else None
            start = time.monotonic()
            try:
                proc = subprocess.Popen(req.argv(None, paths.get("gdb"), trace and paths["trace"],
                                                 calls.argv if calls else ()),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        bufsize=0)
            except FileNotFoundError:
                return self._result(Outcome.QEMU_ERROR, f"{QEMU} not found: run 'make deps'", None, 0.0, "")
            try:
                if not kernel or self._observe(proc, kernel, listener, trace, calls, start):
                    self._pump(proc, start, trace)
                if self._ends_by_itself():
                    proc.wait(timeout=5)  # the serial port closed: QEMU is exiting
            except subprocess.TimeoutExpired:
                pass
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                for stream in (proc.stdin, proc.stdout, proc.stderr):
                    if stream:
                        with contextlib.suppress(OSError):  # a pipe QEMU closed first
                            stream.close()
                if trace:
                    while trace.feed():
                        pass
                    os.close(trace.fd)
                if listener:
                    listener.close()
                if self.observer:
                    self.observer.gdb.close()
                    self.observer.finish()
            elapsed = time.monotonic() - start
        if req.log_path:
            req.log_path.parent.mkdir(parents=True, exist_ok=True)
            req.log_path.write_bytes(bytes(self.data))
        outcome, message = self._classify(proc.returncode, stderr)
        return self._result(outcome, message, proc.returncode, elapsed, stderr)

    def _ends_by_itself(self) -> bool:
        """False when the runner must end QEMU (timeout, flood, a refused
        pass or a lost gdbstub: QEMU may be stopped at a breakpoint)."""
        refused = self.observer is not None and self.observer.refusal is not None
        return self.killed_for is None and self.lost is None and not refused

    def _observe(self, proc: subprocess.Popen, kernel: KernelMap, listener: socket.socket,
                 trace: FwCfgTrace | None, calls: CallCounts | None, start: float) -> bool:
        """Takes the paused QEMU's gdbstub connection and starts watching;
        False when QEMU is gone before that (its exit status tells why)."""
        deadline = start + self.request.timeout
        while not select.select([listener], [], [], 0.05)[0]:
            if proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.killed_for = Outcome.TIMEOUT
                return False
        try:
            gdb = GdbStub(listener.accept()[0])
            memory = Memory(gdb, proc.pid, self.request.mem_mb << 20)
            self.observer = Observer(gdb, kernel, self.request.test or "", memory, self.request.inspect, trace,
                                     calls)
            self.observer.start()
        except (GdbError, OSError) as e:
            self.lost = f"could not start watching the guest: {e}"
            return False
        return True

    def _pump(self, proc: subprocess.Popen, start: float, trace: FwCfgTrace | None) -> None:
        """Reads the serial port (and the fw_cfg trace) and serves the
        gdbstub until QEMU ends or must be ended. With the grader watching
        and no script to answer, the port and the trace are read at each
        stop and every _LAZY_READ seconds, not at each byte QEMU writes:
        Python wakes a few times a boot instead of dozens, and leaves the
        CPU to QEMU. QEMU's end then shows first on the gdbstub's socket."""
        assert proc.stdout
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        sel = selectors.DefaultSelector()
        gdb = self.observer.gdb if self.observer else None
        lazy = gdb is not None and not self.script
        if gdb:
            sel.register(gdb, selectors.EVENT_READ)
        if not lazy:
            self._watch_outputs(sel, fd, trace)
        deadline = start + self.request.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.killed_for = Outcome.TIMEOUT
                return
            if gdb and gdb.running and gdb.has_reply() and self._on_gdb(sel, buffered=True):
                return
            for key, _ in sel.select(min(left, _LAZY_READ if lazy else 0.5)):
                if key.fileobj is gdb:
                    if self._on_gdb(sel):
                        return
                    if lazy and gdb not in sel.get_map():  # QEMU is exiting: read to the end
                        lazy = False
                        self._watch_outputs(sel, fd, trace)
                elif trace and key.fd == trace.fd:
                    if not trace.feed():
                        sel.unregister(trace.fd)
                elif not self._read_serial(fd, proc):
                    return
            if lazy:
                if trace:
                    trace.feed()
                if not self._read_serial(fd, proc):
                    return

    @staticmethod
    def _watch_outputs(sel: selectors.BaseSelector, fd: int, trace: FwCfgTrace | None) -> None:
        sel.register(fd, selectors.EVENT_READ)
        if trace:
            sel.register(trace.fd, selectors.EVENT_READ)

    def _read_serial(self, fd: int, proc: subprocess.Popen) -> bool:
        """Reads what the serial port holds; False when the boot is over
        (QEMU closed it, or the output passed its cap)."""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return True
            if not chunk:
                return False  # QEMU exited
            self.data += chunk
            self.last_output = time.monotonic()
            if len(self.data) > self.request.output_cap:
                self.killed_for = Outcome.FLOOD
                return False
            if self.script:  # (lines are decoded only while the script waits for one)
                self._scan(chunk, proc)

    def _on_gdb(self, sel: selectors.BaseSelector, buffered: bool = False) -> bool:
        """The gdbstub spoke (or a stop came `buffered` with earlier
        replies): a stop to handle, or QEMU exiting. True when the boot is
        over now."""
        assert self.observer
        try:
            return (buffered or self.observer.gdb.take_input()) and self.observer.on_stop()
        except GdbError:  # the socket closed while the guest ran: QEMU is exiting
            sel.unregister(self.observer.gdb)
        except ObserverError as e:
            self.lost = f"lost the gdbstub while the guest was stopped: {e}"
            return True
        return False

    def _scan(self, chunk: bytes, proc: subprocess.Popen) -> None:
        """Feeds the script from newly completed lines (and the partial last
        one, where a prompt waits)."""
        text = self.partial + chunk
        *complete, self.partial = text.split(b"\n")
        for raw in complete:
            line = decode_lines(raw)[0] if raw.strip(b"\r") else ""
            if not self.partial_fired:  # a line answers the script once
                self._feed_script(line, proc)
            self.partial_fired = False
        if self.partial.strip() and not self.partial_fired:
            self.partial_fired = self._feed_script(decode_lines(self.partial)[0], proc)

    def _feed_script(self, line: str, proc: subprocess.Popen) -> bool:
        """Sends the script's next input if `line` is what it waits for (to
        a QEMU that may have exited meanwhile: then nothing is sent)."""
        if not self.script or not re.search(self.script[0][0], line):
            return False
        _, data = self.script.pop(0)
        assert proc.stdin
        with contextlib.suppress(OSError):  # BrokenPipeError: QEMU exited
            proc.stdin.write(data)
        return True

    def _classify(self, code: int | None, stderr: str) -> tuple[Outcome, str]:
        lines = decode_lines(bytes(self.data))
        last = next((line for line in reversed(lines) if line.strip()), "(no output)")
        idle = time.monotonic() - self.last_output
        observer = self.observer
        refusal = observer.refusal if observer else None
        if refusal:
            if refusal.kind == "inspection":
                return Outcome.FAIL, "checked from outside the guest: " + refusal.message
            return (Outcome.TAMPERED if refusal.kind == "tampered" else Outcome.FORGED), refusal.message
        passed = bool(observer and observer.passed)
        forged = _unseen_pass_marker(lines, self.request, passed)
        if forged:
            return Outcome.FORGED, forged
        if self.lost and (code is None or code < 0):  # QEMU did not end by itself
            return Outcome.QEMU_ERROR, self.lost
        if self.killed_for is Outcome.TIMEOUT and len(self.data) > _FLOOD_AT_TIMEOUT and idle < 0.5:
            return Outcome.FLOOD, (f"still printing when the {self.request.timeout:.1f} s timeout hit "
                                   f"({len(self.data) >> 10} KiB; a print in a loop?). Last line: {last[:120]}")
        if self.killed_for is Outcome.TIMEOUT:
            return Outcome.TIMEOUT, (f"stopped after {self.request.timeout:.1f} s; no progress for "
                                     f"{min(idle, self.request.timeout):.1f} s since: {last}")
        if self.killed_for is Outcome.FLOOD:
            return Outcome.FLOOD, (f"serial output passed {self.request.output_cap >> 10} KiB: stopped "
                                   f"(a print in a loop?). Last line: {last[:120]}")
        return classify_exit(code, lines, self.request, stderr, passed)

    def _result(self, outcome: Outcome, message: str, code: int | None, elapsed: float, stderr: str) -> RunResult:
        return RunResult(self.request, outcome, message, tuple(decode_lines(bytes(self.data))), code, elapsed,
                         stderr, tuple(self.observer.flags) if self.observer else ())


def classify_exit(code: int | None, lines: Sequence[str], req: RunRequest, stderr: str,
                  passed: bool = False) -> tuple[Outcome, str]:
    """Outcome of a boot that ended by itself, from its exit status, its log
    and whether the grader saw the test pass (`passed`)."""
    killed = _KILLED.search(stderr)
    if (code is not None and code < 0) or killed:
        signal = killed["signal"] if killed else -code
        return Outcome.INTERRUPTED, f"QEMU was killed from outside (signal {signal}): no verdict; grade again"
    forged = _unseen_pass_marker(lines, req, passed)
    if forged:
        return Outcome.FORGED, forged
    if code == protocol.EXIT_PASS:
        if passed:
            return Outcome.PASS, "passed (and checked from outside the guest)" if req.inspect else "passed"
        return Outcome.FORGED, ("QEMU got the pass exit status, but the grader never saw the test reach "
                                "harness_pass" if req.test else "pass exit status without a test")
    if code == protocol.EXIT_FAIL:
        return Outcome.FAIL, protocol.fail_message(list(lines), req.test) or "a harness check failed"
    if code == protocol.EXIT_PANIC:
        return Outcome.PANIC, _first_match(lines, protocol.PANIC_LINE, "message") or "the kernel stopped"
    if code == protocol.EXIT_NOT_IMPLEMENTED:
        m = next((m for m in map(protocol.NOT_IMPLEMENTED.match, lines) if m), None)
        what = f"{m['function']}() (lab {m['lab']})" if m else "a gap function"
        return Outcome.NOT_IMPLEMENTED, f"{what} is not implemented"
    if code == protocol.EXIT_TRIPLE_FAULT:
        return Outcome.TRIPLE_FAULT, "the CPU reset (an exception while handling an exception)"
    if code == protocol.EXIT_SHUTDOWN:
        if req.test:
            return Outcome.FORGED, "the kernel shut down normally instead of running the test"
        return Outcome.SHUTDOWN, "the kernel shut down normally"
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    return Outcome.QEMU_ERROR, f"QEMU exited with status {code}: {detail}"


def _unseen_pass_marker(lines: Sequence[str], req: RunRequest, passed: bool) -> str | None:
    """Why the log's pass marker is forged: printed although the grader
    never saw the test pass (None when there is none, or the pass was seen)."""
    if passed or not req.test:
        return None
    marker = next((m for m in protocol.end_markers(list(lines), req.test) if m.passed), None)
    if marker is None:
        return None
    return (f"log line {marker.line + 1} says the test passed, but the grader never saw it reach harness_pass: "
            "the harness did not print it")


def _first_match(lines: Sequence[str], pattern: re.Pattern[str], group: str) -> str | None:
    for line in lines:
        m = pattern.match(line)
        if m:
            return m[group]
    return None


def run(request: RunRequest) -> RunResult:
    """Boots `request.kernel` once and classifies how it ended."""
    return _Boot(request).run()


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None
