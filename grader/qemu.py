"""The QEMU runner: boots a kernel once and says how the boot ended.

One boot = one `RunRequest` in, one `RunResult` out. The runner reads the
serial port through a pipe into the test's log (capped), kills QEMU at the
wall-clock timeout, and classifies the end: a harness verdict (pass, fail,
panic, not implemented), a triple fault, a timeout, an output flood, a
forged finish, or an error of QEMU itself. A pass needs the pass exit code,
the test's end marker and the proof derived from this run's token.
"""
from __future__ import annotations

import functools
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable, Sequence

from . import protocol
from .qmp import Qmp, QmpError

QEMU = "qemu-system-i386"
# Serial output beyond this is a flood. The UART moves about 70 KB/s under
# TCG, so a kernel printing in a loop reaches it in a few seconds; no test
# prints a tenth of it.
DEFAULT_OUTPUT_CAP = 256 << 10
# Still printing this much when the timeout hits also counts as a flood.
_FLOOD_AT_TIMEOUT = 32 << 10
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
    FORGED = "forged finish"
    SHUTDOWN = "shutdown"  # a boot without a test that ended normally
    QEMU_ERROR = "qemu error"
    INTERRUPTED = "interrupted"  # QEMU killed from outside (Ctrl-C, SIGTERM, the OOM killer): no verdict


# Checks run from outside on a halted guest; they return problems found.
Inspector = Callable[[Qmp], list[str]]


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
    inspect: Inspector | None = None  # halt after the end marker and run this
    exception_log: Path | None = None  # collect QEMU's `-d int,cpu_reset` log here
    icount: bool = False  # deterministic instruction counting
    # Serial input: when a line matching the pattern appears, send the bytes.
    script: tuple[tuple[str, bytes], ...] = ()
    token: str = field(default_factory=protocol.new_token)
    # Boot this GRUB ISO instead of `kernel` with -kernel: its grub.cfg holds
    # the command line (cmdline() says what it must be).
    iso: Path | None = None

    def cmdline(self) -> str:
        """The multiboot command line this boot gets (token included)."""
        args = dict(self.params)
        if self.test:
            args = {"test": self.test, **args, "token": self.token}
        if self.inspect:
            args["halt"] = "1"
        return " ".join(f"{k}={v}" for k, v in args.items())

    def argv(self, qmp_socket: Path | None = None) -> list[str]:
        """The QEMU command line."""
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
        if self.exception_log:
            argv += ["-d", "int,cpu_reset", "-D", str(self.exception_log)]
        return argv


