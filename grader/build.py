"""Building kernels to grade: trusted objects once, then one private link
per submission.

Only the gap files of a submission count. They are copied into a private
folder, checked before the compiler sees them (only the documented headers,
no assembler includes), compiled with the kit's flags under a time and
output limit, and their objects checked against the symbols the lab API
allows, before being linked with the trusted objects.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .labs import all_labs

ROOT = Path(__file__).resolve().parent.parent
GAP_FILES = ("paging.c", "process.c")
# What a gap file may #include (DESIGN.md section 3).
ALLOWED_INCLUDES = frozenset({"paging.h", "pmm.h", "port_io.h", "process.h", "memlayout.h", "kprintf.h",
                              "string.h", "stddef.h", "stdint.h", "stdbool.h"})
COMPILE_TIMEOUT = 60.0
OUTPUT_LIMIT = 64 << 10
_INCLUDE = re.compile(r'^\s*#\s*include\b\s*(?P<arg>.*)$', re.MULTILINE)
_INCLUDE_ARG = re.compile(r'^(?:"(?P<q>[^"/\\]+)"|<(?P<a>[^>/\\]+)>)\s*(?://.*|/\*.*)?$')
_ASM_INCLUDE = re.compile(r"\.\s*(?:incbin|include)\b|#\s*(?:embed|include_next|import)\b", re.IGNORECASE)
_SAFE_SECTION = re.compile(r"^\.(?:text|data|bss|rodata)(?:\..*)?$|^\.(?:comment|note\..*|debug_.*|rel\..*|"
                           r"group|symtab|strtab|shstrtab)$|^$")


def binutil(name: str) -> str:
    """The binutils program `name` of the kernel's toolchain: the cross one
    (i686-elf-, i386-elf-) when installed, as the Makefile chooses."""
    for prefix in ("i686-elf-", "i386-elf-"):
        if shutil.which(prefix + "gcc") and shutil.which(prefix + name):
            return prefix + name
    return name


class BuildError(Exception):
    """The submission did not build; the message says why, for a student."""


@dataclass(frozen=True)
class Kernel:
    elf: Path
    warnings: str  # compiler warnings in the gap files (never fatal)


def _run(argv: list[str], cwd: Path = ROOT, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    # LC_ALL=C: plain ASCII quotes in compiler messages, whatever the locale.
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=timeout,
                          env={**os.environ, "LC_ALL": "C"})


def build_trusted() -> None:
    """Builds (or brings up to date) everything but the gap files, once even
    when several graders run at the same time (the Makefile's lock)."""
    result = _run(["make", "-s", f"-j{os.cpu_count() or 1}", "trusted"])
    if result.returncode != 0:
        raise BuildError("the kit itself does not build (not your code):\n" + _tail(result.stdout + result.stderr))


def check_source(name: str, text: str) -> None:
    """Rejects includes outside the documented headers and assembler
    includes, before the preprocessor could read a host file."""
    for m in _INCLUDE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        arg = _INCLUDE_ARG.match(m["arg"].strip())
        header = arg and (arg["q"] or arg["a"])
        if not header or header not in ALLOWED_INCLUDES:
            raise BuildError(f"{name}:{line}: #include {m['arg'].strip()} is not allowed; gap files may include "
                             f"only {', '.join(sorted(ALLOWED_INCLUDES))}")
    m = _ASM_INCLUDE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise BuildError(f"{name}:{line}: '{m.group(0)}' is not allowed in a gap file")


def build_kernel(gap_dir: Path, out: Path) -> Kernel:
    """Compiles the gap files found in `gap_dir` (already private copies or
    kit sources) and links them with the trusted objects into out/kernel.elf."""
    for name in GAP_FILES:
        if (gap_dir / name).exists():
            check_source(name, (gap_dir / name).read_text(errors="replace"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = _run(["make", "-s", f"-j{os.cpu_count() or 1}", "elf", f"GAP_DIR={gap_dir}", f"OUT={out}"],
                      timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BuildError(f"compiling took more than {COMPILE_TIMEOUT:.0f} s: stopped")
    # Name gap files as the student knows them, not by the private copy.
    output = (result.stdout + result.stderr)[:OUTPUT_LIMIT].replace(f"{gap_dir}/", "kernel/")
    if result.returncode != 0:
        raise BuildError(first_error(output))
    check_objects(out)
    return Kernel(out / "kernel.elf", _warnings(output))


def build_submission(files: dict[str, Path], work: Path, replace: dict[str, Path] | None = None) -> Kernel:
    """Copies a submission's gap files (`files`, found by grader/submission.py)
    into `work` and builds them; `replace` swaps some of them for other files
    (the reference paging.c, say)."""
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name, path in {**files, **(replace or {})}.items():
        if path.stat().st_size > 1 << 20:
            raise BuildError(f"{name} is larger than 1 MiB")
        shutil.copyfile(path, src / name)
    return build_kernel(src, work / "obj")


def build_partial(upto: int, work: Path) -> Kernel:
    """The partial skeleton for lab `upto`: reference code before it, stubs
    from it on (upto=1 is the student's starting point)."""
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name in GAP_FILES:
        ref = ROOT / "solutions" / name
        if ref.exists():
            result = _run([sys.executable, str(ROOT / "tools" / "skeleton.py"), str(ref), "--upto", str(upto),
                           "--labs", str(ROOT / "labs"), "-o", str(src / name)])
            if result.returncode != 0:
                raise BuildError(result.stderr.strip())
    return build_kernel(src, work / "obj")


def first_error(output: str) -> str:
    """The compiler's first error with a little context, for the report."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\berror\b|undefined reference", line):
            start = max(0, i - 1) if i and "In function" in lines[i - 1] else i
            return "does not compile:\n" + "\n".join(lines[start:i + 6])
    return "does not compile:\n" + _tail(output)


def _warnings(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if "warning:" in line)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---- Symbols ---------------------------------------------------------------

def _nm(path: Path) -> list[tuple[str, str]]:
    result = _run([binutil("nm"), "--format=posix", str(path)])
    pairs = []
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def api_symbols() -> frozenset[str]:
    """Names declared in the headers gap files may include."""
    words: set[str] = set()
    for header in ALLOWED_INCLUDES:
        for folder in (ROOT / "kernel", ROOT / "kernel" / "include"):
            if (folder / header).exists():
                words |= set(re.findall(r"\b[A-Za-z_]\w*\b", (folder / header).read_text()))
    return frozenset(words)


def check_objects(out: Path) -> None:
    """Gap objects may define only their lab functions (helpers must be
    static), reference only the documented API, and carry no sections the
    kernel image treats specially."""
    labs = all_labs()
    allowed_uses = api_symbols() | {f for lab in labs for f in lab.functions}
    for name in GAP_FILES:
        obj = out / name.replace(".c", ".o")
        if not obj.exists():
            continue
        own = {f for lab in labs if lab.file == name for f in lab.functions}  # from the labs' metadata
        for symbol, kind in _nm(obj):
            if kind == "U" and symbol not in allowed_uses:
                raise BuildError(f"{name} uses '{symbol}', which is not part of the lab API (the headers "
                                 f"gap files may include)")
            if own and kind in "TDBRCVW" and kind.isupper() and symbol not in own:
                raise BuildError(f"{name} defines the global symbol '{symbol}': only its lab functions may be "
                                 f"global; make helpers and data static")
        _check_sections(name, obj)


def _check_sections(name: str, obj: Path) -> None:
    result = _run([binutil("objdump"), "-h", "-w", str(obj)])
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0].isdigit() and not _SAFE_SECTION.match(parts[1]):
            raise BuildError(f"{name} puts code or data in section '{parts[1]}', which gap files may not use")
