"""Stopping where the kernel gives up, and saying why: `fault`.

A panic ends QEMU at once (isa-debug-exit), so there is nothing left to
look at afterwards. Kestrel's .gdbinit therefore stops GDB at the entry of
each way out, before it runs: an unhandled exception (panic_trap), a
panic, a gap stub (gap_not_implemented) and a failed harness check
(fail_va). There the stop hook prints what happened, in the words of the
kernel's own report, and selects the frame of the code at fault.
"""
import os

import gdb

from .target import kernel_static, read_string, read_u32, register, require_target
from .unwind import AFTER_INSTRUCTION, function_at, interrupted_esp, read_frame, trap_frame_regs

# kernel/exception.c: names[] and exception_decode_page_fault().
VECTOR_NAMES = (
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow", "bound range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
    "segment not present", "stack-segment fault", "general protection fault", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
    "virtualization exception", "control protection exception")
T_PAGE_FAULT = 14
T_SYSCALL = 0x80
IRQ_BASE = 32


def vector_name(vector):
    if vector < len(VECTOR_NAMES):
        return VECTOR_NAMES[vector]
    if vector == T_SYSCALL:
        return "system call"
    if IRQ_BASE <= vector < IRQ_BASE + 16:
        return "IRQ %d" % (vector - IRQ_BASE)
    return "unknown exception"


def decode_page_fault(err):
    """The error code in the words of kernel/exception.c."""
    access = "instruction fetch from" if err & 0x10 else "write to" if err & 0x2 else "read from"
    page = ("a page with reserved bits set" if err & 0x8 else
            "a present page (protection violation)" if err & 0x1 else "a non-present page")
    return "%s %s in %s mode" % (access, page, "user" if err & 0x4 else "kernel")


def decode_selector_error(err):
    """Error code of #TS, #NP, #SS, #GP: a segment selector (or 0)."""
    if err == 0:
        return "error code 0"
    table = "IDT" if err & 2 else ("LDT" if err & 4 else "GDT")
    return "error code 0x%x: %s entry %d%s" % (err, table, err >> 3, ", external event" if err & 1 else "")


def kprintf_format(fmt, args):
    """kernel/kprintf.c's formatting, with `args` a callable returning the
    next 32-bit argument."""
    out, i = [], 0
    while i < len(fmt):
        c = fmt[i]
        i += 1
        if c != "%":
            out.append(c)
            continue
        pad, width = " ", 0
        if fmt[i:i + 1] == "0":
            pad, i = "0", i + 1
        while i < len(fmt) and fmt[i].isdigit():
            width, i = width * 10 + int(fmt[i]), i + 1
        while fmt[i:i + 1] == "l":
            i += 1
        conv = fmt[i:i + 1]
        i += 1
        if conv in ("d", "i"):
            v = args()
            text = str(v - (1 << 32) if v & 0x80000000 else v)
        elif conv == "u":
            text = str(args())
        elif conv in ("x", "X"):
            text = ("%x" if conv == "x" else "%X") % args()
        elif conv == "p":
            text, pad, width = "0x%08x" % args(), " ", 0
        elif conv == "s":
            ptr = args()
            text, pad = (read_string(ptr) if ptr else "(null)"), " "
        elif conv == "c":
            text = chr(args() & 0xFF)
        elif conv == "%":
            text = "%"
        elif conv == "":
            break
        else:
            text = "%" + conv
        out.append(text.rjust(width, pad) if pad == " " or not text.startswith("-") else
                   "-" + text[1:].rjust(width - 1, "0"))
    return "".join(out)


def arguments(addr):
    """A callable reading successive 32-bit words from `addr` on."""
    state = {"at": addr}

    def next_arg():
        value = read_u32(state["at"])
        state["at"] += 4
        return value
    return next_arg


def source_line(sal):
    """The text of a line of source, or None."""
    if not sal.symtab or not sal.line:
        return None
    try:
        with open(sal.symtab.fullname(), errors="replace") as f:
            lines = f.read().splitlines()
        return "%d\t%s" % (sal.line, lines[sal.line - 1]) if sal.line <= len(lines) else None
    except OSError:
        return None


def where(pc, sal, name):
    """`0x00104315 in selftest_page_fault at kernel/selftest/harness.c:22`
    and the line's text."""
    if name is None:
        name = gdb.execute("info symbol 0x%x" % pc, to_string=True).split(" in section")[0].strip()
        name = "??" if name.startswith("No symbol") else name
    place = "0x%08x in %s" % (pc, name)
    if sal.symtab:
        place += " at %s:%d" % (sal.symtab.filename, sal.line)
    return place, source_line(sal)