@dataclass(frozen=True)
class RunResult:
    request: RunRequest
    outcome: Outcome
    message: str  # one line: why it ended this way
    lines: tuple[str, ...]  # serial output, decoded, without CR
    exit_code: int | None
    elapsed: float
    stderr: str = ""

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
    """One running QEMU: reads its serial port until it ends or must be ended."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.data = bytearray()
        self.partial = b""
        self.partial_fired = False  # the unfinished last line already answered the script
        self.script = list(request.script)
        self.inspection: list[str] | None = None
        self.marker_problem: str | None = None
        self.killed_for: Outcome | None = None
        self.last_output = time.monotonic()

    def run(self) -> RunResult:
        req = self.request
        with tempfile.TemporaryDirectory(prefix="kq") as tmp:
            qmp_path = Path(tmp) / "qmp" if req.inspect else None
            start = time.monotonic()
            try:
                proc = subprocess.Popen(req.argv(qmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
            except FileNotFoundError:
                return self._result(Outcome.QEMU_ERROR, f"{QEMU} not found: run 'make deps'", None, 0.0, "")
            try:
                self._pump(proc, start, qmp_path)
                if self.killed_for is None:
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
                        stream.close()
            elapsed = time.monotonic() - start
        if req.log_path:
            req.log_path.parent.mkdir(parents=True, exist_ok=True)
            req.log_path.write_bytes(bytes(self.data))
        outcome, message = self._classify(proc.returncode, stderr)
        return self._result(outcome, message, proc.returncode, elapsed, stderr)

    def _pump(self, proc: subprocess.Popen, start: float, qmp_path: Path | None) -> None:
        assert proc.stdout
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = start + self.request.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.killed_for = Outcome.TIMEOUT
                return
            if not sel.select(min(left, 0.5)):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return  # QEMU exited
            self.data += chunk
            self.last_output = time.monotonic()
            if len(self.data) > self.request.output_cap:
                self.killed_for = Outcome.FLOOD
                return
            if self._scan(chunk, proc, qmp_path):
                return

    def _scan(self, chunk: bytes, proc: subprocess.Popen, qmp_path: Path | None) -> bool:
        """Looks at newly completed lines (and the partial last one, where a
        prompt waits); True when the boot is over."""
        text = self.partial + chunk
        *complete, self.partial = text.split(b"\n")
        for raw in complete:
            line = decode_lines(raw)[0] if raw.strip(b"\r") else ""
            if not self.partial_fired:  # a line answers the script once
                self._feed_script(line, proc)
            self.partial_fired = False
            marker = self.request.test and protocol.parse_end_marker(line, 0, self.request.test)
            if marker and marker.proves_pass(self.request.token):
                return self._inspect(proc, qmp_path)
        if self.partial.strip() and not self.partial_fired:
            self.partial_fired = self._feed_script(decode_lines(self.partial)[0], proc)
        return False

    def _feed_script(self, line: str, proc: subprocess.Popen) -> bool:
        """Sends the script's next input if `line` is what it waits for."""
        if not self.script or not re.search(self.script[0][0], line):
            return False
        _, data = self.script.pop(0)
        assert proc.stdin
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        return True

    def _inspect(self, proc: subprocess.Popen, qmp_path: Path | None) -> bool:
        """At the harness's pass marker, in halt mode: check the halted guest
        from outside, then quit QEMU. True when the boot is over."""
        if not self.request.inspect or qmp_path is None:
            return False
        try:
            with Qmp(qmp_path) as qmp:
                qmp.execute("stop")
                self.inspection = self.request.inspect(qmp)
                qmp.execute("quit")
        except (QmpError, OSError) as e:
            self.inspection = [f"could not inspect the halted guest through QMP: {e}"]
            proc.kill()
        return True

    def _classify(self, code: int | None, stderr: str) -> tuple[Outcome, str]:
        lines = decode_lines(bytes(self.data))
        last = next((line for line in reversed(lines) if line.strip()), "(no output)")
        idle = time.monotonic() - self.last_output
        if self.killed_for is Outcome.TIMEOUT and len(self.data) > _FLOOD_AT_TIMEOUT and idle < 0.5:
            return Outcome.FLOOD, (f"still printing when the {self.request.timeout:.1f} s timeout hit "
                                   f"({len(self.data) >> 10} KiB; a print in a loop?). Last line: {last[:120]}")
        if self.killed_for is Outcome.TIMEOUT:
            return Outcome.TIMEOUT, (f"stopped after {self.request.timeout:.1f} s; no progress for "
                                     f"{min(idle, self.request.timeout):.1f} s since: {last}")
        if self.killed_for is Outcome.FLOOD:
            return Outcome.FLOOD, (f"serial output passed {self.request.output_cap >> 10} KiB: stopped "
                                   f"(a print in a loop?). Last line: {last[:120]}")
        if self.inspection is not None:
            if self.inspection:
                return Outcome.FAIL, "checked from outside the guest: " + "; ".join(self.inspection)
            return Outcome.PASS, "passed (and checked from outside the guest)"
        return classify_exit(code, lines, self.request, stderr)

    def _result(self, outcome: Outcome, message: str, code: int | None, elapsed: float, stderr: str) -> RunResult:
        return RunResult(self.request, outcome, message, tuple(decode_lines(bytes(self.data))), code, elapsed,
                         stderr)


def classify_exit(code: int | None, lines: Sequence[str], req: RunRequest, stderr: str) -> tuple[Outcome, str]:
    """Outcome of a boot that ended by itself, from its exit status and log."""
    killed = _KILLED.search(stderr)
    if (code is not None and code < 0) or killed:
        signal = killed["signal"] if killed else -code
        return Outcome.INTERRUPTED, f"QEMU was killed from outside (signal {signal}): no verdict; grade again"
    if code == protocol.EXIT_PASS:
        return _classify_pass(list(lines), req)
    if code == protocol.EXIT_FAIL:
        return Outcome.FAIL, _first_match(lines, protocol.FAIL_LINE, "message") or "a harness check failed"
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


def _classify_pass(lines: list[str], req: RunRequest) -> tuple[Outcome, str]:
    if not req.test:
        return Outcome.FORGED, "pass exit code without a test"
    markers = protocol.end_markers(lines, req.test)
    if any(m.proves_pass(req.token) for m in markers):
        return Outcome.PASS, "passed"
    if not markers:
        return Outcome.FORGED, "QEMU got the pass exit code, but the harness never printed its end marker"
    return Outcome.FORGED, (f"the end marker at log line {markers[0].line + 1} does not carry this run's proof: "
                            "it was not printed by the harness")


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
