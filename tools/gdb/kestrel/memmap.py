"""memmap: the memory map of the stopped kernel, in colour, from physical
memory. grader/memwalk.py computes it the way the kernel's own memmap
does (kernel/memmap.c) and grader/memmap.py draws it: the same block the
shell's `memmap` prints, so the two can be compared. Nothing runs in the
guest: it works wherever the kernel stopped, broken page tables included."""
import struct
import sys

import gdb

from . import ROOT
from .target import kernel_static, physical_memory, register, require_target

CR0_PG = 0x80000000
PROC_UNUSED = 0


def grader_modules():
    """grader.memmap and grader.memwalk, from the kit's top folder."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    try:
        from grader import memmap, memwalk
    except ImportError as e:
        raise gdb.GdbError("memmap needs the kit's grader/ folder next to tools/ (%s)" % e)
    return memmap, memwalk


def static_at(name, filename):
    """(address, type) of a kernel variable, without reading it (its page
    may not be mapped): reads go through physical memory."""
    value = kernel_static(name, filename)
    if value is None:
        raise gdb.GdbError("this kernel has no %s in %s: is it Kestrel's, with memmap?" % (name, filename))
    return int(value.address), value.type


def read_bytes(mem, addr, size):
    return struct.pack("<%dI" % (size // 4), *mem.words(addr, size // 4))


def read_u32(mem, addr):
    return mem.words(addr, 1)[0]


def processes(mem, memwalk):
    """The slots in use with an address space, and the current process's pid."""
    table, table_type = static_at("process_table", "proc.c")
    slot = table_type.target()
    offset = {f.name: f.bitpos // 8 for f in slot.fields()}
    found = []
    for i in range(table_type.sizeof // slot.sizeof):
        raw = read_bytes(mem, table + i * slot.sizeof, slot.sizeof)
        pid, state, pd_phys = (struct.unpack_from("<i", raw, offset[f])[0] for f in ("pid", "state", "pd_phys"))
        name = raw[offset["name"]:offset["name"] + 16].split(b"\0")[0]
        if state != PROC_UNUSED and pd_phys:
            found.append(memwalk.Process(pid, name, pd_phys & 0xFFFFFFFF))
    current_addr, _ = static_at("current", "sched.c")
    current = read_u32(mem, current_addr)
    index = (current - table) // slot.sizeof if current else -1
    current_pid = 0
    if 0 <= index < table_type.sizeof // slot.sizeof:
        current_pid = struct.unpack_from("<i", read_bytes(mem, table + index * slot.sizeof, 4))[0]
    return found, current_pid


def snapshot(mem, memwalk, paging, cr3):
    """What the walk needs, read from physical memory (the kernel's own
    variables too: its image is at the same physical addresses)."""
    ram_end = read_u32(mem, static_at("ram_end", "pmm.c")[0])
    directory = read_u32(mem, static_at("kernel_directory", "vm.c")[0])
    kernel_end = int(gdb.parse_and_eval("(unsigned int)&_kernel_end"))
    size = ((ram_end // 4096 + 31) // 32) * 4
    managed = read_bytes(mem, static_at("managed", "pmm.c")[0], size)
    used = read_bytes(mem, static_at("used", "pmm.c")[0], size)
    found, current = processes(mem, memwalk) if paging else ([], 0)
    master = (directory or cr3) if paging else 0
    return memwalk.Machine(ram_end, kernel_end, paging, master, found, managed, used, mem.words), current


class Memmap(gdb.Command):
    """Draw the memory map: physical memory by owner, and one address space, in colour.

Usage: memmap [PID]        PID's address space beside it (default: the current
                           process, else the kernel's own directory)
       memmap -d PHYS ...  directories at these physical addresses (no process's,
                           such as a test's) are owners too; the last one is shown

The same map the shell's `memmap` draws, computed here from physical memory
(nothing runs in the guest), so it works wherever the kernel stopped, inside
broken lab code too. Each cell covers a few frames and shows who owns them:
K kernel, T page directories and tables, H kernel heap, a-z the user pages
of each process (the legend names them), L lost (in use, owned by nothing:
a leak), ! wrong (a frame two owners map, or one freed while still mapped),
# reserved, . free. The view shows 4 GiB of one directory, 16 MiB a cell:
I identity map, the process's key for user pages, H heap, K kernel, ! wrong
(a hole in the identity map, a page mapped elsewhere, a user-accessible kernel
page). Wrong entries are listed under the map. Colours follow `set style enabled`.

Example: memmap; memmap 3; memmap -d 0x01ff5000; memmap -d src_pd_phys -d $1"""

    def __init__(self):
        super().__init__("memmap", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        pid, directories = self.view(args)
        memmap, memwalk = grader_modules()
        require_target()
        cr0, cr3 = register("cr0"), register("cr3") & 0xFFFFF000
        paging = bool(cr0 & CR0_PG)
        with physical_memory() as mem:
            machine, current = snapshot(mem, memwalk, paging, cr3)
            if not machine.ram_end:
                raise gdb.GdbError("the frame allocator has not started yet (pmm_init): no map of RAM to draw")
            if pid and not any(p.pid == pid for p in machine.processes):
                raise gdb.GdbError("no process %d with an address space (see `procs`)" % pid)
            view_pd = directories[-1] if directories else 0
            m = memwalk.build(machine, pid or (0 if view_pd else current), view_pd, directories)
        print(memmap.render(m, color=bool(gdb.parameter("style enabled"))))
        if not paging:
            print("Paging is off (CR0.PG clear): no address space yet, so no view; init_paging() turns it on.")

    @staticmethod
    def view(args):
        """(pid, directories) the command's arguments ask for."""
        usage = "usage: memmap [PID] | memmap -d PHYS [-d PHYS ...]"
        try:
            if len(args) == 1 and args[0] != "-d":
                return int(args[0], 0), []
            if len(args) % 2 or any(flag != "-d" for flag in args[::2]):
                raise gdb.GdbError(usage)
            return 0, [int(gdb.parse_and_eval(a)) & 0xFFFFF000 for a in args[1::2]]
        except (ValueError, gdb.error) as e:
            raise gdb.GdbError("memmap: %s (%s)" % (e, usage))


Memmap()
