"""What the code generated from a gap file may contain, checked on what the
tools really produced: the assembly the compiler wrote (before the
assembler reads it) and the instructions in the object (by disassembly).

Both screens are allow-lists, derived from what gcc emits for the
reference solutions, the known mistakes (grader/tests/mistakes.toml) and a
file of ordinary C a correct solution may contain
(grader/tests/data/ordinary.c); test_compile.py checks that all of it
passes. Anything else is refused, wherever it came from: inline assembly,
strings pasted by macros, bytes emitted with .byte.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable, Iterator

# ---- Assembly --------------------------------------------------------------

# The directives gcc emits for C (with -g). None reads a file, defines a
# macro or repeats text: .incbin, .include, .macro, .irp, .rept, .altmacro,
# .purgem, .if, .set, .symver, .weakref, ... are all refused by not being
# here. Two more come from C a solution does not need, so that the symbol
# check (grader/build.py), which refuses both, can say what is wrong: .bss
# (a global variable) and .weak (__attribute__((weak)), #pragma weak).
DIRECTIVES = frozenset({
    ".file", ".loc", ".ident", ".text", ".data", ".bss", ".section", ".globl", ".local", ".comm", ".weak", ".type",
    ".size", ".align", ".p2align", ".byte", ".value", ".long", ".string", ".ascii", ".zero", ".uleb128",
    ".sleb128", ".cfi_sections", ".cfi_startproc", ".cfi_endproc", ".cfi_def_cfa", ".cfi_def_cfa_offset",
    ".cfi_def_cfa_register", ".cfi_offset", ".cfi_restore", ".cfi_remember_state", ".cfi_restore_state",
})
_LABEL = re.compile(r"\s*(?:[A-Za-z_.$][\w.$]*|\d+):", re.ASCII)
_OP = re.compile(r"\s*(\.?[A-Za-z_][\w.]*)(.*)$", re.S | re.ASCII)
# Lines gcc itself writes that start with '#': around inline assembly, and
# line markers inside it.
_HASH_LINE = re.compile(r'#(?:APP|NO_APP)\s*$|# \d+ "(?:[^"\\]|\\.)*"(?: \d+)*\s*$')
# Outside strings, a statement holds only these characters: no quote that
# could open a character constant, no backslash, nothing unprintable.
_PLAIN = re.compile(r"[\w\s.$%(),+\-*/<>=&|^~!:@\[\]]*", re.ASCII)
_MARKER = re.compile(r'# (\d+) "((?:[^"\\]|\\.)*)"')
_LOC = re.compile(r"\s*\.loc\s+(\d+)\s+(\d+)")
_FILE = re.compile(r'\s*\.file\s+(\d+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"((?:[^"\\]|\\.)*)")?')


class Refused(Exception):
    """Generated code holds something gap files may not; the message says
    what and where."""


def _statements(line: str) -> Iterator[str]:
    """The statements of one line of assembly (';' separates them), with
    strings kept whole; refuses what it cannot read."""
    start, in_string, i = 0, False, 0
    while i < len(line):
        c = line[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == ";":
            yield line[start:i]
            start = i + 1
        i += 1
    if in_string:
        raise Refused("an unterminated string")
    yield line[start:]


def _outside_strings(statement: str) -> str:
    """`statement` with each string replaced by 0 (what it says is data)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', "0", statement)


def check_assembly(text: str, source_name: str, shown_as: str) -> None:
    """Refuses assembly that uses a directive outside DIRECTIVES or that this
    screen cannot read. `source_name` is the gap file's name in .file
    directives; messages name it `shown_as` with the line of C."""
    gap_files: set[str] = set()
    c_line = 0
    for line in text.splitlines():
        m = _FILE.match(line)
        if m:
            path = os.path.join(m[2], m[3]) if m[3] is not None else m[2]
            if os.path.basename(path) == source_name:
                gap_files.add(m[1])
        m = _LOC.match(line)
        if m and m[1] in gap_files:
            c_line = int(m[2])
        m = _MARKER.match(line)
        if m and os.path.basename(m[2]) == source_name:
            c_line = int(m[1])
        where = f"{shown_as}:{c_line}" if c_line else shown_as
        if line.startswith("#"):
            if not _HASH_LINE.match(line):
                raise Refused(f"{where}: this assembly line is not allowed in gap files: {line[:80]!r}")
            continue
        try:
            for statement in _statements(line):
                _check_statement(statement)
        except Refused as e:
            raise Refused(f"{where}: {e}") from None


