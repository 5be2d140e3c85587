"""procs, usersyms and pbreak: processes, their programs' symbols, and
breakpoints that stop in one process only.

Every user program is linked at 0x40000000 (user/user.ld), so the same
virtual address is code in every process: `main` of sh and `main` of
sleep may even share an address. QEMU matches breakpoints by virtual
address, so a breakpoint in user code stops whichever process gets there.
pbreak adds the condition that makes it stop in one of them.
"""
import os

import gdb

from . import ROOT
from .target import kernel_static, register, require_target
from .unwind import function_at

USER_ELF_DIR = os.path.join("build", "trusted", "user")
CURRENT = "'sched.c'::current"  # the RUNNING process (kernel/sched.c), NULL while idle

loaded = {"name": None, "path": None}  # the user program whose symbols are loaded


def short(enum_value, prefix):
    return str(enum_value).replace(prefix, "").lower()


def user_location(eip, name):
    """Where `eip` is in program `name`, if its symbols are loaded."""
    if loaded["name"] != name:
        return "(usersyms %s)" % name if eip >= 0x40000000 else ""
    sal = gdb.find_pc_line(eip)
    text = function_at(eip) or "?"
    if sal.symtab:
        text += " %s:%d" % (sal.symtab.filename, sal.line)
    return text


def current_process():
    current = kernel_static("current", "sched.c")
    if current is None:
        raise gdb.GdbError("this kernel has no scheduler variable `current` (kernel/sched.c)")
    return current


def running_eip(user_frame):
    """The EIP of the RUNNING process and where it comes from."""
    if register("cs") & 3 == 3:
        return register("eip"), "live"
    if user_frame is not None and int(user_frame):
        vector = int(user_frame["int_no"])
        why = "system call" if vector == 0x80 else "IRQ %d" % (vector - 32) if 32 <= vector < 48 else \
            "exception %d" % vector
        return int(user_frame["eip"]), "in the kernel: %s" % why
    return None, "in the kernel"


class Procs(gdb.Command):
    """List the processes: pid, state, parent, program, page directory, saved EIP.

Usage: procs

Reads the kernel's process_table (kernel/proc.c). `*` marks the current
process (the `current` variable of kernel/sched.c), the one running or
whose system call the kernel is handling. For it the EIP is the live one
when the CPU is in user mode, else the user EIP saved in the trap frame;
for the others, the EIP saved in their `regs`, where they resume.
The EIP is shown as a function and a line for the program whose symbols
are loaded (usersyms). PAGE DIR is the physical address for `pagedir`."""

    def __init__(self):
        super().__init__("procs", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        require_target()
        table = kernel_static("process_table", "proc.c")
        if table is None:
            raise gdb.GdbError("this kernel has no process_table (kernel/proc.c)")
        current = int(current_process())
        user_frame = kernel_static("user_frame", "trap.c")
        lo, hi = table.type.strip_typedefs().range()
        rows = []
        for i in range(lo, hi + 1):
            p = table[i]
            state = short(p["state"], "PROC_")
            if state == "unused":
                continue
            name = p["name"].string()
            if state == "blocked":
                state += " (%s)" % short(p["blocked_on"], "BLOCK_")
            if state == "zombie":
                eip, origin = None, "exit status 0x%x" % (int(p["exit_status"]) & 0xFFFFFFFF)
            elif int(p.address) == current and state == "running":
                eip, origin = running_eip(user_frame)
            else:
                eip, origin = int(p["regs"]["eip"]), ""
            parent = int(p["parent"]["pid"]) if int(p["parent"]) else None
            where = " ".join(filter(None, ["0x%08x" % eip if eip is not None else "", user_location(eip, name)
                                           if eip is not None else "", "[%s]" % origin if origin else ""]))
            rows.append(("*" if int(p.address) == current else " ", int(p["pid"]), state,
                         str(parent) if parent else "-", name, int(p["pd_phys"]), where))
        if not rows:
            print("No process yet (the kernel starts init at the end of kmain; tests start theirs).")
            return
        print("  %4s  %-18s %6s  %-12s %-10s  %s" % ("PID", "STATE", "PARENT", "NAME", "PAGE DIR", "EIP"))
        for mark, pid, state, parent, name, pd, where in rows:
            print("%s %4d  %-18s %6s  %-12s 0x%08x  %s" % (mark, pid, state, parent, name, pd, where))
        if not current:
            print("No process is current: the kernel is idle or has not started one yet.")
        print("CR3 = 0x%08x" % (register("cr3") & 0xFFFFF000))


def program_path(name):
    return os.path.join(ROOT, USER_ELF_DIR, name + ".elf")


def available_programs():
    folder = os.path.join(ROOT, USER_ELF_DIR)
    try:
        return sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".elf"))
    except OSError:
        return []


