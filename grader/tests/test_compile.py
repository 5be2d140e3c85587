"""Compiling gap files (grader/compile.py, confine.py, screen.py): the
limits hold and leave no process behind, the screens accept the C a
correct solution may contain and refuse the rest."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from grader import build, confine, diagnostics, sandbox, screen
from grader import compile as compile_module
from grader.compile import BuildError, GapCompiler
from grader.sandbox import Sandbox

from .procs import processes_mentioning

ROOT = build.ROOT
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def compiler(tmp_path_factory) -> GapCompiler:
    return GapCompiler.here(ROOT, tuple(sorted(build.ALLOWED_INCLUDES)), tmp_path_factory.mktemp("probe"))


def unsandboxed(compiler: GapCompiler, **limits) -> GapCompiler:
    return dataclasses.replace(compiler, sandbox=Sandbox(None, "test"),
                               limits=dataclasses.replace(compiler.limits, **limits))


def gap_with(tmp_path: Path, line: str) -> Path:
    """The reference paging.c with `line` after its includes."""
    text = (ROOT / "solutions" / "paging.c").read_text().replace('#include "pmm.h"', '#include "pmm.h"\n' + line, 1)
    (tmp_path / "gap").mkdir()
    (tmp_path / "gap" / "paging.c").write_text(text)
    return tmp_path / "gap" / "paging.c"


def test_a_fifo_include_is_stopped_in_time_and_every_process_with_it(compiler, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    source = gap_with(tmp_path, f'#inc\\\nlude "{fifo}"')
    folder = tmp_path / "private"
    errors: list[str] = []

    def compile_it() -> None:
        try:
            unsandboxed(compiler, wall_seconds=5).compile({"paging.c": source}, folder)
        except BuildError as e:
            errors.append(str(e))

    worker = threading.Thread(target=compile_it)
    worker.start()
    writer = None
    while worker.is_alive() and writer is None:
        try:  # succeeds once the compiler has opened the pipe to read it
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.01)
    blocked = processes_mentioning(str(folder))  # holding the write end, the compiler waits for data
    worker.join()
    if writer is not None:
        os.close(writer)
    assert writer is not None and any("cc1" in c for c in blocked), "the compiler never opened the pipe"
    assert errors and "took more than 5 s: stopped, with every process it started" in errors[0], errors
    assert not processes_mentioning(str(folder)), "the compiler's processes outlived the limit"


def test_the_cpu_limit_stops_a_busy_tool(tmp_path):
    done = confine.run(["sh", "-c", "while :; do :; done"], tmp_path, {"PATH": "/usr/bin:/bin"},
                       confine.Limits(cpu_seconds=1, wall_seconds=60), tmp_path / "busy")
    assert not done.timed_out and done.returncode in (-signal.SIGXCPU, -signal.SIGKILL), done


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    marker = f"{300 + secrets.randbelow(1000)}.{secrets.randbelow(10**6)}"
    script = f"sleep {marker} & sleep {marker} & touch started; wait"
    done = confine.run(["sh", "-c", script], tmp_path, {"PATH": "/usr/bin:/bin"}, confine.Limits(wall_seconds=3),
                       tmp_path / "sleepy")
    assert done.timed_out and (tmp_path / "started").exists(), "the children never started"
    assert not [c for c in processes_mentioning(marker) if c.startswith("sleep")]


def test_a_plain_build_shows_a_host_file_that_the_grader_never_shows(compiler, tmp_path):
    secret = f"CANARY-{secrets.token_hex(8)}"
    canary = tmp_path / "canary.h"
    canary.write_text(f"#error {secret}\n")
    source = gap_with(tmp_path, f'#inc\\\nlude "{canary}"')
    # The attack is real: the kit's own compile rule prints the line.
    plain = subprocess.run(["make", "-s", f"OUT={tmp_path / 'plain'}", f"GAP_DIR={source.parent}",
                            f"{tmp_path / 'plain'}/paging.o"], cwd=ROOT, capture_output=True, text=True)
    assert plain.returncode != 0 and secret in plain.stderr
    with pytest.raises(BuildError) as refused:
        unsandboxed(compiler).compile({"paging.c": source}, tmp_path / "private")
    assert "includes a file that is not allowed" in str(refused.value) and secret not in str(refused.value)


def test_ordinary_c_passes_every_screen(compiler, tmp_path):
    """Constructs the reference happens not to use (switch tables, 64-bit
    arithmetic, struct copies, atomics, __builtin_trap, ...) build."""
    build.check_objects(compiler.compile({"paging.c": DATA / "ordinary.c"}, tmp_path))


def test_warnings_are_reported_with_the_gap_files_name(compiler, tmp_path):
    source = gap_with(tmp_path, "static int unused_helper(void) { return 1; }")
    compiled = compiler.compile({"paging.c": source}, tmp_path / "private")["paging.c"]
    assert compiled.warnings == ("kernel/paging.c:11:12: warning: 'unused_helper' defined but not used "
                                 "[-Wunused-function]",)


def test_every_usual_privileged_instruction_is_refused():
    for reason, names in screen.REASONS.items():
        for name in names:
            why = screen.refusal(screen.Instruction("f", "kernel/paging.c:1", f"{name} $0x1"))
            assert why == reason, (name, why)
    for text in ("mov %cr4,%eax", "mov %eax,%cr2", "mov %eax,%db7", "mov %ax,%ds", "push %fs", "lret"):
        assert screen.refusal(screen.Instruction("f", "", text)), text
    for text in ("mov %cr3,%eax", "mov %eax,%cr0", "invlpg (%eax)", "rep stos %eax,%es:(%edi)",
                 "lock cmpxchg %ecx,(%edx)", "cs nopw 0x0(%eax,%eax,1)", "movzbl (%eax),%eax", "jle 1f"):
        assert screen.refusal(screen.Instruction("f", "", text)) is None, text


@pytest.mark.parametrize("asm, refused", [
    ('\t.long\t1\n\t.string\t"a;b#c\\"d"\n', None),
    ('#APP\n# 12 "x.c" 1\n\tinvlpg (%eax)\n# 0 "" 2\n#NO_APP\n', None),
    ('label: .incbin "f"\n', "'.incbin'"),
    ('\t.long 1 ; .include "f"\n', "'.include'"),
    ('\t.INCBIN "f"\n', "'.INCBIN'"),
    ("\t.byte '\" ; .incbin \"f\" ; .byte '\"\n", "this assembly is not allowed"),
    ('\t.long 1 # ; .incbin "f"\n', "this assembly is not allowed"),
    ('/* x */ .incbin "f"\n', "this assembly is not allowed"),
    ('# comment ; .incbin "f"\n', "this assembly line is not allowed"),
    ('"quoted label": .incbin "f"\n', "this assembly is not allowed"),
    ('\tfoo = harness_pass\n', "assigning the symbol 'foo'"),
    ('\t.set foo, harness_pass\n', "'.set'"),
    ('\t.string "unterminated\n', "an unterminated string"),
    ('\t.altmacro\n', "'.altmacro'"),
    ('\t.rept 3\n\tnop\n\t.endr\n', "'.rept'"),
])
def test_the_assembly_screen(asm, refused):
    if refused is None:
        screen.check_assembly(asm, "paging.c", "kernel/paging.c")
    else:
        with pytest.raises(screen.Refused, match=refused.replace(".", r"\.").replace("(", r"\(")):
            screen.check_assembly(asm, "paging.c", "kernel/paging.c")


def test_diagnostics_quote_only_the_gap_file(tmp_path):
    gap = tmp_path / "paging.c"
    gap.write_text("int a;\nint b = ;\n")
    where = {"file": str(gap), "line": 2, "column": 9}
    elsewhere = {"file": "/etc/hostname", "line": 1, "column": 1}
    # gcc 12 may file an error as the child of a warning.
    doc = [{"kind": "warning", "message": "look", "option": "-Wcpp", "locations": [{"caret": elsewhere}],
            "children": [{"kind": "error", "message": "expected expression", "locations": [{"caret": where}]}]}]
    found = diagnostics.parse(json.dumps(doc) + "\ncompilation terminated.\n")
    src = diagnostics.Source(gap, "kernel/paging.c", gap.read_text(), tmp_path, frozenset())
    text = diagnostics.errors(found, src)
    assert text.splitlines() == ["kernel/paging.c:2:9: error: expected expression", "    2 | int b = ;",
                                 "      |         ^"]
    assert diagnostics.warnings(found, src) == ["/etc/hostname: warning in a file other than the gap file "
                                                "(not shown)"]


def test_without_bubblewrap_the_build_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}:/nonexistent")  # no bwrap on this PATH
    assert "build: not sandboxed (no bwrap" in sandbox.probe("gcc").note


def test_a_sandbox_that_cannot_compile_is_not_used(compiler, tmp_path):
    broken = dataclasses.replace(compiler.sandbox, toolchain=())  # no compiler inside
    if not broken.bwrap:
        pytest.skip(f"bubblewrap does not run here: {compiler.sandbox.reason}")
    box = compile_module._working(broken, compiler.toolchain, tmp_path, confine.Limits())
    assert box.bwrap is None and "bwrap cannot run the compiler here" in box.note, box


def test_the_sandbox_shows_the_compiler_nothing_else(compiler, tmp_path):
    if not compiler.sandbox.bwrap:
        pytest.skip(f"bubblewrap does not run here: {compiler.sandbox.reason}")
    secret = ROOT / "solutions" / "paging.c"
    header = sorted(compiler.headers)[0]
    shell = [sandbox.bind_for(shutil.which("sh")), *compiler.sandbox.toolchain]
    script = (f"for f in /etc/hostname /usr/include/stdio.h {secret} {header}; do [ -e $f ] && echo $f; done; "
              "echo /*")
    argv = dataclasses.replace(compiler.sandbox, toolchain=tuple(shell)).wrap(["sh", "-c", script], [Path(header)],
                                                                             tmp_path, tmp_path)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.stdout.split("\n")[0] == header, out  # of the four, only the header is there
    top = {"/" + Path(p).parts[1] for p in (header, tmp_path, *(d for _, d in shell))}
    assert set(out.stdout.split("\n")[1].split()) == top | {link for link in sandbox.SYSTEM_LINKS
                                                             if os.path.islink(link)}, out
