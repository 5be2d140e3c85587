#!/usr/bin/env python3
"""make bench: how fast grading is, as ratios to a floor measured in the
same run (never absolute times in tests).

Measures, on the reference solutions:
  floor       boot-to-exit of a minimal multiboot image, the grader's QEMU flags
  per test    each lab test's median wall time, and its ratio to the floor
  full grade  all labs, serial and with --jobs = cores, against boots x floor / cores
  edit loop   touch kernel/paging.c, rebuild, grade lab 1; and a clean build
  batch       submissions graded per minute, on 20 generated submissions
  similarity  the similarity check of 300 disguised submissions, against
              tokenizing them alone
  guest cost  instructions under -icount: init_paging at 1 GiB, fork of 1 MiB,
              a fork/exit/waitpid round trip; the memory map, when asked (built,
              drawn, printed at 32 MiB and 1 GiB) and its live view's share
  build       a submission's build as the grader does it (dependency check,
              assembly, symbol and instruction screens, sandbox) against
              the Makefile's plain build of the same files
  watching    what the grader's own view costs per test (gdbstub stops, checks
              at the pass, watchpoints, call counts): each lab test booted
              plainly and watched, interleaved; and physical memory read
              through the gdbstub against straight from QEMU's memory
Prints a table with each target met or its bound, and writes build/bench.json.
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import build, qemu, replay, screen  # noqa: E402
from grader.compile import GapCompiler  # noqa: E402
from grader.labs import all_labs  # noqa: E402

CORES = os.cpu_count() or 1
FLOOR_SOURCE = """
.section .multiboot
.align 4
.long 0x1BADB002, 0x3, -(0x1BADB002 + 0x3)
.text
.global _start
_start:
    mov $0x31, %eax
    outl %eax, $0xf4
1:  hlt
    jmp 1b
