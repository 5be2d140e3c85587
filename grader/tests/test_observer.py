"""The grader's own view of a boot (grader/observer.py, inspect.py,
kernelmap.py): what a pass needs, the complete outside identity-map check,
review flags, and a QEMU that dies at any moment being a verdict."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from grader import qemu, replay
from grader.inspect import identity_map_problems
from grader.kernelmap import (PASS_CODE, STOP_START, Function, KernelMap, KernelMapError, check_passes_placed,
                              stop_after)
from grader.labs import all_labs
from grader.guest import Halted, Memory
from grader.qemu import Outcome

from .procs import state

MIB = 1 << 20


# ---- What the grader knows from the ELF -------------------------------------

def test_each_test_may_pass_only_from_its_own_code(reference_kernel):
    kernel = KernelMap.load(reference_kernel)
    names = lambda test: {f.name for f in kernel.pass_functions(test)}  # noqa: E731
    assert names("identity_map") == {"identity_map"}
    assert names("fork_return") == {"return_done"}, "a hook the test hands to the scheduler"
    assert names("selftest_fail") == set(), "a test that never passes has no pass site"
    lab_tests = [replay.captured_request(reference_kernel, t.name, 1).test for lab in all_labs() for t in lab.tests]
    assert all(names(t) for t in lab_tests), "every lab test can pass"
    assert all(f.trusted for t in lab_tests for f in kernel.pass_functions(t))


def test_calls_are_counted_where_gap_code_can_run_inside_a_passing_function(reference_kernel):
    kernel = KernelMap.load(reference_kernel)
    assert kernel.pass_calls_gap_code("translate"), "translate calls paging_get_physical itself"
    assert kernel.pass_calls_gap_code("heap_alloc"), "through a helper of the test"
    assert not kernel.pass_calls_gap_code("identity_map"), "its checks read the tables themselves"
    assert not kernel.pass_calls_gap_code("fork_return"), "its hook runs once every process has exited"


def test_gap_code_sits_after_the_trusted_code(reference_kernel):
    kernel = KernelMap.load(reference_kernel)
    gap = [f for f in kernel.functions if not f.trusted]
    assert {"init_paging", "process_fork"} <= {f.name for f in gap}
    assert min(f.start for f in gap) >= kernel.trusted_code.end, "trusted addresses do not depend on gap code"
    assert kernel.gap_calls and all(kernel.function_at(call).trusted for call, _ in kernel.gap_calls)


def test_hooks_that_may_pass_have_pages_of_their_own(reference_kernel):
    """Their entry breakpoints stay armed until they run, and QEMU runs a
    page holding one an instruction at a time: nothing else shares it."""
    kernel = KernelMap.load(reference_kernel)
    start, end = (kernel.elf.symbol(f"__harness_passes_{edge}").value for edge in ("start", "end"))
    hooks = {f.start for f in kernel.pass_sites.values()} - set(kernel.tests.values())
    assert hooks, "tests hand hooks to the scheduler"
    assert {f.start for f in kernel.functions if start <= f.start < end} == hooks
    assert start % 4096 == 0 and end % 4096 == 0
    unmarked = Function("nprocs_tap", end + 16, end + 64, "checks.c", True)
    check_passes_placed(kernel.elf, kernel.tests, kernel.pass_sites)
    with pytest.raises(KernelMapError, match=r"^nprocs_tap: .* HARNESS_PASSES"):
        check_passes_placed(kernel.elf, kernel.tests, {end + 40: unmarked})


def test_watched_words_and_tables_have_their_pages_to_themselves(reference_kernel):
    """QEMU checks every access to a page with a watchpoint."""
    kernel = KernelMap.load(reference_kernel)
    words = kernel.elf.symbol("harness_stops")
    assert words.value % 4096 == 0 and words.size == 4096
    settled = {(r.start, r.end) for r in kernel.settled.values()}
    pages = {page for start, end in settled for page in range(start & ~0xFFF, end, 4096)}
    neighbours = {s.name for s in kernel.elf.symbols if s.size and s.value & ~0xFFF in pages
                  and (s.value, s.value + s.size) not in settled}
    assert len(settled) == 3 and not neighbours, "a write watchpoint would slow every write to these"
    assert kernel.start_stop == kernel.elf.symbol("harness_start_test").value + 10
    assert kernel.hook_stop == kernel.elf.symbol("harness_call_hook").value + 13
    assert kernel.pass_stop == kernel.pass_point + 7
    with pytest.raises(KernelMapError, match="not the stop grader/kernelmap.py expects"):
        stop_after(kernel.elf, kernel.pass_point, PASS_CODE, kernel.stop_words + STOP_START)  # another word


# ---- The outside identity-map check -----------------------------------------

class FakeMemory:
    """Physical memory of a made-up guest: an identity map of `end` bytes
    in a directory at `cr3`, tables right after it."""

    def __init__(self, cr3: int, end: int, ram_end_at: int) -> None:
        self.pages: dict[int, bytearray] = {}
        self.cr3 = cr3
        for addr in range(0, end, 4096):
            pd, pt = addr >> 22, (addr >> 12) & 0x3FF
            table = cr3 + 4096 * (pd + 1)
            self.put(cr3 + 4 * pd, table | 0x3)
            self.put(table + 4 * pt, addr | 0x3 if addr else 0)
        self.put(ram_end_at, end)

    def put(self, addr: int, value: int) -> None:
        self.pages.setdefault(addr & ~0xFFF, bytearray(4096))[addr & 0xFFF:(addr & 0xFFF) + 4] = \
            value.to_bytes(4, "little")

    def read(self, addr: int, size: int) -> bytes:
        return b"".join(bytes(self.pages.get(a, bytearray(4096))) for a in range(addr, addr + size, 4096)) \
            if addr % 4096 == 0 and size % 4096 == 0 else \
            bytes(self.pages.get(addr & ~0xFFF, bytearray(4096))[addr & 0xFFF:(addr & 0xFFF) + size])

    def words(self, addr: int, count: int) -> list[int]:
        data = self.read(addr, 4 * count)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


@pytest.mark.parametrize("mem", [32, 100, 1024])
def test_identity_check_reads_every_page(reference_kernel, mem):
    kernel = KernelMap.load(reference_kernel)
    ram_end = kernel.elf.symbol("ram_end", "pmm.c").value
    memory = FakeMemory(0x200000, mem * MIB, ram_end)
    halted = Halted({"cr0": 0x80000011, "cr3": memory.cr3}, memory.cr3, memory, kernel)
    inspect = identity_map_problems(mem)
    assert inspect(halted) == []
    last = mem * MIB - 4096
    memory.put(memory.cr3 + 4096 * ((last >> 22) + 1) + 4 * ((last >> 12) & 0x3FF), 0)  # one page: the last
    pde = memory.words(memory.cr3 + 4 * (last >> 22), 1)[0]
    assert inspect(halted) == [f"page {last:#010x} does not map to itself (pde {pde:#010x}, pte 0x00000000)"]


def test_identity_check_needs_the_directory_the_test_started_with(reference_kernel):
    kernel = KernelMap.load(reference_kernel)
    memory = FakeMemory(0x200000, 32 * MIB, kernel.elf.symbol("ram_end", "pmm.c").value)
    throwaway = Halted({"cr0": 0x80000011, "cr3": memory.cr3}, 0x300000, memory, kernel)
    assert identity_map_problems(32)(throwaway) == ["CR3 changed while the test ran: 0x00300000 when it started, "
                                                    "0x00200000 at the pass"]


# ---- Reading guest memory at a stop ------------------------------------------

def test_reads_come_straight_from_qemus_memory(reference_kernel):
    seen = {}

    def inspect(halted: Halted) -> list[str]:
        seen["direct"] = halted.memory.direct
        for way in ("host", "gdb"):
            seen[way] = halted.memory.read(0x100000, 64 << 10, through=way)
        return []

    result = qemu.run(qemu.RunRequest(reference_kernel, "selftest_pass", {}, mem_mb=32, timeout=10, inspect=inspect))
    assert result.outcome is Outcome.PASS, result.message
    assert seen["direct"], "QEMU's memory is readable here: reads skip the gdbstub"
    assert seen["host"] == seen["gdb"] and seen["host"][:12] == KernelMap.load(reference_kernel).elf.bytes_at(
        0x100000, 12)


class FakeGdb:
    """The gdbstub's physical reads: each byte is its address's low byte."""

    def read(self, addr: int, size: int, physical: bool = False) -> bytes:
        assert physical
        return bytes((addr + i) & 0xFF for i in range(size))


@pytest.mark.parametrize("pid, ram", [(0, 32 * MIB), (os.getpid(), 12345)], ids=["unreadable", "no such mapping"])
def test_reads_go_through_the_gdbstub_when_qemus_memory_is_out_of_reach(pid, ram):
    memory = Memory(FakeGdb(), pid, ram)
    assert not memory.direct
    assert memory.read(0x100000, 64 << 10) == FakeGdb().read(0x100000, 64 << 10, physical=True)
    with pytest.raises(OSError, match="cannot be read"):
        memory.read(0x100000, 64 << 10, through="host")


# ---- Flags on the kit's own code: none ---------------------------------------

@pytest.mark.parametrize("test", ["translate", "heap_free", "clone_deep_copy", "fork_memory", "wait_killed"])
def test_the_reference_raises_no_flag(reference_kernel, test):
    result = qemu.run(replay.captured_request(reference_kernel, test, seed=3))
    assert result.outcome is Outcome.PASS, result.message
    assert result.flags == ()


def test_a_panic_reads_the_symbol_table_unflagged(boot_reference):
    result = boot_reference("selftest_panic")
    assert any("selftest_panic+0x" in line for line in result.lines), "the backtrace read the symbol table"
    assert result.outcome is Outcome.PANIC and result.flags == ()


# ---- A QEMU that ends at any moment is a verdict ----------------------------

def test_qemu_exiting_while_the_grader_writes_input_is_a_verdict(reference_kernel):
    dead = subprocess.Popen(["true"], stdin=subprocess.PIPE, bufsize=0)
    dead.wait()
    with pytest.raises(BrokenPipeError):  # what a write to an exited QEMU does
        os.write(dead.stdin.fileno(), b"ls\n")
    boot = qemu._Boot(qemu.RunRequest(Path("kernel.elf"), None, script=(("prompt", b"ls\n"),)))
    assert boot._feed_script("a prompt", dead), "the input was sent, to a QEMU that is gone"
    dead.stdin.close()
    # The harness exits right after the line the script answers.
    request = qemu.RunRequest(reference_kernel, "selftest_fail", {}, mem_mb=32, timeout=10,
                              script=((r"end selftest_fail FAIL", b"too late\n"),))
    for _ in range(5):
        result = qemu.run(request)
        assert result.outcome is Outcome.FAIL, result.message


def test_qemu_killed_while_stopped_at_the_pass_is_a_verdict(reference_kernel, tmp_path):
    kernel = tmp_path / "only-this-boot.elf"
    shutil.copy(reference_kernel, kernel)

    def kill_qemu(halted: Halted) -> list[str]:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if str(kernel).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(int(pid), signal.SIGKILL)
                    while state(int(pid)) != "Z":
                        time.sleep(0.001)  # until it is gone (a zombie: the grader has not reaped it)
            except OSError:
                continue
        halted.memory.read(0x100000, 64 << 10)  # from a QEMU that is gone
        return []

    result = qemu.run(qemu.RunRequest(kernel, "selftest_pass", {}, mem_mb=32, timeout=10, inspect=kill_qemu))
    assert result.outcome is Outcome.QEMU_ERROR, result.message
    assert "lost the gdbstub while the guest was stopped" in result.message


def test_qemu_that_cannot_start_is_a_verdict(reference_kernel):
    result = qemu.run(qemu.RunRequest(reference_kernel, "selftest_pass", {}, mem_mb=8 << 20, timeout=10))
    assert result.outcome is Outcome.QEMU_ERROR and "QEMU exited with status 1" in result.message, result.message
