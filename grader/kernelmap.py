"""What the grader knows about a kernel from its ELF alone, never from the
running guest: which code is trusted, where each test's function and the
pass point are, which call sites may pass which test, and which bytes
trusted code and read-only data must still hold when a test passes.

kernel/linker.ld puts the gap objects' code and read-only data after the
trusted ones, between __gap_*_start and __gap_*_end; everything else of
.text, .rodata and .ksyms is trusted.
"""
from __future__ import annotations

import bisect
import functools
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .elf import STT_NOTYPE, Elf, ElfError
from .labs import all_labs

PASS_POINT = "harness_pass"  # the trusted pass point: a test passes when the grader stops here
ARM_POINT = "harness_run_stage"  # first called before any lab code runs (kernel/main.c)
START_POINT = "harness_start_test"  # calls the selected test (kernel/harness.c)
HOOK_POINT = "harness_call_hook"  # calls a hook that may pass it
STOP_WORDS = "harness_stops"  # read where the grader stops the guest (kernel/harness.c)
STOP_ARM, STOP_START, STOP_PASS, STOP_HOOK = 0, 4, 8, 12  # their byte offsets
# The code of the stops the observer needs the stack of (kernel/harness.c), the
# stop word's address left out: "cmpl $0, word" (83 3d word 00), then the rest.
START_CODE = (bytes.fromhex("5589e5833d"), bytes.fromhex("00ff5508"))  # then call *8(%ebp)
HOOK_CODE = (bytes.fromhex("5589e5ff750c833d"), bytes.fromhex("00ff5508"))  # push 12(%ebp) first
PASS_CODE = (bytes.fromhex("833d"), bytes.fromhex("00"))
START_FRAME = 4  # the called function's ESP at its first instruction: ESP at the start or hook stop - 4
SYMBOL_TABLE_READER = "print_backtrace"  # the one trusted reader of .ksyms (panics)
# Trusted tables nothing writes once the labs may run: (source file, symbol, what it is).
# (Not the GDT: the CPU itself sets the accessed bit of a descriptor it loads.)
IDT = "the interrupt descriptor table"
SETTLED_TABLES = (("trap.c", "idt", IDT),
                  ("gdt.c", "tss", "the task state segment"),
                  ("harness.c", "setup", "the harness's test selection and parameters"))
_MARKERS = ("__gap_", "_kernel_", "__harness_passes_")  # linker script symbols, not code
_TEST_ENTRY = struct.Struct("<IIII")  # struct harness_test: name, params, stage, run
_CALL, _JMP = 0xE8, 0xE9


class KernelMapError(Exception):
    """The kernel ELF lacks what the grader needs (a kit bug, not a student's)."""


@dataclass(frozen=True)
class Function:
    name: str
    start: int
    end: int
    file: str  # the source file when known
    trusted: bool

    def where(self, addr: int) -> str:
        place = f"{self.name}+{addr - self.start:#x}"
        return place if self.trusted else f"{place} in {self.file or 'a gap file'}"


@dataclass(frozen=True)
class Range:
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def __contains__(self, addr: int) -> bool:
        return self.start <= addr < self.end


@dataclass(frozen=True)
class TrustedSpan:
    """Trusted ranges close together, read from the guest in one go: the
    ELF's bytes there, and the holes between them (gap code or data: zeros
    here, skipped when compared)."""

    range: Range
    want: bytes
    holes: tuple[Range, ...]

    def changes(self, got: bytes) -> tuple[int, int] | None:
        """(address of the first changed trusted byte, number of changed
        trusted bytes) of `got` read from the span, or None: unchanged."""
        seen = bytearray(got)
        for h in self.holes:
            seen[h.start - self.range.start:h.end - self.range.start] = bytes(h.size)
        if seen == self.want:
            return None
        changed = [i for i, (a, b) in enumerate(zip(seen, self.want)) if a != b]
        return self.range.start + changed[0], len(changed)


