"""The sandbox the compiler and assembler run in, where bubblewrap (bwrap)
works: no network, no other namespace shared with the host, and a file
system that holds only the toolchain (read-only), the files a gap file may
read (read-only) and its private build folder (writable).

Without bwrap, or where it cannot run (some containers refuse the
namespaces it needs), builds are not sandboxed and say so; the checks of
grader/compile.py hold in both modes. KESTREL_SANDBOX=off turns the sandbox
off on purpose (the kit's tests use it to exercise both modes).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Where the toolchain lives (Debian, Ubuntu: all under /usr, the others
# being links into it on a merged-/usr system).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Sandbox:
    bwrap: str | None  # the bwrap program, or None: not sandboxed
    reason: str = ""  # why not
    toolchain: tuple[str, ...] = ()  # folders outside /usr the toolchain needs

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
        binds = [arg for f in readable for arg in ("--ro-bind", str(f), str(f))]
        return [self.bwrap, *_base_args(self.toolchain), *binds, "--bind", str(writable), str(writable),
                "--chdir", str(cwd), "--", *argv]


def _base_args(toolchain: tuple[str, ...]) -> list[str]:
    args = ["--unshare-all", "--die-with-parent", "--cap-drop", "ALL"]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for d in toolchain:
        args += ["--ro-bind", d, d]
    return args


def toolchain_dirs(programs: list[str]) -> tuple[str, ...]:
    """The install prefixes of `programs` that are not under the system
    folders (a cross toolchain in /opt or a home folder)."""
    dirs = set()
    for program in programs:
        path = shutil.which(program)
        if path:
            real = Path(path).resolve()
            if not any(real.is_relative_to(d) for d in SYSTEM_DIRS):
                dirs.add(str(real.parent.parent))
    return tuple(sorted(dirs))


def probe(programs: list[str]) -> Sandbox:
    """The sandbox to build in: bwrap if it runs here (checked by running
    it once), else the reason it is not used. `programs` are the toolchain's
    programs, to find where it is installed."""
    if os.environ.get("KESTREL_SANDBOX", "").lower() in ("0", "off", "no"):
        return Sandbox(None, "KESTREL_SANDBOX=off")
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return Sandbox(None, "no bwrap; make deps installs bubblewrap")
    toolchain = toolchain_dirs(programs)
    try:
        result = subprocess.run([bwrap, *_base_args(toolchain), "--", "true"], capture_output=True, text=True,
                                timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Sandbox(None, f"bwrap does not run here: {e}")
    if result.returncode != 0:
        return Sandbox(None, "bwrap does not run here: " + (result.stderr.strip().splitlines() or ["?"])[0])
    return Sandbox(bwrap, toolchain=toolchain)
