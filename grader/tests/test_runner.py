"""The QEMU runner against real boots of the kernel's harness self-tests
(kernel/selftest/harness.c): every way a boot can end gets its own verdict,
in bounded time."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader import protocol, qemu
from grader.kernelmap import KernelMap
from grader.qemu import Outcome


def test_a_pass_is_seen_by_the_grader_then_printed(boot_reference):
    result = boot_reference("selftest_pass")
    assert result.outcome is Outcome.PASS, result.message
    assert result.exit_code == protocol.EXIT_PASS
    markers = protocol.end_markers(list(result.lines), "selftest_pass")
    assert len(markers) == 1 and markers[0].passed, "the harness prints its marker after the grader's stop"
    assert result.flags == (), "the kit's own code raises no review flag"


def test_failed_check_is_a_fail_with_its_message(boot_reference):
    result = boot_reference("selftest_fail")
    assert result.outcome is Outcome.FAIL
    assert "this check fails on purpose" in result.message


def test_panic_names_the_reason_and_backtrace(boot_reference):
    result = boot_reference("selftest_panic")
    assert result.outcome is Outcome.PANIC
    assert result.message == "deliberate panic from selftest_panic"
    assert any("selftest_panic+0x" in line for line in result.lines), "backtrace names the function"


def test_kernel_page_fault_is_decoded(boot_reference):
    result = boot_reference("selftest_page_fault")
    assert result.outcome is Outcome.PANIC
    text = "\n".join(result.lines)
    assert "CR2=0xe0000000" in text and "write to a non-present page in kernel mode" in text


def test_triple_fault_is_not_success(boot_reference):
    result = boot_reference("selftest_triple_fault")
    assert result.exit_code == protocol.EXIT_TRIPLE_FAULT == 0
    assert result.outcome is Outcome.TRIPLE_FAULT


def test_hang_ends_at_the_timeout_with_the_last_line(boot_reference):
    start = time.monotonic()
    result = boot_reference("selftest_hang", timeout=1.5)
    assert time.monotonic() - start < 4
    assert result.outcome is Outcome.TIMEOUT
    assert "no progress" in result.message and "begin selftest_hang" in result.message


def test_flood_is_stopped(boot_reference):
    result = boot_reference("selftest_flood", timeout=20)
    assert result.outcome is Outcome.FLOOD, result.message
    assert "serial output passed" in result.message, "stopped at the output cap, not at the timeout"


def test_short_flood_passes(boot_reference):
    result = boot_reference("selftest_flood", lines="50")
    assert result.outcome is Outcome.PASS
    assert sum("flood line" in line for line in result.lines) == 50


@pytest.mark.parametrize("cmdline, message", [
    ({"foo": "1"}, "unknown parameter 'foo' (test selftest_pass takes: none)"),
    ({"lines": "x1"}, None),
])
def test_unknown_parameter_fails_the_test(boot_reference, cmdline, message):
    result = boot_reference("selftest_pass", **cmdline)
    assert result.outcome is Outcome.FAIL
    if message:
        assert message in result.message


def test_malformed_tokens_get_a_message(reference_kernel, tmp_path):
    result = qemu.run(qemu.RunRequest(reference_kernel, "selftest_pass", {"x": "1"}, mem_mb=32, timeout=10))
    assert result.outcome is Outcome.FAIL
    raw = qemu.RunRequest(reference_kernel, None, {}, mem_mb=32, timeout=10)
    argv = raw.argv()
    argv[argv.index("-append") + 1] = "junk test=selftest_pass =5 Bad=1"
    import subprocess
    out = subprocess.run(argv, capture_output=True, timeout=20).stdout.decode()
    assert "malformed parameter 'junk'" in out
    assert "malformed parameter '=5'" in out
    assert "malformed parameter 'Bad=1'" in out


def test_unknown_test_lists_the_tests(boot_reference):
    result = boot_reference("no_such_test")
    assert result.outcome is not Outcome.PASS
    assert any("no test named 'no_such_test'" in line for line in result.lines)
    assert any("selftest_pass" in line for line in result.lines)


def test_decode_lines_survives_bad_bytes():
    lines = qemu.decode_lines(b"ok\r\nbad \xff\xfe bytes\r\nbell\x07 esc\x1b[31m\n")
    assert lines == ["ok", "bad \ufffd\ufffd bytes", "bell\ufffd esc\ufffd[31m"]


def test_grub_iso_boots_the_harness(tmp_path):
    """GRUB (BIOS, from an ISO) boots the kernel and passes the command line;
    GRUB itself stays off the serial port, and the grader sees the pass."""
    from .conftest import make

    make("SOLUTION=1", f"OUT={tmp_path}", "elf")
    request = qemu.RunRequest(tmp_path / "kernel.elf", "selftest_pass", {}, mem_mb=64, timeout=30,
                              iso=tmp_path / "kernel.iso")
    make("SOLUTION=1", f"OUT={tmp_path}", f"KERNEL_ARGS={request.cmdline()}", "iso")
    result = qemu.run(request)
    assert result.outcome is Outcome.PASS, result.message
    assert result.lines[0].startswith("[harness] begin selftest_pass"), "nothing before the kernel's own output"
    assert result.flags == ()


def test_command_line_holds_nothing_secret():
    """The guest can read its command line back (QEMU's fw_cfg device): it
    holds the test and its parameters, which the log shows anyway."""
    request = qemu.RunRequest(Path("kernel.elf"), "remap", {"seed": "7", "vaddr": "0xc0001000"})
    assert request.cmdline() == "test=remap seed=7 vaddr=0xc0001000"


def test_inspector_runs_on_the_guest_stopped_at_the_pass(reference_kernel):
    seen = []

    def inspect(halted):
        seen.append((halted.registers["eip"], halted.memory.read(0x100000, 12)))
        return ["a problem found from outside"] if len(seen) > 1 else []

    request = qemu.RunRequest(reference_kernel, "selftest_pass", {}, mem_mb=32, timeout=10, inspect=inspect)
    result = qemu.run(request)
    assert result.outcome is Outcome.PASS and "checked from outside" in result.message, result.message
    kernel = KernelMap.load(reference_kernel)
    assert seen[0] == (kernel.pass_stop, kernel.elf.bytes_at(0x100000, 12)), "stopped in harness_pass, memory read"
    result = qemu.run(request)
    assert result.outcome is Outcome.FAIL and result.message == "checked from outside the guest: a problem found " \
        "from outside"
    assert not protocol.end_markers(list(result.lines), "selftest_pass"), "stopped before the marker was printed"


def test_a_marker_or_exit_status_the_grader_did_not_see_is_forged():
    request = qemu.RunRequest(Path("kernel.elf"), "remap", {})
    marker = "[harness] end remap PASS checks=3"
    outcome, _ = qemu.classify_exit(protocol.EXIT_PASS, ["remap: ok", marker], request, "", passed=True)
    assert outcome is Outcome.PASS
    outcome, message = qemu.classify_exit(protocol.EXIT_PASS, ["remap: ok", marker], request, "", passed=False)
    assert outcome is Outcome.FORGED and "log line 2" in message
    outcome, message = qemu.classify_exit(protocol.EXIT_PASS, ["remap: ok"], request, "", passed=False)
    assert outcome is Outcome.FORGED and "never saw" in message
    outcome, _ = qemu.classify_exit(protocol.EXIT_FAIL, [marker], request, "", passed=False)
    assert outcome is Outcome.FORGED, "a pass marker is forged whatever the exit status"


def test_a_fail_message_is_the_one_before_the_harness_marker():
    request = qemu.RunRequest(Path("kernel.elf"), "remap", {})
    lines = ["[harness] FAIL: printed by gap code", "[harness] FAIL: the real reason", "[harness] end remap FAIL"]
    assert qemu.classify_exit(protocol.EXIT_FAIL, lines, request, "") == (Outcome.FAIL, "the real reason")