@dataclass(frozen=True)
class KernelMap:
    elf: Elf
    functions: tuple[Function, ...]  # sorted by start
    starts: tuple[int, ...]  # their starts
    tests: dict[str, int]  # harness test name -> its function's address
    pass_point: int
    arm_point: int
    stop_words: int  # harness_stops: the stop words at STOP_ARM, STOP_START, STOP_PASS, STOP_HOOK
    start_stop: int  # the EIP of the start stop (right after harness_start_test reads its word)
    hook_stop: int  # the EIP of the hook stop (harness_call_hook)
    pass_stop: int  # the EIP of the pass stop (harness_pass)
    pass_sites: dict[int, Function]  # return address of each `call harness_pass` -> the calling function
    references: dict[int, frozenset[int]]  # trusted function -> functions it calls or takes the address of
    gap_calls: tuple[tuple[int, int], ...]  # (call, return address) of each call from trusted into gap code
    image: Range  # _kernel_start.._kernel_end: must translate to itself
    trusted_spans: tuple[TrustedSpan, ...]  # what is compared with the ELF at each pass
    read_only: tuple[Range, ...]  # .text, .rodata, .ksyms (gap parts too): nobody writes them
    trusted_code: Range
    symbol_table: Range  # .ksyms
    settled: dict[str, Range]  # SETTLED_TABLES, by what they are
    stack: Range  # the kernel stack
    _reach: dict[frozenset[int], frozenset[int]] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def load(path: Path) -> KernelMap:
        """The map of the kernel at `path` (cached while the file is unchanged)."""
        st = path.stat()
        return _load(path.resolve(), st.st_mtime_ns, st.st_size)

    def function_at(self, addr: int) -> Function | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        return self.functions[i] if i >= 0 and addr < self.functions[i].end else None

    def where(self, addr: int) -> str:
        """`addr` for a report: function+offset (and the gap file), or the address."""
        f = self.function_at(addr)
        return f.where(addr) if f else f"{addr:#010x}"

    def pass_calls_gap_code(self, test: str) -> bool:
        """True when a function that may pass `test` reaches, in trusted
        code, a call into gap code: gap code may then run while that
        function's frame is live (the call counts matter)."""
        seen = self._reached([f.start for f in self.pass_functions(test)])
        return any(self.function_at(call).start in seen for call, _ in self.gap_calls)

    def _reached(self, starts: list[int]) -> frozenset[int]:
        """The trusted functions `starts` reach: calls, and functions whose
        address they hand over (remembered: each boot asks again)."""
        key = frozenset(starts)
        if key not in self._reach:
            self._reach[key] = frozenset(self._walk(starts))
        return self._reach[key]

    def _walk(self, starts: list[int]) -> set[int]:
        seen, todo = set(), list(starts)
        while todo:
            f = todo.pop()
            if f not in seen:
                seen.add(f)
                todo += self.references.get(f, ())
        return seen

    def is_trusted_code(self, addr: int) -> bool:
        f = self.function_at(addr)
        return f is not None and f.trusted

    def call_target(self, call: int) -> int:
        """Where the `call rel32` at `call` goes."""
        return (call + 5 + int.from_bytes(self.elf.bytes_at(call + 1, 4), "little", signed=True)) & 0xFFFFFFFF

    def pass_functions(self, test: str) -> frozenset[Function]:
        """The trusted functions that may call harness_pass for `test`: those
        with a pass site among the functions the test's own function reaches
        in trusted code (calls, and functions whose address it hands over,
        such as a scheduler hook)."""
        seen = self._reached([self.tests[test]])
        return frozenset(site for site in self.pass_sites.values() if site.start in seen)


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime: int, size: int) -> KernelMap:
    try:
        return _build(Elf.read(path))
    except ElfError as e:
        raise KernelMapError(f"{path}: {e}") from e


