"""The pytest plugin that runs lab tests: the `boot` fixture, per-test
result records, and the failure report a student reads.

Loaded with `-p grader.plugin` by the grader's CLI (grader/cli.py), which
passes the kernel to test, the run's seed, the log folder and the machine's
speed as options; every pytest-xdist worker loads it too.
"""
from __future__ import annotations

import fnmatch
import time
from pathlib import Path

import pytest

from . import boot as bootmod
from . import results
from .labs import Lab, LabError, all_labs, load_lab


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption("--grader-kernel", type=Path, help="kernel ELF to test")
    group.addoption("--grader-seed", type=int, default=1)
    group.addoption("--grader-logs", type=Path, default=Path("build/grade"))
    group.addoption("--grader-speed", type=float, default=1.0, help="timeout multiplier")
    group.addoption("--grader-tests", default="*", help="glob on test names")
    group.addoption("--grader-icount", action="store_true", help="QEMU with -icount (deterministic)")
    group.addoption("--grader-skip", default="", help="comma-separated tests already graded (--resume)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pattern = config.getoption("--grader-tests")
    skip = set(filter(None, config.getoption("--grader-skip").split(",")))
    keep = [i for i in items if fnmatch.fnmatch(_test_name(i), pattern) and _test_name(i) not in skip]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def _test_name(item: pytest.Item) -> str:
    return (getattr(item, "originalname", None) or item.name.split("[")[0]).removeprefix("test_")


def _lab_folder(node: pytest.Item) -> Path:
    """The lab folder of a test (pytest 6, on Gradescope's Ubuntu, has no
    node.path)."""
    return Path(str(node.fspath)).parent


@pytest.fixture
def boot(request: pytest.FixtureRequest) -> bootmod.Booter:
    """Boots the kernel under test once, for this test (grader/boot.py)."""
    config = request.config
    kernel = config.getoption("--grader-kernel")
    if kernel is None:
        pytest.fail("lab tests run through the grader: python3 -m grader (or make grade)")
    lab = load_lab(_lab_folder(request.node))
    booter = bootmod.Booter(kernel, lab, lab.test(_test_name(request.node)), all_labs(lab.folder.parent),
                            config.getoption("--grader-seed"), config.getoption("--grader-logs"),
                            config.getoption("--grader-speed"), icount=config.getoption("--grader-icount"))
    request.node.grader_booter = booter
    return booter


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.grader_start = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        record = _record(item, call, report)
        if isinstance(call.excinfo and call.excinfo.value, bootmod.GradeFailure):
            report.longrepr = record.output
        results.save(record, item.config.getoption("--grader-logs") / "results")
        report.user_properties.append(("grader", record.to_json()))


def _record(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> results.TestResult:
    lab = load_lab(_lab_folder(item))
    name = _test_name(item)
    try:
        info = lab.test(name)
    except LabError as e:
        return results.TestResult(lab.number, name, name, results.FAILED, 0, 0, f"kit error: {e}", str(e), 0)
    seconds = time.monotonic() - getattr(item, "grader_start", time.monotonic())
    booter = getattr(item, "grader_booter", None)
    log = str(booter.log_path) if booter and booter.result else ""
    flags = booter.result.flags if booter and booter.result else ()
    seed = item.config.getoption("--grader-seed")  # the run's seed: with TEST=, it replays this test
    if report.passed:
        return results.TestResult(lab.number, name, info.title, results.PASSED, info.points, info.points, "passed",
                                  "", seconds, info.visibility, log, seed, flags=flags)
    exc = call.excinfo.value if call.excinfo else None
    evidence = {}
    if isinstance(exc, bootmod.GradeFailure):
        summary, detail, evidence = exc.summary, exc.detail, exc.evidence
    else:  # an error in the lab's own test code: show it, it is the kit's bug
        summary, detail = f"grader error: {exc!r}", str(report.longreprtext)[-3000:]
    output = failure_report(lab, info.name, info.points, summary, detail, log, seed)
    outcome = booter.result.outcome.value if booter and booter.result else ""
    return results.TestResult(lab.number, name, info.title, results.FAILED, 0, info.points, summary, output,
                              seconds, info.visibility, log, seed, outcome, flags=flags, **evidence)


def failure_report(lab: Lab, name: str, points: float, summary: str, detail: str, log: str, seed: int) -> str:
    """The text a student reads for a failed test."""
    lines = [f"FAIL lab {lab.number} {name} (0/{points:g} points): {summary}"]
    if detail:
        lines += ["", detail]
    lines.append("")
    if log:
        lines.append(f"serial log: {log}")
    lines.append(f"run it again:   make grade TEST={name} SEED={seed}")
    lines.append(f"debug it (GDB): make qemu-gdb TEST={name} SEED={seed}   then, in another terminal: make gdb")
    section = lab.hint_for(name, "\n".join((summary, detail)))  # the handout's part for this symptom
    lines.append(f"handout: {section}")
    return "\n".join(lines)