def unload():
    if loaded["path"]:
        gdb.execute("remove-symbol-file %s" % loaded["path"], to_string=True)
        loaded.update(name=None, path=None)


class UserSyms(gdb.Command):
    """Load the symbols of a user program (and drop the previous program's).

Usage: usersyms [PROGRAM]      PROGRAM: init, sh, hello, ... (user/*.c, labs/*/user/*.c)
       usersyms -              drop them

Loads build/trusted/user/PROGRAM.elf, the program with its debug info,
linked at the addresses it runs at (0x40000000 up). Without PROGRAM, the
current process's program. Only one program at a time: every program is
linked at the same addresses, so two would shadow each other.
Then `break main`, `list main` and `bt` in user mode speak C; a breakpoint
in user code stops in every process running that code: `pbreak PID
LOCATION` stops in one."""

    def __init__(self):
        super().__init__("usersyms", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if len(args) > 1:
            raise gdb.GdbError("usage: usersyms [PROGRAM | -]")
        if args == ["-"]:
            unload()
            print("User program symbols dropped.")
            return
        name = args[0] if args else self.current_name()
        path = program_path(name)
        if not os.path.exists(path):
            programs = available_programs()
            raise gdb.GdbError("no program %s (%s not found). %s" % (
                name, os.path.relpath(path, ROOT),
                "Programs: " + " ".join(programs) if programs else "Build them first: make"))
        unload()
        gdb.execute("add-symbol-file %s" % path, to_string=True)
        loaded.update(name=name, path=path)
        main = gdb.lookup_global_symbol("main")
        at = " (main at 0x%08x)" % int(main.value().address) if main else ""
        print("Symbols of %s loaded from %s%s." % (name, os.path.relpath(path, ROOT), at))
        print("They fit every process running %s; `pbreak PID LOCATION` stops in one of them." % name)

    def current_name(self):
        require_target()
        current = current_process()
        if not int(current):
            raise gdb.GdbError("no process is current: name the program, usersyms PROGRAM")
        return current["name"].string()


class PBreak(gdb.Command):
    """Set a breakpoint that stops only in one process.

Usage: pbreak PID LOCATION       LOCATION as for `break` (main, user/sh.c:40, *0x40000123, sys_write)

QEMU (TCG) matches breakpoints by virtual address, and every process has
its own code at the same addresses (user programs all start at
0x40000000): a plain `break` in user code stops in any process that gets
there. pbreak is `break LOCATION` plus the condition that the kernel's
current process (`current` in kernel/sched.c) has pid PID, so it stops
only there. On a kernel function (a system call, say), it stops only when
the kernel runs it on behalf of that process. `info breakpoints` shows
the condition; `delete N` removes it as any breakpoint. Load the
program's symbols first for a C location: usersyms PROGRAM."""

    def __init__(self):
        super().__init__("pbreak", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        parts = arg.split(None, 1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise gdb.GdbError("usage: pbreak PID LOCATION")
        pid, location = int(parts[0]), parts[1]
        try:
            gdb.parse_and_eval(CURRENT)
        except gdb.error:
            raise gdb.GdbError("this kernel has no scheduler variable `current` (kernel/sched.c)")
        bp = gdb.Breakpoint(location)
        bp.condition = "%s != 0 && %s->pid == %d" % (CURRENT, CURRENT, pid)
        print("Breakpoint %d stops only in pid %d (condition: %s)." % (bp.number, pid, bp.condition))
        if gdb.selected_inferior().pid > 0 and not self.exists(pid):
            print("No process has pid %d now: it stops once that process runs there." % pid)

    def exists(self, pid):
        table = kernel_static("process_table", "proc.c")
        if table is None:
            return False
        lo, hi = table.type.strip_typedefs().range()
        try:
            return any(int(table[i]["pid"]) == pid and int(table[i]["state"]) != 0 for i in range(lo, hi + 1))
        except gdb.MemoryError:
            return True


Procs()
UserSyms()
PBreak()