def _check_statement(statement: str) -> None:
    rest = statement
    while (m := _LABEL.match(rest)):
        rest = rest[m.end():]
    if not rest.strip():
        return
    plain = _outside_strings(rest)
    m = _OP.match(plain)
    if not m or not _PLAIN.fullmatch(plain):
        raise Refused(f"this assembly is not allowed in gap files: {statement.strip()[:80]!r}")
    op, args = m[1], m[2]
    if op.startswith("."):
        if op not in DIRECTIVES:
            raise Refused(f"the assembler directive '{op}' is not allowed in gap files (they may use only "
                          "what the compiler emits for C)")
    elif args.lstrip().startswith("="):
        raise Refused(f"assigning the symbol '{op}' is not allowed in gap files")


# ---- Instructions ------------------------------------------------------------

_CONDITIONS = ("o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g")
# Integer instructions gcc emits for C: data movement, arithmetic, logic,
# shifts, bit scans, compare, near jumps and calls, string moves (struct
# copies), atomics, ud2 (__builtin_trap), and padding nops.
ORDINARY = frozenset({
    "mov", "movzbl", "movzwl", "movzbw", "movsbl", "movswl", "movsbw", "lea", "push", "pop", "xchg", "cmpxchg",
    "xadd", "bswap", "cltd", "cwtl", "cbtw", "cwtd", "add", "adc", "sub", "sbb", "imul", "mul", "idiv", "div",
    "neg", "not", "inc", "dec", "and", "or", "xor", "cmp", "test", "shl", "sal", "shr", "sar", "rol", "ror",
    "rcl", "rcr", "shld", "shrd", "bt", "bts", "btr", "btc", "bsf", "bsr", "jmp", "call", "ret", "leave",
    "movs", "stos", "lods", "cmps", "scas", "nop", "ud2", "endbr32",
    *(f"j{c}" for c in _CONDITIONS), *(f"set{c}" for c in _CONDITIONS), *(f"cmov{c}" for c in _CONDITIONS),
})
# What kernel/x86.h's helpers emit that a gap file may use: invlpg, moves
# to and from CR0/CR2/CR3 (checked on their operands below), pushf
# (read_eflags), rdtsc, and cli (interrupts are already off in the kernel,
# so it changes nothing). Not sti (a timer interrupt inside a lab function
# would break the kernel's one-stack model) nor hlt (the CPU would wait for
# interrupts that are off): the reference uses neither.
KIT_HELPERS = frozenset({"invlpg", "pushf", "rdtsc", "cli"})
PREFIXES = frozenset({"rep", "repz", "repe", "repnz", "repne", "lock", "cs", "ds", "es", "ss", "data16",
                      "addr16", "notrack", "bnd"})
# Why the usual refused instructions are refused, for the message.
REASONS = {
    "port I/O (only trusted code talks to devices)": ("in", "out", "ins", "outs"),
    "a descriptor-table load or store": ("lgdt", "lidt", "lldt", "ltr", "sgdt", "sidt", "sldt", "str"),
    "a model-specific register access": ("rdmsr", "wrmsr"),
    "a far jump, call or return": ("ljmp", "lcall", "lret"),
    "a software interrupt or interrupt return": ("int", "int3", "into", "int1", "icebp", "iret"),
    "a system-call instruction": ("syscall", "sysenter", "sysexit", "sysret"),
    "it halts the CPU with interrupts off": ("hlt",),
    "it enables interrupts inside the kernel": ("sti",),
    "it changes the flags register, interrupt flag included": ("popf",),
}
_CONTROL_REG = re.compile(r"%(?:cr|db|dr|tr)\d+")
_READ_CR = re.compile(r"%cr[023],%e(?:ax|bx|cx|dx|si|di|bp|sp)$")
_WRITE_CR = re.compile(r"%e(?:ax|bx|cx|dx|si|di|bp|sp),%cr[03]$")
_SEGMENT_REG = re.compile(r"%[c-gs]s$")


