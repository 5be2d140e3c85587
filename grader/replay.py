"""Replaying one test's boot outside pytest: the same kernel test with the
same parameters, optionally paused for GDB (make qemu-gdb TEST=... SEED=...).

A lab test derives its parameters from the run's seed and its name, then
boots once. Calling the test function with a dry-run `boot` fixture stops it
at that boot and yields the exact request the grader made.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import shlex
import subprocess
from pathlib import Path

from .boot import BootCaptured, Booter
from .labs import Lab, LabError, all_labs
from .qemu import RunRequest


def find_test(name: str, labs: list[Lab]) -> Lab:
    for lab in labs:
        if any(t.name == name for t in lab.tests):
            return lab
    known = ", ".join(t.name for lab in labs for t in lab.tests)
    raise LabError(f"no test named {name!r}; tests: {known}")


def captured_request(kernel: Path, name: str, seed: int) -> RunRequest:
    """The request test `name` makes in a run with `seed`."""
    labs = all_labs()
    lab = find_test(name, labs)
    for path in sorted(lab.folder.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"replay_{lab.slug.replace('-', '_')}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function = getattr(module, f"test_{name}", None)
        if function is None:
            continue
        booter = Booter(kernel, lab, lab.test(name), labs, seed, Path("build/replay"), dry_run=True)
        try:
            function(booter)
        except BootCaptured as captured:
            return captured.request
        raise LabError(f"test_{name} never boots the kernel")
    raise LabError(f"{lab.folder}: no function test_{name}")


def gdb_argv(request: RunRequest, port: int) -> list[str]:
    """QEMU paused at the first instruction, serial on the terminal, a
    gdbstub on `port`, no timeout: for a human with GDB."""
    argv = request.argv()
    argv[argv.index("-serial") + 1] = "mon:stdio"
    monitor = argv.index("-monitor")
    del argv[monitor:monitor + 2]
    return argv + ["-S", "-gdb", f"tcp::{port}"]


def main(argv: list[str]) -> int:
    """python3 -m grader replay --kernel ELF --test NAME --seed N [--gdb PORT] [--deterministic] [--print]"""
    ap = argparse.ArgumentParser(prog="python3 -m grader replay", description=__doc__)
    ap.add_argument("--kernel", type=Path, required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--gdb", type=int, metavar="PORT", help="start paused with a gdbstub on PORT")
    ap.add_argument("--deterministic", action="store_true", help="QEMU with -icount, as grade --deterministic")
    ap.add_argument("--print", action="store_true", help="print the QEMU command instead of running it")
    args = ap.parse_args(argv)
    request = captured_request(args.kernel.resolve(), args.test, args.seed)
    if args.deterministic:
        request = dataclasses.replace(request, icount=True)
    command = gdb_argv(request, args.gdb) if args.gdb else request.argv()
    if args.print:
        print(shlex.join(command))
        return 0
    print(f"*** test {args.test}, seed {args.seed}: {request.mem_mb} MiB, command line: {request.cmdline()}")
    if args.gdb:
        print(f"*** QEMU is paused; attach with 'make gdb' (port {args.gdb}). Quit QEMU with Ctrl-A X.")
    return subprocess.call(command)
