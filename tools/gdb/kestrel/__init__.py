"""Kestrel's GDB helpers. The top-level .gdbinit imports this package and
calls load_kernel() and connect(); `help kestrel` lists the commands.

    layout.py      i386 paging bits and kernel/memlayout.h, in Python
    target.py      registers, kernel variables, physical memory reads
    pagetables.py  pagedir, vtop
    processes.py   procs, usersyms, pbreak
    memmap.py      memmap (the memory map, drawn by grader/memmap.py)
    faults.py      the stops at panics and faults, fault
    unwind.py      backtraces through trap frames
"""
import os

import gdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_KERNEL = os.path.join("build", "student", "kernel.elf")

# Importing these registers their commands; they need ROOT, defined above.
from . import faults, memmap, pagetables, processes, unwind  # noqa: E402,F401


def gdb_port():
    """The port `make qemu-gdb` uses: uid % 5000 + 25000 (the Makefile's
    GDBPORT), unless KESTREL_GDBPORT says otherwise."""
    override = os.environ.get("KESTREL_GDBPORT")
    if override:
        return int(override)
    return os.getuid() % 5000 + 25000


def load_kernel():
    """Loads the kernel's symbols unless GDB already has a file (make gdb
    passes it): $KESTREL_KERNEL, else build/student/kernel.elf."""
    if gdb.current_progspace().filename:
        return
    path = os.environ.get("KESTREL_KERNEL") or os.path.join(ROOT, DEFAULT_KERNEL)
    if not os.path.exists(path):
        print("Kestrel: no kernel symbols: %s does not exist (run make, or `file build/solution/kernel.elf`)"
              % os.path.relpath(path))
        return
    gdb.execute("file %s" % path)


def connect():
    """Attaches to QEMU's gdbstub (make qemu-gdb) and arms the stops at
    the kernel's exits. Never raises: the rest of .gdbinit still runs."""
    faults.arm()
    if gdb.selected_inferior().pid > 0:
        return  # already attached (.gdbinit read twice)
    port = gdb_port()
    try:
        gdb.execute("target remote localhost:%d" % port)
    except gdb.error as e:
        print("Kestrel: cannot reach QEMU on localhost:%d (%s)." % (port, str(e).strip()))
        print("  Start it in another terminal with `make qemu-gdb` (or `make qemu-gdb TEST=name SEED=n`),")
        print("  then type: target remote localhost:%d" % port)
        return
    print("Kestrel: attached to QEMU on port %d. Helpers: pagedir, vtop, memmap, fault, procs, usersyms, "
          "pbreak (help kestrel)." % port)
    if uses_kvm():
        print("Kestrel: this QEMU runs with KVM, where `break` writes an int3 into memory: use `hbreak` for code "
              "that is loaded or remapped later (GRUB's kernel load, exec) and in user programs (help kestrel).")


def uses_kvm():
    """True when the QEMU we are attached to runs with KVM (its monitor,
    through the gdbstub, says so)."""
    try:
        return "enabled" in gdb.execute("monitor info kvm", to_string=True)
    except gdb.error:
        return False


class Kestrel(gdb.Command):
    """Kestrel's GDB helpers (tools/gdb/kestrel/), each with its own `help`:

  pagedir [-v] [PHYS]    a page directory, present ranges collapsed (default: CR3's)
  vtop ADDR [PHYS]       translate a virtual address step by step, or say where it stops
  memmap [PID]           the memory map in colour: who owns each frame, one address space
  fault                  why the kernel stopped: exception, CR2, decoded error code, line
  procs                  the processes: pid, state, parent, directory, saved EIP
  usersyms [PROGRAM]     load a user program's symbols (build/trusted/user/PROGRAM.elf)
  pbreak PID LOCATION    a breakpoint that stops in one process only

GDB stops by itself, before QEMU ends, on an unhandled exception, a panic,
a gap that is not implemented and a failed grader check; `bt` then goes
through the trap frame into the faulting code.

Breakpoints: QEMU without KVM (how make qemu-gdb runs it) matches every
breakpoint by virtual address and never writes into memory, so `break`
works before paging, after it, and in code loaded later. You need `hbreak`
(one of the CPU's 4 debug registers) only when QEMU runs with KVM
(-enable-kvm): there `break` writes an int3 byte into whatever page is
mapped at that address when you continue, which misses code loaded or
remapped later (GRUB's kernel load, a process's exec). Watchpoints: GDB
must say "Hardware watchpoint N"; a plain "Watchpoint N" single-steps the
whole kernel. Watch a variable or an address (`watch -l`, `watch *(int *)0x...`).

The port: make qemu-gdb listens on uid % 5000 + 25000; set KESTREL_GDBPORT
to use another one."""

    def __init__(self):
        super().__init__("kestrel", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        gdb.execute("help kestrel")


Kestrel()
faults.install()
unwind.install()
