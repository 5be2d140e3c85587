"""The sandbox the compiler and assembler run in, where bubblewrap (bwrap)
works: no network, no namespace shared with the host, no capability, and a
file system that holds only the toolchain's own files (the compiler
driver, cc1, the assembler and the libraries they load, read-only), the
files a gap file may read (read-only) and its private build folder
(writable). No /etc, /dev, /proc, /tmp or home folder.

Without bwrap, or where it cannot run the compiler (some containers refuse
the namespaces it needs), builds are not sandboxed and say so; the checks
of grader/compile.py hold in both modes. KESTREL_SANDBOX=off turns the
sandbox off on purpose (the kit's tests use it to exercise both modes).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Links from / into /usr on a merged-/usr system, recreated as links.
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Sandbox:
    bwrap: str | None  # the bwrap program, or None: not sandboxed
    reason: str = ""  # why not
    toolchain: tuple[tuple[str, str], ...] = ()  # (file, where the sandbox shows it)

    @property
    def note(self) -> str:
        """The line every report carries about the build mode."""
        if self.bwrap:
            return "build: sandboxed (bubblewrap)"
        return f"build: not sandboxed ({self.reason}): dependency and assembly checks only"

    def wrap(self, argv: list[str], readable: list[Path], writable: Path, cwd: Path) -> list[str]:
        """`argv` as run in the sandbox: it sees `readable` files (at their
        own paths, read-only), the folder `writable`, the toolchain and
        nothing else, and starts in `cwd`."""
        if not self.bwrap:
            return argv
        args = [self.bwrap, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL"]
        args += [arg for link in SYSTEM_LINKS if os.path.islink(link) for arg in ("--symlink", os.readlink(link), link)]
        args += [arg for src, dest in self.toolchain for arg in ("--ro-bind", src, dest)]
        args += [arg for f in readable for arg in ("--ro-bind", str(f), str(f))]
        return [*args, "--bind", str(writable), str(writable), "--chdir", str(cwd), "--", *argv]


def bind_for(path: str) -> tuple[str, str]:
    """(the file `path` names, the path to show it at in the sandbox: its
    folder's real path, so that links between folders still lead to it)."""
    return os.path.realpath(path), os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def toolchain_files(cc: str) -> tuple[tuple[str, str], ...]:
    """The compiler driver, cc1 and the assembler `cc` runs, and every
    shared library they load (ldd), as sandbox binds."""
    found = subprocess.run([cc, "-print-prog-name=cc1"], capture_output=True, text=True, timeout=30).stdout.strip()
    programs = [shutil.which(cc) or cc, found, shutil.which("as") or "as"]
    named = subprocess.run([cc, "-print-prog-name=as"], capture_output=True, text=True, timeout=30).stdout.strip()
    if os.path.isabs(named):  # a cross toolchain names its own assembler
        programs[2] = named
    ldd = subprocess.run(["ldd", *programs], capture_output=True, text=True, timeout=30).stdout
    # "libz.so.1 => /lib/.../libz.so.1 (0x...)", and the loader "/lib64/ld-linux-x86-64.so.2 (0x...)"
    files = programs + re.findall(r"(/\S+) \(0x", ldd)
    return tuple(sorted({bind_for(f) for f in files if os.path.exists(f)}))


def probe(cc: str) -> Sandbox:
    """bwrap with the toolchain of `cc` if it is here and not turned off,
    else why not. (grader/compile.py then checks that it can compile.)"""
    if os.environ.get("KESTREL_SANDBOX", "").lower() in ("0", "off", "no"):
        return Sandbox(None, "KESTREL_SANDBOX=off")
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return Sandbox(None, "no bwrap; make deps installs bubblewrap")
    return Sandbox(bwrap, toolchain=toolchain_files(cc))