def frames_from(frame, limit=64):
    while frame is not None and limit > 0:
        yield frame
        try:
            frame = frame.older()
        except gdb.error:
            return
        limit -= 1


HARNESS_FAIL = ("fail_va", "harness_fail", "harness_check")  # kernel/harness.c, on the way to a failed check


class Stop:
    """What a stop at one of the kernel's exits means."""

    def __init__(self, title, details, target=None, pc=None, hint=None):
        self.title = title
        self.details = details  # lines
        self.target = target  # the frame of the code at fault
        self.pc = pc  # its exact instruction (a faulting EIP), else the frame's call line
        self.hint = hint


def trap_stop(frame):
    regs = read_frame(int(frame.read_var("regs")))
    title = "unhandled %s (vector %d) in %s mode: the kernel is about to panic" % (
        vector_name(regs["int_no"]), regs["int_no"], mode_of(regs))
    return describe_trap(regs, frame, title)


def mode_of(regs):
    return "user" if regs["cs"] & 3 == 3 else "kernel"


def describe_trap(regs, frame, title):
    vector, err, eip = regs["int_no"], regs["err_code"], regs["eip"]
    mode = mode_of(regs)
    details, hint = [], None
    if vector == T_PAGE_FAULT:
        cr2 = register("cr2")
        details.append("page fault at CR2=0x%08x: %s (error code 0x%x)" % (cr2, decode_page_fault(err), err))
        hint = "`vtop 0x%08x` shows where the translation of that address stops." % cr2
    elif vector in (10, 11, 12, 13):
        details.append(decode_selector_error(err))
    elif err:
        details.append("error code 0x%x" % err)
    if mode == "user" and function_at(eip) is None:
        details.append("user EIP 0x%08x, ESP 0x%08x: `usersyms PROGRAM` loads the program's symbols"
                       % (eip, interrupted_esp(regs)))
    target = next((f for f in frames_from(frame) if f.pc() == eip and f != frame), None)
    # After `int $0x80` EIP is a return address: its line is the one before.
    return Stop(title, details, target, None if vector in AFTER_INSTRUCTION else eip, hint)


def panic_stop(frame):
    caller = frame.older()
    base = int(caller.read_register("esp"))  # the first argument, fmt
    fmt = read_string(read_u32(base), 400)
    return Stop("panic: " + kprintf_format(fmt, arguments(base + 4)), [], caller)


def gap_stop(frame):
    function = read_string(int(frame.read_var("function")))
    lab = int(frame.read_var("lab"))
    handout = read_string(int(frame.read_var("handout")))
    return Stop("NOT IMPLEMENTED: %s() (lab %d): write it, see handouts/%s" % (function, lab, handout), [],
                frame.older())


def failed_check_stop(frame):
    selected = kernel_static("selected", "harness.c")
    test = selected["name"].string() if selected is not None and int(selected) else "?"
    try:
        message = kprintf_format(read_string(int(frame.read_var("fmt")), 400), arguments(int(frame.read_var("ap"))))
    except (gdb.error, ValueError):
        message = "(the message is not readable here; `continue` prints it)"
    target = next((f for f in frames_from(frame) if f.name() not in HARNESS_FAIL), None)
    return Stop("a check of test %s failed: %s" % (test, message), [], target)


# The kernel's exits, where GDB stops on its own.
STOPS = {"panic_trap": trap_stop, "panic": panic_stop, "gap_not_implemented": gap_stop,
         "fail_va": failed_check_stop}


def current_stop():
    """The Stop GDB is at, when frame 0 is the entry of one of STOPS."""
    frame = gdb.newest_frame()
    describe = STOPS.get(frame.name())
    return describe(frame) if describe else None


def trap_in_backtrace():
    """The innermost trap being handled (a Stop), or None."""
    for frame in frames_from(gdb.newest_frame()):
        regs_addr = trap_frame_regs(frame)
        if regs_addr is not None:
            regs = read_frame(regs_addr)
            title = "in the handling of a %s (vector %d) from %s mode (frame #%d is trap_common)" % (
                vector_name(regs["int_no"]), regs["int_no"], mode_of(regs), frame.level())
            return describe_trap(regs, frame, title)
    return None


