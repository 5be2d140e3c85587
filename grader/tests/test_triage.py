"""Crash triage on recorded logs: QEMU's exception log of a triple fault
and the kernel's own panic report."""
from __future__ import annotations

from pathlib import Path

from grader import triage

DATA = Path(__file__).parent / "data"


def test_triple_fault_log_names_the_first_real_fault():
    fault = triage.fault_from_qemu_log((DATA / "triple-fault-gpf.int.log").read_text())
    assert fault is not None
    assert fault.vector == 13  # the #GP that the empty IDT turned into a double fault
    assert fault.name == "general protection fault"
    assert fault.eip == 0x001024BF


def test_panic_report_is_parsed():
    lines = [
        "[harness] begin selftest_page_fault seed=1",
        "",
        "PANIC: unhandled page fault (vector 14) at EIP 0x001023fc (selftest_page_fault+0x6)",
        "  page fault at CR2=0xe0000000: write to a non-present page in kernel mode (error code 0x2)",
    ]
    fault = triage.fault_from_panic(lines)
    assert fault == triage.Fault(14, 0x001023FC, 0xE0000000, 2, "write to a non-present page in kernel mode")


def test_page_fault_error_codes_decode_like_the_kernel():
    assert triage.decode_page_fault(0x2) == "write to a non-present page in kernel mode"
    assert triage.decode_page_fault(0x7) == "write to a present page (protection violation) in user mode"
    assert triage.decode_page_fault(0x10) == "instruction fetch from a non-present page in kernel mode"


def test_hints():
    fetch = triage.Fault(14, 0x00101234, 0x00101234, 0x10, "")
    assert "identity map does not cover" in triage.hint(fetch, "init_paging at kernel/paging.c:40")
    null = triage.Fault(14, 0x00101000, 0x8, 0x0, "")
    assert "NULL" in triage.hint(null, "f")
    gap = triage.Fault(6, 0x00101000, None, None, "")
    assert "paging_map_page" in triage.hint(gap, "paging_map_page at kernel/paging.c:9")


def test_last_lines_skips_blank_lines():
    text = triage.last_lines(["a", "", "b"], count=5)
    assert text.splitlines()[1:] == ["  | a", "  | b"]
