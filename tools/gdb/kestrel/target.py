"""Access to the stopped machine: registers, kernel variables, memory.

Page tables hold physical addresses. QEMU's gdbstub reads physical memory
after the packet `Qqemu.PhyMemMode:1` (`:0` goes back to virtual
addresses), so the helpers never depend on the mappings they inspect:
they work even when a student's identity map is broken.
"""
import contextlib
import struct

import gdb


def require_target():
    """Raises gdb.GdbError unless GDB is attached to a stopped QEMU."""
    if gdb.selected_inferior().pid <= 0 or gdb.selected_thread() is None:
        raise gdb.GdbError("not attached to QEMU: start it with `make qemu-gdb` in another terminal, "
                           "then `target remote localhost:PORT` (or restart `make gdb`)")
    if gdb.selected_thread().is_running():
        raise gdb.GdbError("QEMU is running: interrupt it first (Ctrl-C)")


def register(name):
    """A register of the CPU as it is now (not of the selected frame)."""
    return int(gdb.newest_frame().read_register(name)) & 0xFFFFFFFF


def kernel_static(name, filename):
    """The kernel's variable `name` defined in `filename` (static or not),
    or None when this kernel has none."""
    for sym in gdb.lookup_static_symbols(name):
        if sym.symtab and sym.symtab.filename.endswith(filename):
            return sym.value()
    sym = gdb.lookup_global_symbol(name)
    if sym and sym.symtab and sym.symtab.filename.endswith(filename):
        return sym.value()
    return None


def address_of(name):
    """The address of a kernel symbol (function, variable or assembly
    label), or None."""
    try:
        return int(gdb.parse_and_eval("(unsigned int)&%s" % name))
    except gdb.error:
        return None


def to_address(text):
    """An address typed by the user: a number or any expression (a pointer,
    a function name, an array). Raises gdb.GdbError."""
    try:
        value = gdb.parse_and_eval(text)
    except gdb.error as e:
        raise gdb.GdbError("%s: %s" % (text, e))
    code = value.type.strip_typedefs().code
    if code in (gdb.TYPE_CODE_FUNC, gdb.TYPE_CODE_ARRAY):
        value = value.address
    try:
        return int(value) & 0xFFFFFFFF
    except gdb.error as e:
        raise gdb.GdbError("%s is not an address: %s" % (text, e))


def read_u32(addr):
    """A 32-bit word at a virtual address (GDB's normal view)."""
    return struct.unpack("<I", bytes(gdb.selected_inferior().read_memory(addr, 4)))[0]


def read_string(addr, limit=200):
    """The NUL-terminated string at virtual address `addr`, at most `limit`
    characters; '?' marks memory GDB cannot read."""
    out = bytearray()
    inferior = gdb.selected_inferior()
    try:
        while len(out) < limit:
            chunk = bytes(inferior.read_memory(addr + len(out), 16))
            end = chunk.find(b"\0")
            if end >= 0:
                out += chunk[:end]
                break
            out += chunk
    except gdb.MemoryError:
        return out.decode("latin-1") + "?" if out else "(unreadable string at 0x%08x)" % addr
    return out[:limit].decode("latin-1")


class PhysicalMemory:
    """Reads physical memory; only valid inside physical_memory()."""

    def __init__(self, physical):
        self.physical = physical  # False: QEMU refused, reading virtual addresses instead

    def words(self, addr, count):
        data = bytes(gdb.selected_inferior().read_memory(addr, 4 * count))
        return list(struct.unpack("<%dI" % count, data))

    def word(self, addr):
        return self.words(addr, 1)[0]


def _phys_mode(on):
    reply = gdb.execute("maint packet Qqemu.PhyMemMode:%d" % (1 if on else 0), to_string=True)
    return '"OK"' in reply


_warned = False


@contextlib.contextmanager
def physical_memory():
    """`with physical_memory() as mem:` reads physical addresses through
    `mem`. Evaluate kernel variables before entering: inside, every memory
    read GDB makes (for any reason) is physical. Virtual mode comes back on
    the way out, errors included."""
    global _warned
    require_target()
    gdb.execute("maint flush dcache", to_string=True)
    physical = _phys_mode(True)
    if not physical and not _warned:
        _warned = True
        print("warning: this gdbstub cannot read physical memory (not QEMU?): reading page tables at "
              "virtual addresses, which is right only while the identity map is intact")
    try:
        yield PhysicalMemory(physical)
    finally:
        if physical:
            _phys_mode(False)
        gdb.execute("maint flush dcache", to_string=True)
