# Kestrel's GDB set-up: attach to the kernel that `make qemu-gdb` started.
#
# `make gdb` runs `gdb -q -n -x .gdbinit KERNEL`. A plain `gdb` from this
# folder reads this file too, once you allow it in ~/.gdbinit (or
# ~/.config/gdb/gdbinit) with a line such as
#     add-auto-load-safe-path /path/to/kestrel/.gdbinit
# (see README.md). Either way it must run from the top of the kit.

# The kernel is 32-bit x86 code; QEMU's qemu-system-i386 describes the same.
set architecture i386

# The helpers (tools/gdb/kestrel/): pagedir, vtop, memmap, fault, procs, usersyms,
# pbreak; `help kestrel` lists them.
python
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "tools", "gdb"))
import kestrel
end

# The kernel's symbols: the file make gdb names, else $KESTREL_KERNEL,
# else build/student/kernel.elf.
python kestrel.load_kernel()

# Attach to QEMU on this user's port (uid % 5000 + 25000, as in the
# Makefile; $KESTREL_GDBPORT overrides it), and stop before the kernel
# ends QEMU on a panic, an unhandled exception, a gap stub or a failed
# grader check.
python kestrel.connect()