"""


def timed(argv: list[str], cwd: Path, **env: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env})
    return time.monotonic() - start, result


def floor_image(work: Path) -> Path:
    (work / "floor.S").write_text(FLOOR_SOURCE)
    subprocess.run(["gcc", "-m32", "-c", "floor.S", "-o", "floor.o"], cwd=work, check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x100000", "-o", "floor.elf", "floor.o"], cwd=work,
                   check=True)
    return work / "floor.elf"


def median_boot(request: qemu.RunRequest, runs: int) -> float:
    return statistics.median(qemu.run(request).elapsed for _ in range(runs))


def per_test(kernel: Path, runs: int = 3) -> list[dict]:
    rows = []
    for lab in all_labs():
        for t in lab.tests:
            request = replay.captured_request(kernel, t.name, seed=1)
            result = qemu.run(request)
            wall = statistics.median([result.elapsed] + [qemu.run(request).elapsed for _ in range(runs - 1)])
            rows.append({"lab": lab.number, "test": t.name, "wall": wall,
                         "mem_mb": request.mem_mb, "passed": result.passed,
                         "timeout_margin": t.timeout / wall})
    return rows


def full_grade(jobs: int, out: Path, tests: str = "*") -> tuple[float, float]:
    """(wall, CPU) seconds of grading the reference with `jobs` workers;
    CPU counts every process the grade started."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, result = timed([sys.executable, "-m", "grader", "--reference", "--jobs", str(jobs), "--quiet",
                             "--test", tests, "--out", str(out)], ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 and tests == "*":
        raise SystemExit(f"bench: the reference does not pass:\n{result.stdout[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def xdist_start() -> float:
    """Seconds pytest-xdist adds to start CORES workers over the lab tests
    (median of 3; the tests are deselected, so nothing boots)."""
    def run(workers: list[str]) -> float:
        argv = [sys.executable, "-m", "pytest", *workers, "-p", "no:cacheprovider", "-p", "grader.plugin",
                "--import-mode=importlib", "-q", "-k", "no_such_test",
                *map(str, sorted(ROOT.glob("labs/*/test_*.py")))]
        return statistics.median(timed(argv, ROOT, PYTHONPATH=str(ROOT))[0] for _ in range(3))

    return max(0.0, run(["-n", str(CORES)]) - run([]))


def median_grade(jobs: int, out: Path, runs: int = 3) -> tuple[float, float]:
    """full_grade, the run with the median wall time of `runs`."""
    return sorted(full_grade(jobs, out) for _ in range(runs))[runs // 2]


def boot_capacity(kernel: Path, boots: int = 20) -> float:
    """How much faster `boots` QEMU boots run CORES at a time than one at a
    time: the most any parallel grading can gain on this machine."""
    request = replay.captured_request(kernel, "fork_return", seed=1)
    start = time.monotonic()
    for _ in range(boots):
        qemu.run(request)
    serial = time.monotonic() - start
    start = time.monotonic()
    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(lambda _: qemu.run(request), range(boots)))
    return serial / (time.monotonic() - start)


def copy_kit(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for f in files.splitlines():
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    for gap in build.GAP_FILES:  # a student who has done every lab
        shutil.copy2(ROOT / "solutions" / gap, dest / "kernel" / gap)


def edit_loop(tree: Path) -> tuple[float, float]:
    """(clean build, touch + rebuild + grade lab 1, median of 3) in a copy of
    the kit."""
    clean, result = timed(["make", "-s", f"-j{CORES}", "kernel"], tree)
    if result.returncode != 0:
        raise SystemExit(f"bench: clean build failed:\n{result.stderr[-2000:]}")
    loops = []
    for _ in range(3):
        (tree / "kernel" / "paging.c").touch()
        loop, result = timed(["make", "-s", "grade", "LAB=1", f"JOBS={CORES}"], tree, PYTHON=sys.executable)
        if result.returncode != 0:
            raise SystemExit(f"bench: make grade LAB=1 failed:\n{result.stdout[-2000:]}")
        loops.append(loop)
    return clean, statistics.median(loops)


def batch(work: Path, count: int = 20) -> float:
    """Submissions graded per minute, on `count` copies of the reference."""
    subs = work / "submissions"
    for i in range(count):
        (subs / f"student{i:02d}").mkdir(parents=True)
        for gap in build.GAP_FILES:
            shutil.copy2(ROOT / "solutions" / gap, subs / f"student{i:02d}" / gap)
    seconds, result = timed([sys.executable, "-m", "grader", "batch", str(subs), "--jobs", str(CORES), "--out",
                             str(work / "batch")], ROOT)
    if result.returncode != 0:
        raise SystemExit(f"bench: batch failed:\n{result.stdout[-2000:]}")
    return count / seconds * 60


def similarity_check(work: Path, count: int = 300) -> tuple[float, float, int]:
    """Seconds of the similarity check over `count` submissions (the
    reference with a known mistake, disguised: renamed, reformatted,
    reordered), seconds of tokenizing their files alone, and the pairs found."""
    import random
    import tomllib

    from grader import similarity
    from grader.tests.submissions import disguise, make_submission

    mistakes = tomllib.loads((ROOT / "grader" / "tests" / "mistakes.toml").read_text())
    rng = random.Random(1)
    for i in range(count):
        name = rng.choice(sorted(mistakes))
        folder = make_submission(name, mistakes[name], work / "similar" / f"student{i:03d}")
        for gap in build.GAP_FILES:
            (folder / gap).write_text(disguise((folder / gap).read_text(), rng))
    start = time.monotonic()
    check = similarity.check_folder(work / "similar", ROOT / "kernel")
    seconds = time.monotonic() - start
    start = time.monotonic()
    for path in sorted((work / "similar").glob("*/*.c")):
        similarity.tokenize(path.read_text())
    return seconds, time.monotonic() - start, len(check.pairs)


LIVE_REDRAWS = 10  # a second: TIMER_HZ / LIVE_TICKS (kernel/timer.h, kernel/memmap_show.c)
GUEST_SECOND = 10 ** 9  # instructions a second of guest time under -icount shift=0


def build_costs(work: Path, runs: int = 7) -> dict[str, float]:
    """Seconds (medians of `runs`) of building the reference's gap files:
    the Makefile's plain compile and link, the grader's screened build in
    each mode (taken in turns, so that the machine's load weighs on each
    alike), and the parts of the screening on their own."""
    def plain(i: int) -> None:
        subprocess.run(["make", "-s", f"-j{CORES}", "elf", "GAP_DIR=solutions", f"OUT={work / f'plain{i}'}"],
                       cwd=ROOT, check=True, capture_output=True)

    def screened(i: int, mode: str = "") -> None:
        os.environ["KESTREL_SANDBOX"] = mode
        try:
            build.build_kernel(ROOT / "solutions", work / f"screened{mode}{i}")
        finally:
            del os.environ["KESTREL_SANDBOX"]

    names = tuple(sorted(build.ALLOWED_INCLUDES))
    compiler = GapCompiler.here(ROOT, names, work / "probe")
    compiled = compiler.compile({g: ROOT / "solutions" / g for g in build.GAP_FILES}, work / "parts")
    assembly = {g: c.obj.with_suffix(".s").read_text() for g, c in compiled.items()}
    version = [compiler.toolchain.cc, "-dumpversion"]  # a tool start, in the sandbox and not
    steps = {
        "plain": plain,
        "screened": screened,
        "unsandboxed": lambda i: screened(i, "off"),
        "setup": lambda i: GapCompiler.here(ROOT, names, work / f"probe{i}"),
        "assembly_screen": lambda i: [screen.check_assembly(a, g, g) for g, a in assembly.items()],
        "object_screens": lambda i: build.check_objects(compiled),
        "sandbox_start": lambda i: subprocess.run(compiler.sandbox.wrap(version, [], work, work), check=True,
                                                  capture_output=True),
        "plain_start": lambda i: subprocess.run(version, check=True, capture_output=True),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(runs):
        for name, step in steps.items():
            start = time.monotonic()
            step(i)
            times[name].append(time.monotonic() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def watching_cost(kernel: Path, runs: int = 7) -> list[dict]:
    """Per lab test: the wall time of QEMU alone, nothing watching (the same
    command line, no gdbstub), and of the grader's watched boot, in pairs
    run back to back, which one first in turn (a boot's time moves by
    several ms from run to run here): each pair's difference is that boot's
    cost. (Not the tests that type into the serial port: QEMU alone waits.)"""
    rows = []
    for lab in all_labs():
        for t in lab.tests:
            request = replay.captured_request(kernel, t.name, seed=1)
            if request.script:
                continue
            pairs, cpu = [], []
            for i in range(runs):
                boots = {"plain": lambda: timed(request.argv(), ROOT)[0], "watched": lambda: qemu.run(request).elapsed}
                wall, used = {}, {}
                for way in sorted(boots, reverse=bool(i % 2)):
                    before = cpu_seconds()
                    wall[way] = boots[way]()
                    used[way] = cpu_seconds() - before
                pairs.append((wall["plain"], wall["watched"]))
                cpu.append((used["plain"], used["watched"]))
            rows.append({"test": t.name, "pairs": pairs, "cpu_pairs": cpu})
    return rows


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (QEMU)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def read_speeds(kernel: Path) -> dict[str, float]:
    """Milliseconds per MiB of guest physical memory read at a pass stop,
    through the gdbstub (`m` packets) and straight from QEMU's memory
    (/proc/PID/mem)."""
    speeds: dict[str, list[float]] = {"gdb": [], "host": []}

    def measure(halted) -> list[str]:
        for way in ("gdb", "host", "gdb", "host", "gdb", "host"):
            start = time.monotonic()
            halted.memory.read(0x1000000, 1 << 20, through=way)
            speeds[way].append((time.monotonic() - start) * 1000)
        return []

    qemu.run(qemu.RunRequest(kernel, "selftest_pass", {}, mem_mb=64, timeout=30, inspect=measure))
    return {way: statistics.median(ms) for way, ms in speeds.items()}


def guest_costs(kernel: Path) -> dict[str, int]:
    """Instructions, exact: the paths every test runs (unchanged by the memory
    map, which costs nothing until asked), then the map itself."""
    out: dict[str, int] = {}
    runs = (("bench_init_paging", {}, 1024), ("bench_fork", {"kib": "1024"}, 64), ("bench_memmap", {}, 32),
            ("bench_memmap", {}, 1024))
    for test, params, mem in runs:
        result = qemu.run(qemu.RunRequest(kernel, test, params, mem_mb=mem, timeout=60, icount=True))
        text = "\n".join(result.lines)
        for name, value in re.findall(r"(init_paging|fork with \d+ KiB|fork\+exit\+waitpid|memmap \w+) (\d+) "
                                      r"instructions", text):
            out[f"{name}, {mem} MiB" if name.startswith("memmap") else name] = int(value)
    return out


def live_view_share(guest: dict[str, int]) -> float:
    """The share of guest time the live view takes at 1 GiB (build + draw,
    LIVE_REDRAWS times a second); 0 while it is off."""
    redraw = guest.get("memmap build, 1024 MiB", 0) + guest.get("memmap draw, 1024 MiB", 0)
    return redraw * LIVE_REDRAWS / GUEST_SECOND


def main() -> int:
    start = time.monotonic()
    build.build_trusted()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        kernel = build.build_kernel(ROOT / "solutions", work / "ref").elf
        floor_elf = floor_image(work)
        floor_request = qemu.RunRequest(floor_elf, None, {}, mem_mb=32, timeout=10)
        floor = median_boot(floor_request, runs=10)
        floor_1g = median_boot(qemu.RunRequest(floor_elf, None, {}, mem_mb=1024, timeout=10), runs=5)
        tests = per_test(kernel)
        floor = min(floor, median_boot(floor_request, runs=10))  # again, in case the machine was busy first
        for t in tests:
            t["ratio"] = t["wall"] / floor
        serial, cpu = median_grade(1, work / "g1")
        parallel, _ = median_grade(CORES, work / "g2")
        capacity = boot_capacity(kernel)
        workers_start = xdist_start()
        # What no parallelism divides: building, starting pytest, measuring
        # the machine: a grade that selects no test.
        fixed_serial, _ = full_grade(1, work / "g3", tests="no-such-test")
        (work / "tree").mkdir()
        copy_kit(work / "tree")
        clean, loop = edit_loop(work / "tree")
        per_minute = batch(work)
        similar_s, tokenize_s, similar_pairs = similarity_check(work)
        guest = guest_costs(kernel)
        builds = build_costs(work)
        watching = watching_cost(kernel)
        reads = read_speeds(kernel)
    boots = len(tests)
    ideal = boots * floor / CORES
    overhead = statistics.median(t["wall"] - floor for t in tests)
    amdahl = serial / (fixed_serial + workers_start + (serial - fixed_serial) / capacity)
    results = {"cores": CORES, "floor_s": floor, "floor_1g_s": floor_1g, "tests": tests,
               "full_grade_serial_s": serial, "full_grade_parallel_s": parallel, "speedup": serial / parallel,
               "fixed_s": fixed_serial, "speedup_bound": amdahl, "cpu_per_grade_s": cpu,
               "boot_capacity": capacity, "xdist_start_s": workers_start,
               "batch_bound_per_minute": CORES * 60 / cpu,
               "ideal_parallel_s": ideal, "clean_build_s": clean, "edit_loop_s": loop,
               "batch_per_minute": per_minute, "guest_instructions": guest,
               "similarity_300_s": similar_s, "similarity_tokenize_s": tokenize_s,
               "similarity_pairs": similar_pairs,
               "median_overhead_s": overhead, "build_s": builds, "watching": watching,
               "read_ms_per_mib": reads, "bench_s": time.monotonic() - start}
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    return 0


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(r: dict) -> str:
    floor = r["floor_s"]
    lines = [f"floor: a minimal multiboot image boots to its exit in {floor * 1000:.0f} ms "
             f"(the lower of two medians of 10; {r['floor_1g_s'] * 1000:.0f} ms with 1 GiB of RAM); {r['cores']} cores", "",
             f"{'lab':<4}{'test':<28}{'wall':>8}{'x floor':>9}{'timeout/wall':>14}"]
    for t in r["tests"]:
        lines.append(f"{t['lab']:<4}{t['test']:<28}{t['wall'] * 1000:>6.0f}ms{t['ratio']:>9.2f}"
                     f"{t['timeout_margin']:>14.1f}" + ("" if t["passed"] else "  (did not pass!)"))
    worst = max(r["tests"], key=lambda t: t["ratio"])
    over = r["median_overhead_s"]
    g = r["guest_instructions"]
    # The median of all pairs' differences: robust to the machine's other load.
    watch_cost = statistics.median(watched - plain for w in r["watching"] for plain, watched in w["pairs"])
    watch_cpu = statistics.median(watched - plain for w in r["watching"] for plain, watched in w["cpu_pairs"])
    per_test = {w["test"]: statistics.median(b - a for a, b in w["pairs"]) for w in r["watching"]}
    costliest = max(per_test, key=per_test.get)
    lines += [
        "",
        f"{'target':<58}{'measured':>14}  result",
        f"{'harness overhead per test (median wall - floor) < 0.15 s':<58}{over:>13.3f}s  {verdict(over < 0.15)}",
        f"{'no test above 3x the floor (worst: ' + worst['test'] + ')':<58}{worst['ratio']:>13.2f}x  "
        f"{verdict(worst['ratio'] <= 3)}",
        f"{'full grade, all labs, ' + str(r['cores']) + ' jobs, build included < 10 s':<58}"
        f"{r['full_grade_parallel_s']:>13.1f}s  {verdict(r['full_grade_parallel_s'] < 10)}",
        f"{'  serial':<58}{r['full_grade_serial_s']:>13.1f}s",
        f"{'  ideal: boots x floor / cores':<58}{r['ideal_parallel_s']:>13.1f}s  "
        f"(ratio {r['full_grade_parallel_s'] / r['ideal_parallel_s']:.1f})",
        f"{'parallel speed-up >= 1.6':<58}{r['speedup']:>13.2f}x  {verdict(r['speedup'] >= 1.6)}",
        f"{'  bound: ' + str(r['cores']) + ' QEMU boots at a time vs 1 at a time':<58}"
        f"{r['boot_capacity']:>13.2f}x",
        f"{'  bound: that, with build and pytest start-up undivided':<58}{r['speedup_bound']:>13.2f}x  "
        f"(fixed {r['fixed_s']:.1f} s + {r['xdist_start_s']:.2f} s to start workers)",
        f"{'edit loop: touch paging.c, rebuild, grade lab 1 < 3 s':<58}{r['edit_loop_s']:>13.1f}s  "
        f"{verdict(r['edit_loop_s'] < 3)}",
        f"{'clean build':<58}{r['clean_build_s']:>13.1f}s",
        f"{'batch >= 20 submissions a minute':<58}{r['batch_per_minute']:>12.1f}/m  "
        f"{verdict(r['batch_per_minute'] >= 20)}",
        f"{'  bound: cores x 60 / CPU seconds of one full grade':<58}{r['batch_bound_per_minute']:>12.1f}/m  "
        f"({r['cpu_per_grade_s']:.1f} CPU s a submission, QEMU included)",
        f"{'similarity check, 300 submissions <= 8x tokenizing them':<58}"
        f"{r['similarity_300_s'] / r['similarity_tokenize_s']:>13.1f}x  "
        f"{verdict(r['similarity_300_s'] <= 8 * r['similarity_tokenize_s'])}",
        f"{'  the check (' + str(r['similarity_pairs']) + ' pairs found)':<58}{r['similarity_300_s']:>13.2f}s  "
        f"({r['similarity_300_s'] / 300 * 1000:.1f} ms a submission)",
        f"{'  tokenizing alone':<58}{r['similarity_tokenize_s']:>13.2f}s",
        "",
        *render_builds(r["build_s"]),
        f"{'grader watching a test (watched - plain boot, median) < 10 ms':<58}{watch_cost * 1000:>12.1f}ms  "
        f"{verdict(watch_cost < 0.010)}",
        f"{'  most: ' + costliest:<58}{per_test[costliest] * 1000:>12.1f}ms",
        f"{'  CPU time (QEMU and grader), watched - plain boot':<58}{watch_cpu * 1000:>12.1f}ms",
        f"{'  reading guest memory at a stop: gdbstub / QEMU memory':<58}"
        f"{r['read_ms_per_mib']['gdb']:>7.1f} / {r['read_ms_per_mib']['host']:.2f}  ms per MiB",
        "",
        "guest cost under -icount (instructions, exact and repeatable):",
        *[f"  {k:<30}{v:>12,}" for k, v in g.items()],
        "  memory map: runs only when asked (memmap, F1), never on the paths above; its live view at",
        f"  1 GiB redraws {LIVE_REDRAWS} times a second: {live_view_share(g):.1%} of the guest's time",
        "",
        f"bench: {r['bench_s']:.0f} s; details in build/bench.json",
    ]
    return "\n".join(lines)


def render_builds(b: dict[str, float]) -> list[str]:
    plain = b["plain"]
    ratio = lambda s: f"{s * 1000:>8.0f} ms  {s / plain:>5.2f}x the plain build"  # noqa: E731
    return [
        "a submission's build (reference gap files, median of 7), against the Makefile's plain compile and link:",
        f"  {'plain build (make elf)':<46}{ratio(plain)}",
        f"  {'grader build, sandboxed (bubblewrap)':<46}{ratio(b['screened'])}",
        f"  {'grader build, not sandboxed':<46}{ratio(b['unsandboxed'])}",
        f"  {'  of which: toolchain, headers and sandbox probe':<46}{ratio(b['setup'])}",
        f"  {'  of which: assembly screen':<46}{ratio(b['assembly_screen'])}",
        f"  {'  of which: symbol, section, instruction screens':<46}{ratio(b['object_screens'])}",
        f"  {'  the sandbox: 5 tool starts in bubblewrap':<46}{ratio(5 * (b['sandbox_start'] - b['plain_start']))}",
    ]


if __name__ == "__main__":
    sys.exit(main())
