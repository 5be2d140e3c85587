"""The grader's own eyes on one boot: a test passes only when the grader
sees it pass, through QEMU's gdbstub.

Before the guest runs its first instruction, the observer sets read
watchpoints (under TCG the guest cannot see them) on the harness's stop
words, which trusted code reads:

- in harness_run_stage, which kmain reaches before any lab code: there the
  observer arms the watchpoints behind the review flags;
- in harness_start_test, right before it calls the test's function: the
  frame the test starts with;
- in harness_call_hook, right before it calls a hook that may pass the
  test (a scheduler hook, kernelmap.pass_functions): the frame the hook
  starts with;
- in harness_pass, the trusted pass point;

and a breakpoint at each of those hooks, for a hook called otherwise (a
breakpoint seen through harness_call_hook is removed before the hook
runs). QEMU throws away all the code it has translated at every
breakpoint stop, not at a watchpoint's: translating it again costs about
a millisecond.

At the harness_pass stop a pass counts only when all of these hold:

1. the return address is a `call harness_pass` in a trusted function that
   may pass this test, and the caller's frame is the one the grader saw
   that function start (a fake stack or a jump into its middle from
   elsewhere fails);
2. the test's function started, called by harness_start_test;
3. the kernel image translates to itself (paging walked from outside), and
   every trusted byte of .text, .rodata and .ksyms equals the ELF's, read
   from guest physical memory;
4. no interrupt gate leads into gap code (it could run inside trusted
   code), and where a function that passes the test calls gap code, every
   such call came back to the instruction after it, but those still on the
   stack (counted inside QEMU by grader/callwatch.py: a rewritten return
   address fails);
5. the test's inspector (checks of guest state from outside) finds nothing.

Review flags record what no correct solution does, with the instruction
that did it; they never change points. Watchpoints: reads of trusted code
or of the symbol table, writes to the read-only image or to tables trusted
code set up before the labs run; QEMU's trace of its firmware
configuration device (fw_cfg) after that point, read from a pipe.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .callwatch import CallCounts
from .fwcfg import FwCfgTrace
from .gdbstub import READ_WATCH, WRITE_WATCH, GdbError, GdbStub, breakpoint_packet, expect_ok, watchpoint_packet
from .guest import Halted, Inspector, Memory
from .kernelmap import (IDT, START_FRAME, STOP_ARM, STOP_HOOK, STOP_PASS, STOP_START, SYMBOL_TABLE_READER, Function,
                        KernelMap, Range)

PAGE = 4096
CR0_PG, CR4_PSE, CR4_PAE = 0x80000000, 0x10, 0x20
PDE_PS = 0x80
_MAX_FRAMES = 32
_STACK_WINDOW = 2032  # bytes of stack read at once: one gdbstub packet
_STOP_READ = "read the harness's stop words, which only the harness reads"  # the flag


class ObserverError(Exception):
    """The gdbstub, or reading QEMU's memory, failed while the guest was stopped."""


@dataclass(frozen=True)
class Refusal:
    """Why the stop at harness_pass does not count."""

    kind: str  # "forged", "tampered" or "inspection"
    message: str


@dataclass(frozen=True)
class _Watch:
    kind: int
    range: Range
    flag: str  # what a hit means, for the instructor