def _build(elf: Elf) -> KernelMap:
    gap_text = Range(elf.symbol("__gap_text_start").value, elf.symbol("__gap_text_end").value)
    gap_rodata = Range(elf.symbol("__gap_rodata_start").value, elf.symbol("__gap_rodata_end").value)
    functions = _functions(elf, gap_text)
    sections = [elf.section(name) for name in (".text", ".rodata", ".ksyms")]
    read_only = tuple(Range(s.addr, s.addr + s.size) for s in sections)
    text = read_only[0]
    pass_point = elf.symbol(PASS_POINT).value
    trusted = tuple(piece for r in read_only for piece in _minus(r, (gap_text, gap_rodata)))
    starts = {f.start for f in functions if f.trusted}
    references, pass_sites, gap_calls = {}, {}, []
    for f in functions:
        if f.trusted:
            code = elf.bytes_at(f.start, f.end - f.start)
            calls = _rel32_pairs(code, f.start, _CALL)
            references[f.start] = frozenset(_references(code, f.start, calls, starts))
            pass_sites.update((ret, f) for ret, to in calls if to == pass_point)
            gap_calls += [(ret - 5, ret) for ret, to in calls if to in gap_text]
    tests = _tests(elf)
    check_passes_placed(elf, tests, pass_sites)
    stop_words = elf.symbol(STOP_WORDS).value
    return KernelMap(
        elf=elf, functions=functions, starts=tuple(f.start for f in functions), tests=tests, pass_point=pass_point,
        arm_point=elf.symbol(ARM_POINT).value, stop_words=stop_words,
        start_stop=stop_after(elf, elf.symbol(START_POINT).value, START_CODE, stop_words + STOP_START),
        hook_stop=stop_after(elf, elf.symbol(HOOK_POINT).value, HOOK_CODE, stop_words + STOP_HOOK),
        pass_stop=stop_after(elf, pass_point, PASS_CODE, stop_words + STOP_PASS),
        pass_sites=pass_sites, references=references,
        gap_calls=tuple(sorted(gap_calls)),
        image=Range(elf.symbol("_kernel_start").value, elf.symbol("_kernel_end").value),
        trusted_spans=tuple(_span(elf, span, trusted) for span in _joined(trusted, hole=4096)),
        read_only=read_only, trusted_code=Range(text.start, gap_text.start), symbol_table=read_only[2],
        settled={what: _object(elf, file, name) for file, name, what in SETTLED_TABLES},
        stack=Range(elf.symbol("kernel_stack_bottom").value, elf.symbol("kernel_stack_top").value))


def _functions(elf: Elf, gap_text: Range) -> tuple[Function, ...]:
    """Every function, sorted, each marked trusted or not by where the
    linker put it; checks that the linker script did its part."""
    lab_files = {name: lab.file for lab in all_labs() for name in lab.functions}
    gap_files = set(lab_files.values())
    text = elf.section(".text")
    named = [s for s in elf.symbols if s.value and (s.is_function or s.type == STT_NOTYPE and s.value in
             Range(text.addr, text.addr + text.size) and not s.name.startswith(_MARKERS))]
    # One name per address, a function's rather than a label's (assembly entry points are labels).
    syms = sorted({s.value: s for s in sorted(named, key=lambda s: s.is_function)}.values(), key=lambda s: s.value)
    out = []
    for i, s in enumerate(syms):
        end = s.value + s.size if s.size else (syms[i + 1].value if i + 1 < len(syms) else s.value + 1)
        gap = s.value in gap_text
        out.append(Function(s.name, s.value, end, s.file or (lab_files.get(s.name, "") if gap else ""), not gap))
    misplaced = [f.name for f in out if (f.name in lab_files and f.trusted) or (f.file and not f.trusted
                                                                                 and f.file not in gap_files)]
    if misplaced:
        raise KernelMapError(f"the linker script mixed gap and trusted code ({', '.join(misplaced[:5])}): "
                             "see kernel/linker.ld")
    return tuple(out)


