"""Building kernels to grade: trusted objects once, then one private link
per submission.

Only the gap files of a submission count. They are copied into a private
folder and compiled there (grader/compile.py: what the compiler may read,
the assembly it may produce, in a sandbox where one exists); their objects
are checked here (the symbols the lab API allows, the sections, the
instructions: grader/screen.py) before being linked with the trusted
objects.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import screen
from .compile import BuildError, Compiled, GapCompiler
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
# Sections of gap objects: code, data, debug information and the two notes
# gcc writes (the second on Ubuntu, whose gcc marks objects for CET). No
# other note: QEMU reads some of them (a PVH entry point) to boot a kernel.
_SAFE_SECTION = re.compile(r"^\.(?:text|data|bss|rodata)(?:\.[\w.]+)?$|^\.(?:comment|note\.GNU-stack|"
                           r"note\.gnu\.property|debug_\w+|rel\.[\w.]+|group|symtab|strtab|shstrtab)$", re.ASCII)
# Symbol names of gap objects: C identifiers, gcc's local labels (.L3) and
# static locals (counter.0); no quote or space that a tool reading symbol
# names (tools/mksyms.sh writes them into assembly) could misread.
_SYMBOL_NAME = re.compile(r"[A-Za-z_.$][\w.$]*", re.ASCII)


def binutil(name: str) -> str:
    """The binutils program `name` of the kernel's toolchain: the cross one
    (i686-elf-, i386-elf-) when installed, as the Makefile chooses."""
    for prefix in ("i686-elf-", "i386-elf-"):
        if shutil.which(prefix + "gcc") and shutil.which(prefix + name):
            return prefix + name
    return name


@dataclass(frozen=True)
class Kernel:
    elf: Path
    warnings: str  # compiler warnings in the gap files (never fatal)
    build_mode: str = ""  # whether the gap files were compiled in a sandbox, for the report


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
    """Early, friendly messages for includes outside the documented headers
    and assembler includes written plainly. Nothing rests on this text
    check: grader/compile.py decides from what the tools really read."""
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


def build_kernel(gap_dir: Path, out: Path, prebuilt: dict[str, Path] | None = None) -> Kernel:
    """Compiles the gap files found in `gap_dir` (private copies or kit
    sources) in out/src/, checks their objects and links them with the
    trusted objects into out/kernel.elf. `prebuilt` gives trusted objects
    for some gap files instead (the reference paging.o of a kit shipped
    without solutions/)."""
    prebuilt = prebuilt or {}
    names = [name for name in GAP_FILES if name not in prebuilt and (gap_dir / name).exists()]
    for name in names:
        check_source(name, (gap_dir / name).read_text(errors="replace"))
    out.mkdir(parents=True, exist_ok=True)
    compiler = GapCompiler.here(ROOT, tuple(sorted(ALLOWED_INCLUDES)), out / "src")
    try:
        compiled = compiler.compile({name: gap_dir / name for name in names}, out / "src", shown_folder(gap_dir))
        check_objects(compiled)
    except BuildError as e:
        raise BuildError(f"{e}\n({compiler.sandbox.note})") from None
    link(out, [c.obj for c in compiled.values()] + list(prebuilt.values()))
    return Kernel(out / "kernel.elf", "\n".join(w for c in compiled.values() for w in c.warnings),
                  compiler.sandbox.note)


def shown_folder(gap_dir: Path) -> str:
    """Where the gap files of `gap_dir` are for whoever reads the messages
    and debugs the kernel: a folder of the kit as it is (solutions/), else
    kernel/ (a submission's private copy is the student's kernel/)."""
    try:
        relative = gap_dir.resolve().relative_to(ROOT)
    except ValueError:
        return "kernel"
    return "kernel" if not relative.parts or relative.parts[0] == "build" else str(relative)


def link(out: Path, objects: list[Path]) -> None:
    """Links gap objects with the trusted objects into out/kernel.elf (the
    Makefile's rule; it compiles nothing when given GAP_OBJS)."""
    out.mkdir(parents=True, exist_ok=True)
    gap_objs = " ".join(str(o) for o in objects)
    try:
        result = _run(["make", "-s", f"-j{os.cpu_count() or 1}", "elf", f"OUT={out}", f"GAP_OBJS={gap_objs}"],
                      timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BuildError(f"linking took more than {COMPILE_TIMEOUT:.0f} s: stopped")
    if result.returncode != 0:
        raise BuildError(first_error((result.stdout + result.stderr)[:OUTPUT_LIMIT]))


def reference_gap(name: str) -> Path:
    """The reference for gap file `name`: solutions/NAME, or, in a kit
    shipped without solutions/ (the Gradescope package), its object in
    reference/ (tools/package.py builds it)."""
    for path in (ROOT / "solutions" / name, ROOT / "reference" / name.replace(".c", ".o")):
        if path.exists():
            return path
    raise BuildError(f"this kit has no reference {name} (neither solutions/{name} nor a built one)")


def build_submission(files: dict[str, Path], work: Path, replace: dict[str, Path] | None = None) -> Kernel:
    """Copies a submission's gap files (`files`, found by grader/submission.py)
    into `work` and builds them; `replace` swaps some of them for other files
    (the reference paging.c, say, or its object)."""
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    prebuilt = {name: path for name, path in (replace or {}).items() if path.suffix == ".o"}
    for name, path in {**files, **(replace or {})}.items():
        if path.stat().st_size > 1 << 20:
            raise BuildError(f"{name} is larger than 1 MiB")
        if name not in prebuilt:
            shutil.copyfile(path, src / name)
    return build_kernel(src, work / "obj", prebuilt)


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
    """The linker's first error with a little context, for the report (it
    names symbols and objects, never a file's contents)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"\berror\b|undefined reference|multiple definition", line):
            start = max(0, i - 1) if i and "In function" in lines[i - 1] else i
            return "does not link:\n" + "\n".join(lines[start:i + 6])
    return "does not link:\n" + _tail(output)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---- Objects ---------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    name: str
    bind: str  # LOCAL, GLOBAL, WEAK, UNIQUE
    section: str  # UND (undefined), COM (common), ABS or a section index


def symbols(obj: Path) -> list[Symbol]:
    """Every entry of an object's symbol table (readelf -s)."""
    out = _run([binutil("readelf"), "-sW", str(obj)]).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(None, 7)
        if len(parts) >= 7 and parts[0].rstrip(":").isdigit():
            found.append(Symbol(parts[7] if len(parts) == 8 else "", parts[4], parts[6]))
    return found


def api_symbols() -> frozenset[str]:
    """Names in the code (not the comments) of the headers gap files may
    include."""
    words: set[str] = set()
    for header in ALLOWED_INCLUDES:
        for folder in (ROOT / "kernel", ROOT / "kernel" / "include"):
            if (folder / header).exists():
                code = re.sub(r"//[^\n]*|/\*.*?\*/", " ", (folder / header).read_text(), flags=re.S)
                words |= set(re.findall(r"\b[A-Za-z_]\w*\b", code))
    return frozenset(words)


def check_objects(compiled: dict[str, Compiled]) -> None:
    """Gap objects may define only their lab functions (helpers must be
    static), reference only the documented API (whatever the binding: an
    undefined weak symbol is a reference too), carry no sections the kernel
    image treats specially, and hold only the instructions a solution needs.
    `compiled` maps each gap file's name to its compiled object."""
    labs = all_labs()
    allowed_uses = api_symbols() | {f for lab in labs for f in lab.functions}
    for name, c in compiled.items():
        own = {f for lab in labs if lab.file == name for f in lab.functions}  # from the labs' metadata
        for s in symbols(c.obj):
            if s.name and not _SYMBOL_NAME.fullmatch(s.name):
                raise BuildError(f"{name} has a symbol named {s.name[:60]!r}: gap files may use only C names")
            if s.section == "UND" and s.name and s.name not in allowed_uses:
                kind = " (a weak reference)" if s.bind == "WEAK" else ""
                raise BuildError(f"{name} uses '{s.name}', which is not part of the lab API (the headers gap "
                                 f"files may include){kind}")
            if own and s.section != "UND" and s.bind != "LOCAL" and s.name not in own:
                raise BuildError(f"{name} defines the global symbol '{s.name}': only its lab functions may be "
                                 f"global; make helpers and data static")
        _check_sections(name, c.obj)
        _check_instructions(name, c)


def _check_sections(name: str, obj: Path) -> None:
    result = _run([binutil("objdump"), "-h", "-w", str(obj)])
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0].isdigit() and not _SAFE_SECTION.match(parts[1]):
            raise BuildError(f"{name} puts code or data in section '{parts[1][:60]}', which gap files may not use")


def _check_instructions(name: str, c: Compiled) -> None:
    result = _run([binutil("objdump"), "-d", "-z", "-l", "--inlines", "--no-show-raw-insn", str(c.obj)])
    gap = str(ROOT / c.shown_as)  # where the object's debug information says the gap file is
    try:
        screen.check_instructions(result.stdout, lambda path: c.shown_as if str(ROOT / path) == gap else None)
    except screen.Refused as e:
        raise BuildError(str(e)) from None
