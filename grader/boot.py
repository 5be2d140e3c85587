"""What a lab's pytest file uses: the `boot` fixture's object and the Run it
returns.

A lab test boots the kernel once with a harness test and its parameters,
then states what the serial log must show:

    def test_heap_alloc(boot):
        pages = boot.rng.randrange(10, 100)
        run = boot("heap_alloc", mem=32, pages=pages)
        run.expect_trace("heap_alloc.trace")

A boot that does not pass (the grader saw the test reach the trusted pass
point, intact, and QEMU exit with the pass status) raises GradeFailure with
an explanation; so does a trace that does not match.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path

from . import evidence, memmap, protocol, qemu, trace, triage
from .labs import Lab, TestInfo, lab_of_function


class GradeFailure(Exception):
    """A test failed. `summary` is one line; `detail` what a student reads;
    the rest is evidence reports may draw (shapes in grader/evidence.py)."""

    def __init__(self, summary: str, detail: str = "", *, trace: dict | None = None, triage: dict | None = None,
                 memory_maps: list[dict] | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.evidence = {"trace": trace, "triage": triage, "memory_maps": memory_maps}


class KitError(Exception):
    """The lab's own test is wrong (a kit bug, not the student's)."""


class BootCaptured(Exception):
    """Raised by a dry-run boot: carries the request the test would make."""

    def __init__(self, request: qemu.RunRequest) -> None:
        super().__init__(request.cmdline())
        self.request = request


def test_seed(run_seed: int, test: str) -> int:
    """The seed of one test in a run: independent of test order and workers."""
    return protocol.fnv1a64(f"{run_seed}:{test}") % (1 << 31)


@dataclass
class Booter:
    """The `boot` fixture: boots the run's kernel once for one test."""

    kernel: Path
    lab: Lab
    info: TestInfo
    labs: list[Lab]
    run_seed: int
    log_dir: Path
    speed: float = 1.0  # timeout multiplier measured for this machine
    icount: bool = False  # deterministic mode: instruction counting, same interleaving every run
    dry_run: bool = False
    seed: int = field(init=False)
    rng: random.Random = field(init=False)
    result: qemu.RunResult | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.seed = test_seed(self.run_seed, self.info.name)
        self.rng = random.Random(self.seed)

    @property
    def log_path(self) -> Path:
        return self.log_dir / self.lab.slug / f"{self.info.name}.log"

    def __call__(self, harness_test: str, mem: int = 64, inspect: qemu.Inspector | None = None,
                 script: tuple[tuple[str, bytes], ...] = (), **params: object) -> Run:
        if self.result is not None:
            raise KitError(f"test {self.info.name} boots twice: one test is one boot")
        request = qemu.RunRequest(
            kernel=self.kernel, test=harness_test,
            params={"seed": str(self.seed), **{k: _param(v) for k, v in params.items()}},
            mem_mb=mem, timeout=self.info.timeout * self.speed, log_path=self.log_path, inspect=inspect,
            script=script, icount=self.icount)
        if self.dry_run:
            raise BootCaptured(request)
        self.result = qemu.run(request)
        if self.result.outcome is qemu.Outcome.INTERRUPTED:
            # No verdict: stop as Ctrl-C does, so that no result is recorded.
            raise KeyboardInterrupt(self.result.message)
        if not self.result.passed:
            raise self._failure(self.result)
        return Run(self.result, self.lab.folder)

    def _failure(self, result: qemu.RunResult) -> GradeFailure:
        if result.outcome is qemu.Outcome.NOT_IMPLEMENTED:
            return self._not_implemented(result)
        detail, crash = "", None
        if result.outcome in (qemu.Outcome.PANIC, qemu.Outcome.TRIPLE_FAULT):
            crash = triage.triage_crash(result, self.kernel, rerun=self._rerun_with_exception_log)
            detail = crash.text()
        elif result.outcome in (qemu.Outcome.FAIL, qemu.Outcome.TIMEOUT, qemu.Outcome.FLOOD, qemu.Outcome.FORGED,
                                qemu.Outcome.TAMPERED):
            # The harness's own FAIL and end lines are already the summary;
            # a memory map is drawn below instead of quoted.
            context = [ln for ln in memmap.without_blocks(result.lines)
                       if not ln.startswith(("[harness] FAIL:", "[harness] end "))]
            detail = triage.last_lines(context)
        found = self._memory_map(result)
        picture = "\n\n" + memmap.picture(found) if found else ""
        return GradeFailure(f"{result.outcome.value}: {result.message}", detail + picture,
                            triage=crash.to_dict() if crash else None,
                            memory_maps=evidence.memory_maps(found) if found else None)

    @staticmethod
    def _memory_map(result: qemu.RunResult) -> memmap.MemMap | None:
        """The memory map a trusted check printed just before failing, for
        the report (kernel/memmap.h, memmap_report), or None."""
        if result.outcome is not qemu.Outcome.FAIL:
            return None
        lines = result.lines
        fail = next((i for i in reversed(range(len(lines))) if protocol.FAIL_LINE.match(lines[i])), None)
        return memmap.just_before(lines, fail) if fail is not None else None

    def _not_implemented(self, result: qemu.RunResult) -> GradeFailure:
        function = next((m["function"] for m in map(protocol.NOT_IMPLEMENTED.match, result.lines) if m), "?")
        owner = lab_of_function(self.labs, function)
        if owner and owner.number < self.lab.number:
            what = f"{function} (lab {owner.number})"
            return GradeFailure(f"blocked by {what}: this test needs it; see {owner.handout}")
        return GradeFailure(f"not implemented: {function}() is still the stub; see {self.lab.handout}")

    def _rerun_with_exception_log(self) -> Path:
        assert self.result is not None
        path = self.log_path.with_suffix(".int.log")
        qemu.run(dataclasses.replace(self.result.request, log_path=self.log_path.with_suffix(".rerun.log"),
                                     inspect=None, exception_log=path))
        return path


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@dataclass(frozen=True)
class Run:
    """A boot that passed its harness checks; what the log must also show."""

    result: qemu.RunResult
    folder: Path  # the lab folder (traces are found here)

    @property
    def lines(self) -> tuple[str, ...]:
        return self.result.lines

    def params(self) -> dict[str, str]:
        return dict(self.result.request.params)

    def expect_trace(self, name: str, **extra: object) -> trace.MatchResult:
        """Matches labs/<lab>/<name> against the log; the boot's parameters
        and `extra` fill its placeholders."""
        expected = trace.load_trace(self.folder / name)
        result = trace.match_trace(expected, list(self.lines), {**self.params(), **extra})
        if not result.ok:
            assert result.failure is not None
            raise GradeFailure(f"trace {name}: {result.failure.message}", result.failure.explain(),
                               trace=evidence.trace_diff(expected, result, self.lines))
        return result

    def expect(self, ok: bool, summary: str, detail: str = "") -> None:
        """Fails the test with `summary` unless `ok` (checks done in Python)."""
        if not ok:
            raise GradeFailure(summary, detail or triage.last_lines(self.lines))

