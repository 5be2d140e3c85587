"""User-mode infrastructure (processes, system calls, exec, the shell),
booted for real on the reference kernel. The kernel side of each test is in
kernel/selftest/; its trusted checks decide the pass, and these tests also
read the lines that show the behaviour."""
from __future__ import annotations

import pytest

from grader import qemu
from grader.qemu import Outcome


def passes(boot_reference, test: str, mem: int = 32, **params: str) -> list[str]:
    result = boot_reference(test, mem=mem, timeout=20, **params)
    assert result.outcome is Outcome.PASS, f"{result.message}\n" + "\n".join(result.lines[-20:])
    return list(result.lines)


def test_user_program_runs_prints_and_ends(boot_reference):
    lines = passes(boot_reference, "user_hello", code="37")
    assert "t_hello: hello from pid 1, argc 2, code 37" in lines
    assert any(line.startswith("[test] user_hello: pid 1 ran and ended with code 37") for line in lines)


def test_bad_pointers_get_errors_not_crashes(boot_reference):
    lines = passes(boot_reference, "user_bad_pointers")
    assert sum(line.startswith("t_badptr: ") and line.endswith(" ok") for line in lines) >= 10
    assert "t_badptr: the kernel is still fine" in lines


def test_waitpid_with_bad_status_pointers(boot_reference):
    passes(boot_reference, "user_waitpid_bad_status")


@pytest.mark.parametrize("fault", ["null", "write", "kernel", "ill", "div", "stack"])
def test_faulting_program_is_killed_while_another_finishes(boot_reference, fault):
    lines = passes(boot_reference, "user_fault", fault=fault)
    assert any(line.startswith("[kernel] pid 1 (crash) killed:") for line in lines)


def test_concurrent_writers_never_tear_lines(boot_reference):
    lines = passes(boot_reference, "user_lines", mem=64, lines="150", every="4")
    writers = [line for line in lines if line.startswith("t_lines ")]
    assert len(writers) >= 300 and all(line.count("t_lines") == 1 for line in writers)


def test_blocked_processes_use_no_cpu(boot_reference):
    lines = passes(boot_reference, "user_blocking", ticks="20")
    assert any("blocked processes were never dispatched" in line for line in lines)


def test_exec_of_unknown_program_fails_cleanly(boot_reference):
    lines = passes(boot_reference, "user_exec")
    assert "t_exec: pid 1 still here; now exec t_hello" in lines


def test_sbrk_grows_shrinks_and_refuses(boot_reference):
    passes(boot_reference, "user_sbrk")


def test_shell_runs_hello_over_serial(reference_kernel, tmp_path):
    script = ((r"^\$ ", b"hello\n"), (r"hello, world", b"shutdown\n"))
    result = qemu.run(qemu.RunRequest(reference_kernel, None, {}, mem_mb=32, timeout=20, script=script,
                                      log_path=tmp_path / "shell.log"))
    assert result.outcome is Outcome.SHUTDOWN, result.message + "\n".join(result.lines)
    assert any(line.startswith("hello, world from pid") for line in result.lines)