def show(stop, select):
    print("*** Kestrel: " + stop.title)
    for line in stop.details:
        print("    " + line)
    target = stop.target
    if target is not None:
        pc = stop.pc if stop.pc is not None else target.pc()
        if stop.pc is not None:  # a faulting instruction
            sal, name = gdb.find_pc_line(pc), function_at(pc)
        else:  # a call: GDB knows the line and function of its return address
            sal, name = target.find_sal(), target.name()
        place, text = where(pc, sal, name)
        print("    %s" % place)
        if text:
            print("    " + text)
    mine = yours(target)
    if mine is not None:
        place, text = where(mine.pc(), mine.find_sal(), mine.name())
        print("    called from your code: #%d %s" % (mine.level(), place.split(" in ", 1)[1]))
        if text:
            print("    " + text)
    if stop.hint:
        print("    " + stop.hint)
    if select and target is not None:
        select_at(target, sal)
        print("    Frame #%d is selected: `list` shows its code, `info locals` its variables, `bt` how it got there."
              % target.level())
    elif target is not None:
        print("    `frame %d` selects it." % target.level())


GAP_FILES = ("paging.c", "process.c")  # the students' files (grader/build.py)


def in_gap_file(frame):
    sal = frame.find_sal()
    return bool(sal.symtab) and os.path.basename(sal.symtab.filename) in GAP_FILES


def yours(target):
    """The innermost frame of a gap file that led to `target`, when
    `target` itself is kit code (memset called with a bad address...)."""
    if target is None or in_gap_file(target):
        return None
    return next((f for f in frames_from(target.older(), 16) if in_gap_file(f)), None)


def select_at(frame, sal):
    """Selects `frame`, and makes the next `list` show the lines around
    `sal` (the line at fault) rather than where GDB stopped."""
    frame.select()
    if sal.symtab and sal.line:
        # `list` continues after the last lines listed: list (silently)
        # the line before the 10 that centre on sal.line.
        first = max(sal.line - 6, 1)
        gdb.execute("list %s:%d,%d" % (sal.symtab.fullname(), first, first), to_string=True)


class Fault(gdb.Command):
    """Show why the kernel stopped: the exception, CR2 and the decoded error code, the faulting EIP and its line.

Usage: fault

Kestrel's .gdbinit stops GDB, before the kernel ends QEMU, at:
  panic_trap            an unhandled exception (page fault, GP fault...)
  panic                 a panic() call
  gap_not_implemented   a gap function still to write
  fail_va               a failed check of a grader test
and prints this summary by itself. `fault` prints it again. For an
exception it names the vector, decodes the error code the way
kernel/exception.c does (for a page fault: CR2, read/write/fetch, present
or not, user or kernel mode), and gives the faulting EIP as a function and
a source line; `bt` goes through the trap frame into the faulting code.
Stopped anywhere else, it describes the trap being handled, if any
(a system call, an interrupt), or shows CR2."""

    def __init__(self):
        super().__init__("fault", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: fault (no argument)")
        require_target()
        stop = current_stop() or trap_in_backtrace()
        if stop:
            show(stop, select=False)
            return
        print("Not stopped at a fault or a panic (GDB stops there by itself: `continue`), and no trap is "
              "being handled. CR2 = 0x%08x (the address of the last page fault, if there was one)."
              % register("cr2"))


class KernelStop(gdb.Breakpoint):
    """An invisible breakpoint at one of the kernel's exits."""

    def __init__(self, function):
        super().__init__(function, gdb.BP_BREAKPOINT, internal=True)
        self.silent = True


def on_stop(event):
    if not isinstance(event, gdb.BreakpointEvent):
        return
    if not any(isinstance(b, KernelStop) for b in event.breakpoints):
        return
    try:
        stop = current_stop()
        if stop:
            show(stop, select=True)
    except (gdb.error, gdb.MemoryError) as e:
        print("*** Kestrel: stopped in %s (cannot describe it: %s); try `bt`" % (gdb.newest_frame().name(), e))


_armed = {}


def arm():
    """Sets the stops (once per kernel file)."""
    kernel = gdb.current_progspace().filename
    if not kernel or _armed.get("kernel") == kernel:
        return
    for bp in _armed.get("breakpoints", []):
        if bp.is_valid():
            bp.delete()
    breakpoints = []
    for function in STOPS:
        if gdb.lookup_global_symbol(function) or gdb.lookup_static_symbols(function):
            breakpoints.append(KernelStop(function))
    _armed.update(kernel=kernel, breakpoints=breakpoints)


def install():
    Fault()
    gdb.events.stop.connect(on_stop)
    gdb.events.new_objfile.connect(lambda event: arm())