@dataclass
class Observer:
    """Watches one boot of `test` (see the module's docstring)."""

    gdb: GdbStub
    kernel: KernelMap
    test: str
    memory: Memory
    inspect: Inspector | None = None
    fw_cfg: FwCfgTrace | None = None
    calls: CallCounts | None = None
    passed: bool = False
    refusal: Refusal | None = None
    flags: list[str] = field(default_factory=list)
    _hooks: frozenset[int] = frozenset()  # the other functions that may pass the test
    _breakpoints: set[int] = field(default_factory=set)  # at hooks not yet seen start
    _entries: dict[int, tuple[int, int]] = field(default_factory=dict)  # function -> (ESP at entry, stop number)
    _stops: int = 0
    _test_cr3: int = 0
    _watches: list[_Watch] = field(default_factory=list)
    _stack: _StackWindow | None = None  # the stack at the current stop

    def start(self) -> None:
        """Sets the stops and lets the guest run its first instruction."""
        k = self.kernel
        if self.test in k.tests:
            self._hooks = frozenset(f.start for f in k.pass_functions(self.test)) - {k.tests[self.test]}
            self._breakpoints = set(self._hooks)
        stops = [watchpoint_packet(READ_WATCH, k.stop_words + word, 4)
                 for word in (STOP_ARM, STOP_START, STOP_PASS, STOP_HOOK)]
        expect_ok(self.gdb.exchange([*stops, *map(breakpoint_packet, self._breakpoints)], resume=True))
        self.memory.prepare()  # while the guest boots

    def on_stop(self) -> bool:
        """Handles the stop the gdbstub just reported and resumes the guest;
        True when the boot is over (a pass that does not count). Raises
        GdbError when QEMU went away (EOF while the guest ran: it exited)."""
        stop = self.gdb.wait_stop()
        self._stops += 1
        try:
            regs = self.gdb.registers()
            word = stop.watch_addr - self.kernel.stop_words if stop.watch == READ_WATCH else -1
            if stop.watch is None:
                packets = self._on_hook(regs)
            elif word == STOP_ARM and self._trusted_stop(regs, word):
                packets = [watchpoint_packet(READ_WATCH, stop.watch_addr, 4, insert=False), *self._arm()]
            elif word in (STOP_START, STOP_HOOK) and self._trusted_stop(regs, word):
                # The function it calls, its argument on the stack.
                replies = self.gdb.exchange([b"m%x,4" % (regs["ebp"] + 8)])
                function = int.from_bytes(bytes.fromhex(replies[0].decode()), "little")
                packets = self._on_call(regs, function)
            elif word == STOP_PASS and self._trusted_stop(regs, word):
                self._on_pass(regs)
                if self.refusal:
                    return True
                packets = []
            elif word in (STOP_ARM, STOP_START, STOP_PASS, STOP_HOOK):
                packets = self._foreign_stop_read(regs)
            else:
                packets = self._on_watch(stop.watch, stop.watch_addr, regs)
            expect_ok(self.gdb.exchange(packets, resume=True))
            return False
        except (GdbError, OSError) as e:
            raise ObserverError(str(e)) from e

    def finish(self) -> None:
        """After QEMU exited: the flag from QEMU's fw_cfg trace."""
        self.memory.close()
        if self.fw_cfg and self.fw_cfg.count:
            self.flags.append(f"used QEMU's firmware configuration device (I/O ports 0x510-0x511): selected "
                              f"{self.fw_cfg.count} items while the kernel ran")

    # ---- Watchpoints ---------------------------------------------------------

    def _arm(self) -> list[bytes]:
        """The watchpoints' packets (sent with the resume)."""
        k = self.kernel
        self._watches = [_Watch(READ_WATCH, k.trusted_code, "read the kernel's code as data"),
                         _Watch(READ_WATCH, k.symbol_table, "read the kernel's symbol table"),
                         # .text and .rodata are adjacent: one watchpoint for both.
                         *[_Watch(WRITE_WATCH, r, "wrote into the kernel's code or read-only data")
                           for r in (Range(k.read_only[0].start, k.read_only[1].end), k.read_only[2])],
                         *[_Watch(WRITE_WATCH, r, f"wrote {what}, which only trusted code sets up")
                           for what, r in k.settled.items()]]
        if self.fw_cfg:
            self.fw_cfg.arm()
        return [watchpoint_packet(w.kind, w.range.start, w.range.size) for w in self._watches]

    def _on_watch(self, kind: int, addr: int, regs: dict[str, int]) -> list[bytes]:
        """A watchpoint hit: flag it when gap code is behind it (once per
        watchpoint: returns the packet that removes it). Trusted code alone
        (a check that reads kernel memory on purpose, the panic path
        reading the symbol table for a backtrace) is not flagged; a frame
        chain that leaves the kernel's functions counts as gap code."""
        watch = next((w for w in self._watches if w.kind == kind and w.range.start == addr), None)
        if watch is None:
            raise ObserverError(f"a watchpoint at {addr:#x} that the grader never set")
        chain = self._backtrace(regs)
        if all(f is not None and f.trusted for _, f in chain):
            return []  # kept: gap code may still do the same later
        self._watches.remove(watch)
        if not (watch.range == self.kernel.symbol_table and _panic_path(chain)):
            self.flags.append(f"{watch.flag} ({self._culprit(chain)})")
        return [watchpoint_packet(watch.kind, watch.range.start, watch.range.size, insert=False)]

    def _backtrace(self, regs: dict[str, int]) -> list[tuple[int, Function | None]]:
        """The EIP and the calls on the frame chain (within the kernel
        stack), innermost first, each with its function."""
        k = self.kernel
        self._stack = _StackWindow(self.gdb, k.stack, regs["esp"])
        return [(regs["eip"], k.function_at(regs["eip"]))] + [(ret - 1, k.function_at(ret - 1))
                                                              for ret, _ in self._frames(regs["ebp"])]

    def _culprit(self, chain: list[tuple[int, Function | None]]) -> str:
        """Where a flagged access came from: the instruction, and the gap
        code that led there when the instruction is trusted."""
        here = f"at {self.kernel.where(chain[0][0])}"
        gap = next((addr for addr, f in chain if f is not None and not f.trusted), None)
        if gap is None or gap == chain[0][0]:
            return here
        return f"{here}, called from {self.kernel.where(gap)}"

    # ---- Entries and the pass ------------------------------------------------

    def _trusted_stop(self, regs: dict[str, int], word: int) -> bool:
        """True when the stop word was read where the harness reads it
        (any other read of it is flagged: _foreign_stop_read)."""
        k = self.kernel
        if word == STOP_ARM:
            reader = k.function_at(regs["eip"] - 1)
            return reader is not None and reader.start == k.arm_point
        return regs["eip"] == {STOP_START: k.start_stop, STOP_HOOK: k.hook_stop, STOP_PASS: k.pass_stop}[word]

    def _foreign_stop_read(self, regs: dict[str, int]) -> list[bytes]:
        """A stop word read other than where the harness reads it: flagged
        once (the watchpoint stays, for the harness's own stops)."""
        if not any(f.startswith(_STOP_READ) for f in self.flags):
            self.flags.append(f"{_STOP_READ} ({self._culprit(self._backtrace(regs))})")
        return []

    def _on_hook(self, regs: dict[str, int]) -> list[bytes]:
        """A breakpoint at a hook that may pass the test: the frame it
        starts with (returns the packet that removes the breakpoint)."""
        eip = regs["eip"]
        if eip not in self._breakpoints:
            raise ObserverError(f"the guest stopped at {eip:#x}, where no breakpoint is")
        self._breakpoints.remove(eip)
        self._entries[eip] = (regs["esp"], self._stops)
        return [breakpoint_packet(eip, insert=False)]

    def _on_call(self, regs: dict[str, int], function: int) -> list[bytes]:
        """harness_start_test or harness_call_hook is about to call
        `function`, which starts with ESP START_FRAME bytes lower: its
        entry, when it may pass the test (returns the packet that removes
        a hook's breakpoint, which would stop the guest again)."""
        if function == self.kernel.tests.get(self.test):
            self._test_cr3 = regs["cr3"]
        elif function not in self._hooks:
            return []
        self._entries[function] = (regs["esp"] - START_FRAME, self._stops)
        if function not in self._breakpoints:
            return []
        self._breakpoints.remove(function)
        return [breakpoint_packet(function, insert=False)]

    def _on_pass(self, regs: dict[str, int]) -> None:
        self._stack = _StackWindow(self.gdb, self.kernel.stack, regs["esp"])
        # Changed code explains anything else that looks wrong: it comes first.
        self.refusal = (self._image_problem(regs) or self._caller_problem(regs) or self._hooked_gate()
                        or self._unreturned_call(regs))
        if self.refusal is None and self.inspect is not None:
            problems = self.inspect(Halted(regs, self._test_cr3, self.memory, self.kernel))
            if problems:
                self.refusal = Refusal("inspection", "; ".join(problems))
        self.passed = self.refusal is None

    def _caller_problem(self, regs: dict[str, int]) -> Refusal | None:
        k = self.kernel
        esp, ebp = regs["esp"], regs["ebp"]
        if esp not in k.stack:
            return Refusal("forged", f"harness_pass was reached with the stack pointer at {esp:#x}, outside the "
                                     "kernel stack")
        ret = self._stack.word(esp)
        site = k.pass_sites.get(ret)
        if site is None:
            return Refusal("forged", f"harness_pass was reached from {k.where(ret - 1)}, not from a call in "
                                     "trusted test code")
        if self.test not in k.tests:
            return Refusal("forged", f"harness_pass was called, but this kernel has no test named {self.test}")
        if site not in k.pass_functions(self.test):
            return Refusal("forged", f"harness_pass was called from {site.name}, which does not belong to test "
                                     f"{self.test}")
        test = k.tests[self.test]
        if test not in self._entries:
            return Refusal("forged", f"harness_pass was called before the test's function {self.test} started")
        if site.start not in self._entries or self._entries[site.start][1] < self._entries[test][1]:
            return Refusal("forged", f"harness_pass was called from {site.name}, which the grader never saw start "
                                     "during this test (a jump into its middle)")
        frame = self._entries[site.start][0] - 4
        if ebp != frame:
            return Refusal("forged", f"harness_pass was called from {site.name} with a frame at {ebp:#x}, not the "
                                     f"one it started with ({frame:#x}): a made-up stack")
        return None

    def _hooked_gate(self) -> Refusal | None:
        """An interrupt or exception gate that leads into gap code: that
        code can then run in the middle of any trusted function."""
        k = self.kernel
        idt = k.settled[IDT]
        gates = struct.iter_unpack("<HHBBH", self.memory.read(idt.start, idt.size))
        handlers = {vector: low | high << 16 for vector, (low, _, _, kind, high) in enumerate(gates) if kind & 0x80}
        trusted = {h for h in set(handlers.values()) if k.is_trusted_code(h)}
        vector = next((v for v, h in handlers.items() if h not in trusted), None)
        if vector is None:
            return None
        return Refusal("forged", f"interrupt vector {vector} leads to {k.where(handlers[vector])}, outside the "
                                 "kernel's trusted code: gap code could run inside trusted code")

    def _unreturned_call(self, regs: dict[str, int]) -> Refusal | None:
        """A call into gap code that did not come back to its return site,
        though it is no longer on the stack (or the other way round)."""
        if self.calls is None:
            return None
        k = self.kernel
        pending = [ret for ret, _ in self._frames(regs["ebp"])]
        for (call, ret), (calls, returns) in zip(self.calls.sites, self.calls.read()):
            open_calls = calls - returns
            if open_calls == pending.count(ret):
                continue
            callee = k.where(k.call_target(call)).split("+")[0]
            if open_calls > pending.count(ret):
                return Refusal("forged", f"the call to {callee} at {k.where(call)} never came back there: the gap "
                                         "code left it another way (a rewritten return address, a jump into "
                                         "trusted code)")
            return Refusal("forged", f"trusted code ran at {k.where(ret)}, the return from {callee}, without that "
                                     "call: a jump into trusted code")
        return None

    def _frames(self, ebp: int) -> list[tuple[int, int]]:
        """(return address, frame) of each frame on the chain from `ebp`,
        within the kernel stack."""
        k, out = self.kernel, []
        for _ in range(_MAX_FRAMES):
            if ebp % 4 or ebp not in k.stack or ebp + 8 > k.stack.end:
                break
            next_ebp, ret = self._stack.word(ebp), self._stack.word(ebp + 4)
            out.append((ret, ebp))
            if next_ebp <= ebp:
                break
            ebp = next_ebp
        return out

    def _image_problem(self, regs: dict[str, int]) -> Refusal | None:
        """The kernel image translates to itself, and its trusted bytes are
        the ELF's."""
        k = self.kernel
        if regs["cr0"] & CR0_PG:
            if regs["cr4"] & CR4_PAE:
                return Refusal("tampered", "PAE paging is on: the kernel never turns it on")
            page = self._first_moved_page(regs["cr3"] & ~0xFFF, regs["cr4"] & CR4_PSE != 0)
            if page is not None:
                return Refusal("tampered", f"page {page:#010x} of the kernel image does not map to itself")
        for span in k.trusted_spans:
            changes = span.changes(self.memory.read(span.range.start, span.range.size))
            if changes:
                at, changed = changes
                return Refusal("tampered", f"the kernel's trusted code or read-only data changed while the test "
                                           f"ran: {changed} bytes, the first at {k.where(at)}")
        return None

    def _first_moved_page(self, cr3: int, pse: bool) -> int | None:
        """The first page of the kernel image that does not translate to
        itself through the directory at `cr3`, or None."""
        image = self.kernel.image
        first, last = image.start // PAGE, (image.end - 1) // PAGE
        directory = self.memory.words(cr3 + (first >> 10) * 4, (last >> 10) - (first >> 10) + 1)
        for pd in range(first >> 10, (last >> 10) + 1):
            pde = directory[pd - (first >> 10)]
            lo, hi = max(first, pd << 10), min(last, (pd << 10) | 0x3FF)
            if not pde & 1:
                return lo * PAGE
            if pse and pde & PDE_PS:
                if pde & 0xFFC00000 != pd << 22:
                    return lo * PAGE
                continue
            table = self.memory.words((pde & ~0xFFF) + (lo & 0x3FF) * 4, hi - lo + 1)
            for page, pte in zip(range(lo, hi + 1), table):
                if not pte & 1 or pte & ~0xFFF != page * PAGE:
                    return page * PAGE
        return None


class _StackWindow:
    """The top of the kernel stack from ESP at a stop, read in one packet;
    words further up are read one by one."""

    def __init__(self, gdb: GdbStub, stack: Range, esp: int) -> None:
        self._gdb = gdb
        self._start = esp if esp in stack else 0
        self._data = gdb.read(esp, min(stack.end - esp, _STACK_WINDOW)) if self._start else b""

    def word(self, addr: int) -> int:
        at = addr - self._start
        if self._start and 0 <= at <= len(self._data) - 4:
            return int.from_bytes(self._data[at:at + 4], "little")
        return self._gdb.read_words(addr, 1)[0]


def _panic_path(chain: list[tuple[int, Function | None]]) -> bool:
    """True when the trusted backtrace printer is on the chain before any
    gap code: a panic reading symbol names."""
    for _, f in chain:
        if f is None or not f.trusted:
            return False
        if f.name == SYMBOL_TABLE_READER:
            return True
    return False

