"""Backtraces through traps.

trap_common (kernel/trap_entry.S) saves a registers_t on the kernel stack
and calls trap_dispatch(registers_t *). Assembly has no unwind tables, so
by itself GDB stops making sense at trap_common. This unwinder reads the
saved frame instead, so `bt` goes on into the code that was interrupted:
the faulting line, the system call's caller, the idle loop.
"""
import re
import struct

import gdb
from gdb.FrameDecorator import FrameDecorator
from gdb.unwinder import Unwinder, register_unwinder

from .target import address_of

# registers_t (kernel/regs.h), in memory order.
FIELDS = ("gs", "fs", "es", "ds", "edi", "esi", "ebp", "esp_at_trap", "ebx", "edx", "ecx", "eax",
          "int_no", "err_code", "eip", "cs", "eflags", "user_esp", "user_ss")
HW_FRAME = 20  # int_no, err_code, eip, cs, eflags: above the ESP that pusha saw


class FrameId:
    """What identifies a frame to GDB: its stack pointer and function."""

    def __init__(self, sp, pc):
        u32 = gdb.lookup_type("unsigned int")
        self.sp, self.pc = gdb.Value(sp).cast(u32), gdb.Value(pc).cast(u32)


def read_frame(addr):
    """The registers_t at `addr` as a dict (user_esp and user_ss exist
    only for traps from user mode)."""
    words = struct.unpack("<19I", bytes(gdb.selected_inferior().read_memory(addr, 4 * len(FIELDS))))
    return dict(zip(FIELDS, words))


def interrupted_esp(regs):
    """The stack pointer of the interrupted code."""
    return regs["user_esp"] if regs["cs"] & 3 == 3 else regs["esp_at_trap"] + HW_FRAME


class Addresses:
    """trap_common and the return address of its call to trap_dispatch,
    found once per kernel file."""

    def __init__(self):
        self.objfile = None
        self.start = self.ret = None

    def forget(self, event=None):
        self.objfile = None  # symbols were (re)loaded: look again

    def get(self):
        progspace = gdb.current_progspace()
        if self.objfile != progspace.filename:
            self.objfile = progspace.filename
            self.start, self.ret = address_of("trap_common"), None
            end = address_of("trap_return")
            if self.start is not None and end is not None:
                arch = gdb.selected_inferior().architecture()
                insns = arch.disassemble(self.start, end)
                for insn, following in zip(insns, insns[1:]):
                    if insn["asm"].startswith("call"):
                        self.ret = following["addr"]
        return self.start, self.ret


ADDRESSES = Addresses()
# (esp, eip) of the frames a trap interrupted -> the trap's vector, seen
# since GDB last stopped.
INTERRUPTED = {}
# Vectors whose saved EIP is the next instruction, a return address: int3,
# into and `int $0x80`. For the others (faults, interrupts) EIP is the
# instruction that faulted or was about to run.
AFTER_INSTRUCTION = (3, 4, 0x80)
U32 = None


def u32(value):
    global U32
    U32 = U32 or gdb.lookup_type("unsigned int")
    return gdb.Value(value & 0xFFFFFFFF).cast(U32)


def read_u32(addr):
    return struct.unpack("<I", bytes(gdb.selected_inferior().read_memory(addr, 4)))[0]


def trap_frame_regs(frame):
    """The registers_t address when `frame` is trap_common calling
    trap_dispatch, else None."""
    start, ret = ADDRESSES.get()
    if ret is None or frame.pc() != ret:
        return None
    sp = int(frame.read_register("esp"))
    return struct.unpack("<I", bytes(gdb.selected_inferior().read_memory(sp, 4)))[0]


class TrapFrameUnwinder(Unwinder):
    def __init__(self):
        super().__init__("kestrel-trap-frame")

    def __call__(self, pending):
        start, ret = ADDRESSES.get()
        pc = int(pending.read_register("eip"))
        if ret is None or pc != ret:
            return None
        sp = int(pending.read_register("esp"))
        try:
            inferior = gdb.selected_inferior()
            regs_addr = struct.unpack("<I", bytes(inferior.read_memory(sp, 4)))[0]
            regs = read_frame(regs_addr)
        except gdb.MemoryError:
            return None
        info = pending.create_unwind_info(FrameId(sp, start))
        values = dict(regs, esp=interrupted_esp(regs))
        if regs["cs"] & 3 == 3:
            values["ss"] = regs["user_ss"]
        for name in ("eip", "esp", "ebp", "eax", "ebx", "ecx", "edx", "esi", "edi", "eflags", "cs", "ss",
                     "ds", "es", "fs", "gs"):
            if name in values:
                info.add_saved_register(name, u32(values[name]))
        INTERRUPTED[(values["esp"], values["eip"])] = regs["int_no"]
        return info


SAVED = ("ebx", "esi", "edi")  # callee-saved registers besides EBP
SAVE = re.compile(r"^(?:push\s+%(\w+)|mov\s+%(\w+),-0x([0-9a-f]+)\(%ebp\))$")