def stop_after(elf: Elf, function: int, code: tuple[bytes, bytes], word: int) -> int:
    """The EIP at the stop of `function`: right after its read of `word`
    (the guest stops after the instruction that reads a watched word)."""
    want = code[0] + word.to_bytes(4, "little") + code[1]
    if elf.bytes_at(function, len(want)) != want:
        raise KernelMapError(f"the code at {function:#x} is not the stop grader/kernelmap.py expects: see the "
                             "assembly in kernel/harness.c")
    return function + len(code[0]) + 4 + 1  # the cmpl ends with the word's address and its immediate 0


def check_passes_placed(elf: Elf, tests: dict[str, int], pass_sites: dict[int, Function]) -> None:
    """Every function other than a test's own that calls harness_pass (the
    observer keeps a breakpoint at its start until it sees it start) lies
    on the pages kept for them: elsewhere its breakpoint would slow QEMU on
    everything sharing its page."""
    passes = Range(elf.symbol("__harness_passes_start").value, elf.symbol("__harness_passes_end").value)
    loose = sorted(f.name for f in pass_sites.values() if f.start not in passes and f.start not in tests.values())
    if loose:
        raise KernelMapError(f"{', '.join(loose[:5])}: a function that calls harness_pass() must be marked "
                             "HARNESS_PASSES (kernel/harness.h)")


def _tests(elf: Elf) -> dict[str, int]:
    """The harness's test registry (.harness_tests): name -> function."""
    start, end = elf.symbol("__harness_tests_start").value, elf.symbol("__harness_tests_end").value
    table = elf.bytes_at(start, end - start)
    tests = {}
    for name_ptr, _, _, run in _TEST_ENTRY.iter_unpack(table):
        tests[elf.string_at(name_ptr)] = run
    return tests


def _references(code: bytes, base: int, calls: list[tuple[int, int]], starts: set[int]) -> set[int]:
    """Functions among `starts` that `code` (at `base`) calls (`calls`),
    jumps to, or names by their absolute address (a hook it hands over)."""
    found = starts.intersection(to for _, to in calls + _rel32_pairs(code, base, _JMP))
    for shift in range(4):
        count = (len(code) - shift) // 4
        found |= starts.intersection(struct.unpack_from(f"<{count}I", code, shift))
    return found


def _rel32_pairs(code: bytes, base: int, opcode: int) -> list[tuple[int, int]]:
    """(address after, target) of each byte `opcode` followed by a rel32."""
    pairs, i = [], code.find(opcode)
    while 0 <= i <= len(code) - 5:
        after = base + i + 5
        pairs.append((after, (after + int.from_bytes(code[i + 1:i + 5], "little", signed=True)) & 0xFFFFFFFF))
        i = code.find(opcode, i + 1)
    return pairs


def _minus(r: Range, holes: tuple[Range, ...]) -> list[Range]:
    pieces = [r]
    for hole in holes:
        pieces = [p for q in pieces for p in (Range(q.start, min(q.end, hole.start)), Range(max(q.start, hole.end),
                                                                                               q.end)) if p.size > 0]
    return pieces


def _joined(ranges: tuple[Range, ...], hole: int) -> tuple[Range, ...]:
    """`ranges` (sorted), those closer than `hole` bytes made one."""
    out = [ranges[0]]
    for r in ranges[1:]:
        if r.start - out[-1].end < hole:
            out[-1] = Range(out[-1].start, r.end)
        else:
            out.append(r)
    return tuple(out)


def _span(elf: Elf, span: Range, trusted: tuple[Range, ...]) -> TrustedSpan:
    inside = [r for r in trusted if r.start in span]
    want = bytearray(span.size)
    for r in inside:
        want[r.start - span.start:r.end - span.start] = elf.view(r.start, r.size)
    holes = tuple(Range(a.end, b.start) for a, b in zip(inside, inside[1:]) if b.start > a.end)
    return TrustedSpan(span, bytes(want), holes)


def _object(elf: Elf, file: str, name: str) -> Range:
    s = elf.symbol(name, file)
    if not s.size:
        raise KernelMapError(f"{file}: {name} has no size in the symbol table")
    return Range(s.value, s.value + s.size)
