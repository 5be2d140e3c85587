"""GDB against the real kernel: the top-level .gdbinit and the helpers of
tools/gdb/kestrel/ (pagedir, vtop, fault, procs, usersyms, pbreak), run by
a real GDB in batch mode, attached to a real QEMU paused with a gdbstub,
the way `make qemu-gdb` and `make gdb` start them.

Each session picks a free TCP port, gives it to .gdbinit through
KESTREL_GDBPORT, and kills QEMU (its whole process group) when it ends,
whatever happened. Every step has a timeout."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from grader import qemu
from grader.build import ROOT

from .submissions import make_submission

GDB_TIMEOUT = 60  # seconds for one whole GDB session
CORPUS = tomllib.loads((Path(__file__).parent / "corpus.toml").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gdb_argv(kernel: Path, commands: list[str], init: tuple[str, ...] = ()) -> list[str]:
    """`make gdb`'s command (gdb -q -n -x .gdbinit KERNEL), in batch mode,
    with `commands` after .gdbinit."""
    argv = ["gdb", "-q", "-n", "-batch", *init, "-x", ".gdbinit"]
    for command in commands:
        argv += ["-ex", command]
    return argv + [str(kernel)]


@dataclass(frozen=True)
class Session:
    out: str  # what GDB printed
    serial: str  # what the kernel printed


def stop(proc: subprocess.Popen) -> None:
    """Kills QEMU, and whatever started it (make, the grader), for good."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stderr):
        if stream:
            stream.close()