@dataclass(frozen=True)
class Instruction:
    function: str  # the symbol it belongs to
    where: str  # the gap file's line, e.g. "kernel/paging.c:57", or the header's
    text: str  # as objdump prints it, e.g. "rep stos %eax,%es:(%edi)"

    def parts(self) -> tuple[str, list[str]]:
        """(mnemonic without prefixes, operands)."""
        rest = self.text
        while True:
            mnemonic, _, rest = rest.partition(" ")
            rest = rest.strip()
            if mnemonic not in PREFIXES or not rest:
                break
        return mnemonic, re.split(r",(?![^(]*\))", rest) if rest else []


def _base(mnemonic: str) -> str:
    """The mnemonic without the size suffix objdump adds (movl, cmpb, ...)."""
    if mnemonic not in ORDINARY | KIT_HELPERS and mnemonic[-1:] in ("b", "w", "l") \
            and mnemonic[:-1] in ORDINARY | KIT_HELPERS:
        return mnemonic[:-1]
    return mnemonic


def refusal(insn: Instruction) -> str | None:
    """Why `insn` may not be in a gap object, or None if it may."""
    mnemonic, operands = insn.parts()
    base = _base(mnemonic)
    if _CONTROL_REG.search(insn.text):
        if base == "mov" and (_READ_CR.match(",".join(operands)) or _WRITE_CR.match(",".join(operands))):
            return None
        return "a control, debug or test register other than the CR0/CR2/CR3 moves of kernel/x86.h"
    if any(_SEGMENT_REG.match(op.strip()) for op in operands):
        return "a segment register load or store"
    if base in ORDINARY or base in KIT_HELPERS:
        return None
    for reason, names in REASONS.items():
        if base in names or base.rstrip("bwlq") in names:
            return reason
    return "not an instruction a solution needs"


_FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")
_LOCATION = re.compile(r"^(?:inlined by )?(.+):(\d+)(?: \(discriminator \d+\))?(?: \(.+\))?$")
_INSN = re.compile(r"^\s+[0-9a-f]+:\t(.*)$")


def instructions(disassembly: str, gap_name: Callable[[str], str | None]) -> Iterator[Instruction]:
    """The instructions in `objdump -d -z -l --inlines --no-show-raw-insn`
    output, each with its function and its line: the first line of the gap
    file in its inlining chain (`gap_name(path)` gives the gap file's name
    for a path of it, else None), or else the header's name and line."""
    function, where, chain = "?", "", []
    for line in disassembly.splitlines():
        if (m := _FUNCTION.match(line)):
            function, where, chain = m[1], "", []
        elif (m := _INSN.match(line)):
            if chain:
                where, chain = _first_gap_line(chain, gap_name), []
            yield Instruction(function, where, m[1].strip())
        elif not line.endswith("():") and (m := _LOCATION.match(line)):
            chain.append((m[1], m[2]))


def _first_gap_line(chain: list[tuple[str, str]], gap_name: Callable[[str], str | None]) -> str:
    for path, number in chain:
        name = gap_name(path)
        if name:
            return f"{name}:{number}"
    return f"{os.path.basename(chain[0][0])}:{chain[0][1]}"


def check_instructions(disassembly: str, gap_name: Callable[[str], str | None]) -> None:
    """Refuses the first instruction of a gap object that `refusal` refuses."""
    for insn in instructions(disassembly, gap_name):
        why = refusal(insn)
        if why:
            raise Refused(f"{insn.where or '?'}: in {insn.function}: the instruction '{insn.text}' is not "
                          f"allowed in gap files ({why})")