class InterruptedFrameUnwinder(Unwinder):
    """The frame a trap interrupted. GDB unwinds every frame but the
    innermost from the unwind tables at pc - 1, right for a return
    address but not for a faulting instruction: when the instruction
    before it is a `ret` or a `jmp` (-Og puts error paths after the
    epilogue), a prologue or an epilogue step, pc - 1 has other rules, and
    the backtrace goes wrong. Those cases are unwound here with the frame
    pointer (the kernel and user programs keep it); the others are left to
    GDB's unwind tables."""

    def __init__(self):
        super().__init__("kestrel-interrupted-frame")

    def __call__(self, pending):
        esp, eip = int(pending.read_register("esp")), int(pending.read_register("eip"))
        if INTERRUPTED.get((esp, eip), AFTER_INSTRUCTION[0]) in AFTER_INSTRUCTION:
            return None  # not interrupted, or at a return address: GDB's tables are right
        try:
            return self.unwind(pending, esp, eip)
        except (gdb.error, gdb.MemoryError, RuntimeError):
            return None

    def unwind(self, pending, esp, eip):
        block = gdb.block_for_pc(eip)
        while block and not block.function and block.superblock:
            block = block.superblock
        if not block or not block.function:
            return None
        start = block.start
        arch = pending.architecture()
        code = [(i["addr"], " ".join(i["asm"].split())) for i in arch.disassemble(start, eip)]
        if [asm for _, asm in code[:2]] != ["push %ebp", "mov %esp,%ebp"][:len(code[:2])] and eip != start:
            return None  # no frame pointer: leave it to GDB
        before = [asm for addr, asm in code if addr < eip]
        previous = before[-1] if before else None
        ebp = int(pending.read_register("ebp"))
        same = {name: int(pending.read_register(name)) for name in SAVED}
        if eip == start:  # nothing pushed yet
            caller = dict(same, eip=read_u32(esp), esp=esp + 4, ebp=ebp)
        elif previous == "push %ebp":
            caller = dict(same, eip=read_u32(esp + 4), esp=esp + 8, ebp=read_u32(esp))
        elif previous in ("pop %ebp", "leave"):
            caller = dict(same, eip=read_u32(esp), esp=esp + 4, ebp=ebp)
        elif previous is not None and (previous.startswith("ret") or previous.startswith("jmp ")):
            caller = dict(same, eip=read_u32(ebp + 4), esp=ebp + 8, ebp=read_u32(ebp))
            pushes = 0
            for addr, asm in code[2:]:
                m = SAVE.match(asm)
                if not m or addr >= eip:
                    break
                if m[1] in SAVED:
                    pushes += 1
                    caller[m[1]] = read_u32(ebp - 4 * pushes)
                elif m[2] in SAVED:
                    caller[m[2]] = read_u32(ebp - int(m[3], 16))
        else:
            return None  # pc - 1 has the same rules as pc: GDB's tables are right
        info = pending.create_unwind_info(FrameId(caller["esp"], start))
        for name, value in caller.items():
            info.add_saved_register(name, u32(value))
        return info


def function_at(pc):
    """The name of the function holding `pc`, or None."""
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        return None
    while block and not block.function and block.superblock:
        block = block.superblock
    return block.function.name if block and block.function else None


def exact_pc(frame):
    """True when `frame` is code that a fault or an interrupt stopped at
    its pc (not at a return address)."""
    newer = frame.newer()
    if newer is None or ADDRESSES.get()[1] != newer.pc():
        return False
    key = (int(frame.read_register("esp")), frame.pc())
    return INTERRUPTED.get(key, AFTER_INSTRUCTION[0]) not in AFTER_INSTRUCTION


class KestrelFrame(FrameDecorator):
    """A frame of `bt` as this kernel needs it.

    A frame a fault or an interrupt stopped (`exact`) has the instruction
    itself as pc, not a return address, but GDB looks up the line of
    pc - 1 in every caller frame: the line before, when the instruction
    starts its line. Here such a frame gets the function and line of pc.
    And a frame GDB has no symbol for shows `??`, as without any filter
    (GDB prints an empty name for it once a frame filter exists)."""

    def __init__(self, base, exact):
        super().__init__(base)
        self.exact = exact

    def function(self):
        pc = self.inferior_frame().pc()
        if self.exact and function_at(pc):
            return function_at(pc)
        name = super().function()
        if isinstance(name, int) and gdb.execute("info symbol 0x%x" % name, to_string=True).startswith("No symbol"):
            return "??"
        return name

    def filename(self):
        sal = gdb.find_pc_line(self.inferior_frame().pc())
        return sal.symtab.filename if self.exact and sal.symtab else super().filename()

    def line(self):
        sal = gdb.find_pc_line(self.inferior_frame().pc())
        return sal.line if self.exact and sal.line else super().line()


class TrapFrameFilter:
    def __init__(self):
        self.name = "kestrel-trap-frames"
        self.priority = 100
        self.enabled = True

    def filter(self, frames):
        return (KestrelFrame(f, exact_pc(f.inferior_frame())) for f in frames)


def install():
    register_unwinder(None, TrapFrameUnwinder(), replace=True)
    register_unwinder(None, InterruptedFrameUnwinder(), replace=True)
    gdb.events.cont.connect(lambda event: INTERRUPTED.clear())
    gdb.events.new_objfile.connect(ADDRESSES.forget)
    gdb.events.clear_objfiles.connect(ADDRESSES.forget)
    gdb.frame_filters["kestrel-trap-frames"] = TrapFrameFilter()