def debug(launcher: Callable[[int], list[str]], kernel: Path, commands: list[str], tmp_path: Path,
          serial_input: bytes = b"") -> Session:
    """Starts `launcher(port)` (QEMU paused with a gdbstub on port), runs
    GDB with .gdbinit and `commands` against it, then `kill` (QEMU ends),
    and kills QEMU's process group in any case."""
    for attempt in range(3):
        port = free_port()
        serial = tmp_path / f"serial-{attempt}.log"
        with open(serial, "wb") as out:
            proc = subprocess.Popen(launcher(port), cwd=ROOT, stdin=subprocess.PIPE, stdout=out,
                                    stderr=subprocess.PIPE, start_new_session=True,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1"))
        try:
            if serial_input:
                assert proc.stdin
                proc.stdin.write(serial_input)
                proc.stdin.flush()
            env = dict(os.environ, KESTREL_GDBPORT=str(port))
            try:
                run = subprocess.run(gdb_argv(kernel, [*commands, "kill"]), cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                                     timeout=GDB_TIMEOUT)
            except subprocess.TimeoutExpired as e:
                said = (e.stdout or b"").decode(errors="replace")[-3000:]
                pytest.fail(f"GDB still ran after {GDB_TIMEOUT} s; it printed:\n{said}\n"
                            f"serial:\n{serial.read_text(errors='replace')[-1500:]}")
        finally:
            stop(proc)
        qemu_errors = proc.stderr.read().decode(errors="replace") if proc.stderr and not proc.stderr.closed else ""
        if "Address already in use" in qemu_errors:
            continue  # another test took the port between free_port() and QEMU
        return Session(run.stdout + run.stderr, serial.read_text(errors="replace"))
    pytest.fail("no free TCP port for QEMU's gdbstub in 3 attempts")


def paused(kernel: Path, test: str | None, mem_mb: int = 64, **params: str) -> Callable[[int], list[str]]:
    """QEMU as the grader boots `test` (grader/qemu.py), paused, with a
    gdbstub. Its clock counts instructions (-icount): where the timer
    preempts, and so which process a breakpoint meets first, is the same
    on a loaded machine as on an idle one."""
    request = qemu.RunRequest(kernel, test, dict(params), mem_mb=mem_mb, icount=True)
    return lambda port: request.argv() + ["-S", "-gdb", f"tcp::{port}"]


def line_of(path: str, text: str) -> int:
    """The number of the line of `path` (from the repository) holding `text`."""
    lines = (ROOT / path).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def section(out: str, start: str, end: str) -> str:
    """The part of GDB's output from the line starting with `start` up to
    the next one starting with `end`."""
    m = re.search(rf"^{re.escape(start)}.*?(?=^{re.escape(end)}|\Z)", out, re.M | re.S)
    assert m, f"no {start!r} in GDB's output:\n{out}"
    return m.group(0)


def vtop_outputs(out: str) -> list[str]:
    """Each vtop's output, in order: its first line and the indented ones."""
    return re.findall(r"^0x[0-9a-f]{8} in directory .*\n(?:  .*\n?)*", out, re.M)


def test_make_gdb_port_and_help_without_qemu(tmp_path):
    """make gdb's command and port; the helpers' help; .gdbinit when no
    QEMU listens (it says how to start one, and GDB goes on)."""
    port = os.getuid() % 5000 + 25000
    dry = subprocess.run(["make", "-s", "-n", "gdb"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert f"KESTREL_GDBPORT={port} gdb -q -n -x .gdbinit build/student/kernel.elf" in dry.stdout

    helpers = ("pagedir", "vtop", "fault", "procs", "usersyms", "pbreak")
    env = {k: v for k, v in os.environ.items() if k != "KESTREL_GDBPORT"}
    run = subprocess.run(["gdb", "-q", "-n", "-batch",
                          "-ex", 'python import sys; sys.path.insert(0, "tools/gdb"); import kestrel',
                          "-ex", "python print('port', kestrel.gdb_port())",
                          *[x for h in helpers for x in ("-ex", f"help {h}")], "-ex", "help kestrel",
                          "-ex", "usersyms nosuchprogram"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=GDB_TIMEOUT)
    out = run.stdout + run.stderr
    assert f"port {port}" in out
    for h in helpers:
        assert re.search(rf"^Usage: {h}\b", out, re.M), f"help {h} has no usage line:\n{out}"
    assert "hbreak" in out and "KVM" in out, "help kestrel says where hardware breakpoints are needed"
    assert "no program nosuchprogram" in out and "hello" in out, "usersyms lists the programs"

    free = free_port()
    run = subprocess.run(gdb_argv(ROOT / "build" / "solution" / "kernel.elf", ["python print('went on')"],
                                  ("-iex", "set tcp auto-retry off")),
                         cwd=ROOT, env=dict(os.environ, KESTREL_GDBPORT=str(free)), capture_output=True,
                         text=True, timeout=GDB_TIMEOUT)
    out = run.stdout + run.stderr
    assert f"cannot reach QEMU on localhost:{free}" in out and "make qemu-gdb" in out, out
    assert "went on" in out and "Traceback" not in out, out


def test_break_at_init_paging_then_page_tables(reference_kernel, tmp_path):
    """bt at init_paging; then, with the heap in use (lab 2's heap_alloc),
    pagedir shows the identity map and the heap in a few lines, and vtop
    finds the frames QEMU's own page walk finds, or says where it stops."""
    session = debug(paused(reference_kernel, "heap_alloc", pages="5"), reference_kernel, [
        "break init_paging", "continue", "bt",
        "break check_patterns", "continue",
        "p/x 'pmm.c'::ram_end", "pagedir",
        "vtop kmain", "python gdb.execute('monitor gva2gpa 0x%x' % int(gdb.parse_and_eval('(unsigned)&kmain')))",
        "vtop 0xd0000000", "monitor gva2gpa 0xd0000000", "p/x *(unsigned *)0xd0000000",
        "python import re, kestrel.target as t\n"
        "frame = int(re.search(r'-> frame (0x[0-9a-f]+)', gdb.execute('vtop 0xd0000000', to_string=True))[1], 16)\n"
        "with t.physical_memory() as mem: print('frame holds 0x%08x' % mem.word(frame))",
        "vtop 0xf0000000", "vtop 0",
    ], tmp_path)
    out = session.out
    assert re.search(r"^#0  init_paging \(\) at .*paging\.c:\d+\n#1  0x[0-9a-f]+ in vm_boot \(\) at kernel/vm\.c:\d+\n"
                     r"#2  0x[0-9a-f]+ in kmain \(", out, re.M), out

    ram_end = int(re.search(r"^\$1 = (0x[0-9a-f]+)", out, re.M)[1], 16)
    pages = section(out, "Mapped pages:", "0x")  # up to the first vtop
    runs = [line for line in pages.splitlines()[2:] if line.strip()]
    assert len(runs) <= 3, f"the identity map and the heap take more than a few lines:\n{pages}"
    assert re.search(rf"0x00001000-0x{ram_end - 1:08x}\s+\d+\s+identity\s+kernel RW\s+identity map", pages), pages
    assert re.search(r"0xd0000000-0xd0004fff\s+5\s+frames? .*kernel RW\s+kernel heap", pages), pages
    entries = section(out, "Directory entries", "Mapped pages")
    assert re.search(r"PDE 832-959 .* 128 tables", entries), entries

    kmain, heap, unmapped, page0 = vtop_outputs(out)
    gpas = [int(g, 16) for g in re.findall(r"^gpa: (0x[0-9a-f]+)", out, re.M)]  # QEMU's own page walk
    assert re.search(rf"=> physical 0x{gpas[0]:08x} \(.*: kernel RW, identity-mapped, identity map", kmain), kmain
    assert f"-> frame 0x{gpas[1] & ~0xFFF:08x}" in heap and "not identity-mapped, kernel heap" in heap, heap
    seen = int(re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)[1], 16)  # what the CPU reads at 0xd0000000
    assert f"frame holds 0x{seen:08x}" in out, out

    assert unmapped.startswith("0xf0000000") and "1. directory entry 960" in unmapped, unmapped
    assert "translation stops at the directory entry" in unmapped and "Nothing is ever mapped" in unmapped, unmapped
    assert page0.startswith("0x00000000") and "2. table entry 0" in page0, page0
    assert "translation stops at the table entry" in page0 and "Page 0 is unmapped on purpose" in page0, page0


def test_fault_stop_names_cr2_error_code_and_line(reference_kernel, tmp_path):
    """A kernel page fault stops GDB before the panic ends QEMU; the stop,
    `fault`, `bt` and `list` show the faulting line."""
    line = line_of("kernel/selftest/harness.c", "*(volatile uint32_t *)0xE0000000 = 1;")
    session = debug(paused(reference_kernel, "selftest_page_fault"), reference_kernel,
                    ["continue", "fault", "bt", "list"], tmp_path)
    out = session.out
    expected = "page fault at CR2=0xe0000000: write to a non-present page in kernel mode (error code 0x2)"
    assert out.count(expected) == 2, f"the stop and `fault` both decode the fault:\n{out}"
    assert out.count(f"in selftest_page_fault at kernel/selftest/harness.c:{line}") == 2, out
    assert "`vtop 0xe0000000`" in out
    assert re.search(rf"^#\d+  0x[0-9a-f]+ in selftest_page_fault \(\) at kernel/selftest/harness.c:{line}$", out,
                     re.M), f"bt goes through the trap frame to the faulting line:\n{out}"
    assert re.search(r"^#\d+  0x[0-9a-f]+ in kmain \(", out, re.M), out
    assert re.search(rf"^{line}\t    \*\(volatile uint32_t \*\)0xE0000000 = 1;$", out, re.M), \
        f"`list` shows the faulting line:\n{out}"
    assert "PANIC" not in session.serial, "GDB stopped before the kernel's panic report"


# A row of `procs`: current mark, pid, state, parent, name, directory, EIP.
PROCS_ROW = re.compile(r"^([ *])\s+(\d+)\s+(\S+(?: \(\w+\))?)\s+(\S+)\s+(\S+)\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}", re.M)


def test_processes_usersyms_and_pbreak(reference_kernel, tmp_path):
    """The normal boot, with `sleep 300` typed at the shell: a breakpoint
    in init's code stops in pid 1 first, pbreak 2 stops in the child;
    procs shows init, the shell and the sleeping child."""
    line = line_of("user/init.c", "if (pid == 0)")
    current = "p 'sched.c'::current->pid"
    session = debug(paused(reference_kernel, None), reference_kernel, [
        "usersyms init",
        f"break init.c:{line}", "continue", current, "delete",
        f"pbreak 2 init.c:{line}", "info breakpoints", "continue", current, "p pid", "delete",
        "break sched_sleep", "continue", "procs",
        "usersyms hello", "info line main",
    ], tmp_path, serial_input=b"sleep 300\n")
    out = session.out
    assert "Symbols of init loaded from build/trusted/user/init.elf" in out, out
    values = re.findall(r"^\$\d+ = (-?\d+)", out, re.M)
    assert values[:3] == ["1", "2", "0"], \
        f"break stops in pid 1 first; pbreak 2 in pid 2, where fork returned 0:\n{out}"
    assert "stop only if 'sched.c'::current != 0 && 'sched.c'::current->pid == 2" in out, out

    table = section(out, "   PID  STATE", "Symbols of hello")
    rows = {int(m[2]): (m[1], m[3], m[4], m[5]) for m in PROCS_ROW.finditer(table)}
    waiting = ("blocked (waitpid)", "ready")  # ready: preempted on its way to waitpid
    assert rows.get(1, ())[::2] == (" ", "-") and rows[1][1] in waiting and rows[1][3] == "init", table
    assert rows.get(2, ())[::2] == (" ", "1") and rows[2][1] in waiting and rows[2][3] == "sh", table
    assert rows.get(3) == ("*", "running", "2", "sleep"), table
    assert "[in the kernel: system call]" in table, table

    assert "Symbols of hello loaded from build/trusted/user/hello.elf" in out
    assert re.search(r'^Line \d+ of "user/hello\.c"', out, re.M), out


def test_failing_grader_test_to_the_faulting_line(reference_kernel, tmp_path):
    """The newcomer's path: a submission that crashes in `translate`; the
    failure report's `make qemu-gdb TEST=translate SEED=n`, then GDB with
    .gdbinit, `continue`: the stop names the faulting line of the gap file."""
    spec = CORPUS["null_dereference"]
    src = make_submission("null_dereference", spec, tmp_path / "src")
    out_dir = tmp_path / "obj"
    dirs = [f"GAP_DIR={src}", f"OUT={out_dir}"]
    subprocess.run(["make", "-s", "kernel", *dirs], cwd=ROOT, check=True, capture_output=True, timeout=300)
    kernel = out_dir / "kernel.elf"
    bad_line = next(i for i, text in enumerate((src / "paging.c").read_text().splitlines(), 1)
                    if "return *(volatile uint32_t *)8;" in text)

    def make_qemu_gdb(port: int) -> list[str]:
        return ["make", "-s", "qemu-gdb", "TEST=translate", "SEED=4242", f"GDBPORT={port}", *dirs]

    session = debug(make_qemu_gdb, kernel, ["continue", "bt", "list"], tmp_path)
    out = session.out
    assert "page fault at CR2=0x00000008: read from a non-present page in kernel mode" in out, out
    assert f"in paging_get_physical at {src}/paging.c:{bad_line}" in out, out
    assert re.search(rf"^    {bad_line}\t.*return \*\(volatile uint32_t \*\)8;", out, re.M), out
    assert re.search(r"^#\d+  0x[0-9a-f]+ in translate \(\) at labs/01-identity-map/checks\.c:\d+", out, re.M), out
    assert "*** test translate, seed 4242" in session.serial, "make qemu-gdb replayed the grader's test"
