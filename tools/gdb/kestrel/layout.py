"""What the helpers know about i386 paging and Kestrel's memory map.

The numbers mirror kernel/memlayout.h and kernel/paging.h (the compiler
keeps no #define in the debug info); the names say where each comes from.
"""

PAGE_SIZE = 0x1000
ENTRIES = 1024  # PAGE_ENTRIES
TABLE_SPAN = PAGE_SIZE * ENTRIES  # 4 MiB: what one directory entry covers

# Entry bits (the Intel SDM's names; paging.h defines the first five).
PRESENT = 0x001
WRITE = 0x002
USER = 0x004
WRITE_THROUGH = 0x008
CACHE_DISABLE = 0x010
ACCESSED = 0x020
DIRTY = 0x040
PAGE_SIZE_BIT = 0x080  # PS in a directory entry: a 4 MiB page (CR4.PSE)
GLOBAL = 0x100
FRAME_MASK = 0xFFFFF000

CR0_PG = 0x80000000
CR0_WP = 0x00010000
CR4_PSE = 0x00000010

# kernel/memlayout.h
IDENTITY_LIMIT = 0x40000000
USER_BASE = 0x40000000
USER_TOP = 0xC0000000
KHEAP_BASE = 0xD0000000
KHEAP_TOP = 0xF0000000

# (start, end, name, user allowed): the map of memlayout.h, top excluded.
REGIONS = (
    (0x00000000, IDENTITY_LIMIT, "identity map", False),
    (USER_BASE, USER_TOP, "user space", True),
    (USER_TOP, KHEAP_BASE, "unused (guard)", False),
    (KHEAP_BASE, KHEAP_TOP, "kernel heap", False),
    (KHEAP_TOP, 1 << 32, "unused", False),
)


def region(vaddr):
    """(name, user allowed) of the memlayout.h region holding `vaddr`."""
    for start, end, name, user in REGIONS:
        if start <= vaddr < end:
            return name, user
    raise ValueError(hex(vaddr))


def pd_index(vaddr):
    return (vaddr >> 22) & 0x3FF


def pt_index(vaddr):
    return (vaddr >> 12) & 0x3FF


def access(user, write):
    """The short form of a permission: `kernel RW`, `user RO`..."""
    return "%s %s" % ("user" if user else "kernel", "RW" if write else "RO")


def describe_entry(entry, directory=False, pse=False):
    """The bits of a directory or table entry, in words."""
    if not entry & PRESENT:
        return "not present" + (" (other bits set: 0x%x)" % entry if entry else "")
    words = ["present", "RW" if entry & WRITE else "RO", "user" if entry & USER else "kernel"]
    for bit, name in ((WRITE_THROUGH, "write-through"), (CACHE_DISABLE, "cache-disable"),
                      (ACCESSED, "accessed"), (DIRTY, "dirty"), (GLOBAL, "global")):
        if entry & bit:
            words.append(name)
    if directory and entry & PAGE_SIZE_BIT:
        words.append("4MiB-page" if pse else "PS (ignored: CR4.PSE is off)")
    return ", ".join(words)


def human_size(nbytes):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size and nbytes % size == 0:
            return "%d %s" % (nbytes // size, unit)
    return "%d bytes" % nbytes
