"""The student's page: well-formed HTML holding every test, each failure's
message, the trace diff, the crash triage and memory maps; the evidence
behind them travels in the result records and the JSON report."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader import boot, html_report, qemu, report, svg, triage
from grader.build import ROOT
from grader.results import FAILED, NOT_RUN, PASSED, TestResult

from .htmlcheck import Page
from .submissions import make_submission

CORPUS = tomllib.loads((Path(__file__).parent / "corpus.toml").read_text())
HOSTILE = 'wait_block: </pre><script>alert("x")</script> \x07 & done'
WAIT_BLOCKS_LOG = ("[harness] begin wait_blocks seed=1", "wait_block: parent 1 waits for child 2",
                   "wait_block: child 2 works for 10 ticks", HOSTILE, "wait_block: child 2 exits with 148",
                   "wait_block: parent 1: waitpid returned 2, child exited with 0",
                   "[test] pid 1 (wait_block) test_exit(0)", "[harness] end wait_blocks PASS")


def trace_failure() -> boot.GradeFailure:
    """A real trace failure: lab 5's wait_blocks trace against a log whose
    exit code is wrong (the lab parameters say 148)."""
    request = qemu.RunRequest(Path("kernel.elf"), "wait_blocks", {"ticks": "10", "code": "148"})
    result = qemu.RunResult(request, qemu.Outcome.PASS, "", WAIT_BLOCKS_LOG, 3, 0.1)
    with pytest.raises(boot.GradeFailure) as failed:
        boot.Run(result, ROOT / "labs" / "05-waitpid").expect_trace("wait_blocks.trace")
    return failed.value


def crash_triage() -> dict:
    fault = triage.Fault(14, 0x00109502, 0x8, 0, triage.decode_page_fault(0))
    return triage.CrashTriage(fault, "paging_get_physical at kernel/paging.c:100", "the kernel's panic report",
                              "an access near address 0: a NULL pointer", ("paging_get_physical+0x3d",
                                                                           "translate+0x97"),
                              ("PANIC: unhandled page fault", "  #0 0x00109502 paging_get_physical+0x3d")).to_dict()


MEMORY_MAP = {"title": "physical memory after exit", "cells": "KKKbb.....", "cell_bytes": 16 << 12,
              "legend": [{"key": "K", "name": "kernel", "count": 48}, {"key": "b", "name": "pid 2 sh", "count": 32},
                         {"key": ".", "name": "free", "count": 80}],
              "colors": {"K": "#aaaaaa"}, "marked": [3, 4], "notes": {"3": "still owned by pid 2, which exited"}}


def sample_run() -> report.Run:
    failure = trace_failure()
    return report.Run((
        TestResult(1, "remap", "remapping is seen at once", PASSED, 3, 3, "passed", "", 0.2),
        TestResult(5, "wait_blocks", "waitpid blocks", FAILED, 0, 5, failure.summary, failure.detail, 0.3,
                   outcome="pass", **failure.evidence),
        TestResult(1, "translate", "translation", FAILED, 0, 3, "panic: unhandled page fault (vector 14)",
                   "FAIL lab 1 translate ...", 0.1, outcome="panic", triage=crash_triage(),
                   memory_maps=[MEMORY_MAP]),
        TestResult(2, "heap_free", "freeing", NOT_RUN, 0, 4, "not run (the grader stopped before this test)",
                   "not run", 0.0)), seed=42, kernel="submission <alice>", seconds=1.5,
        notes=("warning: grading uses only kernel/paging.c",))


def test_trace_failure_carries_the_expected_lines_against_the_log():
    diff = trace_failure().evidence["trace"]
    states = {line["text"]: (line["state"], line["at"]) for line in diff["lines"]}
    assert states["wait_block: parent 1 waits for child 2"] == ("found", 2)
    assert states["wait_block: child 2 exits with 148"] == ("found", 5)
    assert states["wait_block: parent 1: waitpid returned 2, child exited with 148"] == ("missing", None)
    assert states["[test] pid 1 (wait_block) test_exit(0)"] == ("not reached", None)
    assert diff["kind"] == "binding" and diff["nearest"][0] == [6, WAIT_BLOCKS_LOG[5]]
    assert [n for n, _ in diff["excerpt"]] == list(range(1, 9))
    json.dumps(diff)  # records are JSON


def test_student_page_is_well_formed_and_shows_why_each_test_failed():
    run = sample_run()
    text = html_report.student_page(run)
    page = Page(text)
    assert [row[1] for row in page.rows("scoreboard")][:4] == ["remap", "wait_blocks", "translate", "heap_free"]
    assert page.by_id("total").text == "3 / 15"
    for r in run.failed:
        section = page.by_id(html_report.anchor(r.lab, r.name))
        assert r.summary.replace("\x07", "\ufffd") in section.text
    ids = [e.attrs.get("id") for e in page.elements]
    assert html_report.anchor(1, "translate") in ids and html_report.anchor(1, "remap") not in ids, \
        "passed tests have no section"
    # The trace diff: the missing line marked, the nearest log lines beside it.
    missing = page.find("tr", **{"class": "missing"})
    assert len(missing) == 1
    assert "child exited with 148" in " ".join(m.text for m in page.find("mark"))
    assert "line 6: wait_block: parent 1: waitpid returned 2, child exited with 0" in missing[0].text
    # What the kernel printed stays text: the hostile line is escaped, never markup.
    assert not page.find("script") and "</pre><script>" not in text
    assert HOSTILE.replace("\x07", "\ufffd") in page.text
    # The triage and the memory map.
    crash = page.by_id("lab1-translate")
    assert "paging_get_physical at kernel/paging.c:100" in crash.text and "0x00000008" in crash.text
    cells = [e for e in page.find("rect") if "data-key" in e.attrs]
    assert len(cells) == len(MEMORY_MAP["cells"]) and sum("data-marked" in c.attrs for c in cells) == 2
    assert "0x00030000-0x0003ffff: still owned by pid 2, which exited" in crash.text
    assert "submission <alice>" in page.text and "warning: grading uses only" in page.text


def test_memory_map_draws_each_cell_in_its_owner_color_with_the_legend():
    page = Page(svg.memory_map(MEMORY_MAP), document=False)
    cells = [e for e in page.find("rect") if "data-key" in e.attrs]
    assert "".join(c.attrs["data-key"] for c in cells) == MEMORY_MAP["cells"]
    colors = {c.attrs["data-key"]: c.attrs["fill"] for c in cells}
    assert len(set(colors.values())) == 3 and colors["K"] == "#aaaaaa"  # the map's own color wins
    legend = [(g.attrs["data-key"], int(g.attrs["data-count"])) for g in page.find("g") if "data-count" in g.attrs]
    assert legend == [(item["key"], item["count"]) for item in MEMORY_MAP["legend"]]
    assert len(page.find("path")) == len(MEMORY_MAP["marked"])
    rows = [t.text for t in page.find("text")][1:2]
    assert rows == ["0M"]  # rows labelled with their first address
    assert "pid 2 sh" in [t.text for t in page.find("title")][3]


def test_json_report_gives_the_records_back():
    run = sample_run()
    doc = json.loads(json.dumps(report.to_dict(run)))
    assert report.from_dict(doc).results == run.results
    old = {"score": 3, "max_score": 7, "seed": 1, "kernel": "x", "tests": [
        {"lab": 1, "name": "remap", "status": "passed", "score": 3, "max_score": 3, "output": "passed"},
        {"lab": 2, "name": "heap_free", "status": "failed", "score": 0, "max_score": 4, "output": "fail: leak\nmore"}]}
    again = report.from_dict(old)  # a report of an earlier version: what it has
    assert [r.summary for r in again.results] == ["passed", "fail: leak"] and again.score == 3
    Page(html_report.student_page(again))
    unfinished = {"score": 0, "max_score": 0, "seed": 1, "tests": [], "error": "grading did not finish: timeout"}
    assert "grading did not finish: timeout" in Page(html_report.student_page(report.from_dict(unfinished))).text


def test_gradescope_shows_the_same_html_for_a_failed_test(tmp_path):
    run = sample_run()
    report.write_gradescope(run, tmp_path / "results.json")
    tests = json.loads((tmp_path / "results.json").read_text())["tests"]
    assert [t["output_format"] for t in tests] == ["text", "html", "html", "html"]
    for t, r in zip(tests[1:], run.results[1:]):
        fragment = Page(t["output"], document=False)
        assert r.summary.replace("\x07", "\ufffd") in fragment.text
    assert not Page(tests[1]["output"], document=False).find("script")


def test_a_real_crash_reaches_the_page_with_its_triage(tmp_path):
    submission = make_submission("null_dereference", CORPUS["null_dereference"], tmp_path / "sub")
    page_path = tmp_path / "page.html"
    result = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--lab", "1", "--test",
                             "translate", "--quiet", "--out", str(tmp_path / "g"), "--html", str(page_path),
                             "--json", str(tmp_path / "r.json")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert f"report: {page_path}" in result.stdout, result.stdout + result.stderr
    test = json.loads((tmp_path / "r.json").read_text())["tests"][0]
    assert test["outcome"] == "panic" and test["triage"]["exception"] == "page fault"
    page = Page(page_path.read_text())
    section = page.by_id("lab1-translate")
    assert "paging_get_physical at kernel/paging.c:" in section.text and "Crash triage" in section.text
    assert "make grade TEST=translate SEED=" in section.text
