"""Report formats: JSON, JUnit XML and Gradescope's results.json, written
from result records (no QEMU involved)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from grader import report
from grader.gradebook import StudentRecord, summary, write_grades
from grader.results import FAILED, PASSED, TestResult, load_all, save

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def sample_run() -> report.Run:
    ok = TestResult(1, "remap", "remapping is seen at once", PASSED, 3, 3, "passed", "", 0.2, "visible")
    bad = TestResult(2, "heap_free", "freeing returns the frame", FAILED, 0, 4, "fail: leak \x07",
                     "FAIL lab 2 heap_free\n  | bad byte \x1b[31m", 0.3, "hidden")
    return report.Run((ok, bad), seed=42, kernel="submission x", seconds=1.5, notes=("a note",))


def test_json_has_the_documented_keys(tmp_path):
    report.write_json(sample_run(), tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert (doc["score"], doc["max_score"], doc["seed"]) == (3, 7, 42)
    for test in doc["tests"]:
        assert {"lab", "name", "status", "score", "max_score", "output", "flags"} <= set(test)
    assert doc["tests"][1]["status"] == "failed" and "heap_free" in doc["tests"][1]["output"]


def test_gradescope_results(tmp_path):
    report.write_gradescope(sample_run(), tmp_path / "results.json")
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["score"] == 3 and isinstance(doc["execution_time"], int)
    assert doc["visibility"] in VISIBILITIES and doc["stdout_visibility"] in VISIBILITIES
    assert len(doc["tests"]) == 2
    for test in doc["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "number"} <= set(test)
        assert test["status"] in {"passed", "failed"} and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
    assert doc["tests"][1]["visibility"] == "hidden"
    assert sum(t["score"] for t in doc["tests"]) == doc["score"]


def test_junit_is_well_formed_xml_even_with_control_bytes(tmp_path):
    report.write_junit(sample_run(), tmp_path / "junit.xml")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("failures") == "1"
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["remap", "heap_free"]
    assert cases[1].find("failure") is not None and cases[0].find("failure") is None


def test_scoreboard_shows_every_test_and_the_total():
    text = report.scoreboard(sample_run())
    assert "remap" in text and "heap_free" in text and "FAIL" in text
    assert text.splitlines()[-1].startswith("total 3/7")


def test_records_round_trip_and_survive_junk(tmp_path):
    record = sample_run().results[1]
    save(record, tmp_path)
    (tmp_path / "lab9-broken.json").write_text("{not json")
    assert load_all(tmp_path) == {(2, "heap_free"): record}


def test_review_flags_reach_every_report_and_the_batch_summary(tmp_path):
    flag = "read the kernel's code as data (at memcmp+0x1a, called from init_paging+0x45 in paging.c)"
    ok, bad = sample_run().results
    flagged = report.Run((TestResult(**{**ok.__dict__, "flags": (flag,)}), bad), 42, "submission x", 1.5)
    assert flag in report.scoreboard(flagged) and "flagged for review: 1 tests" in report.scoreboard(flagged)
    assert flagged.score == 3, "flags change no points"
    report.write_json(flagged, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["tests"][0]["flags"] == [flag]
    report.write_gradescope(flagged, tmp_path / "results.json")
    test = json.loads((tmp_path / "results.json").read_text())["tests"][0]
    assert flag in test["output"] and test["extra_data"]["review_flags"] == [flag]
    report.write_junit(flagged, tmp_path / "junit.xml")
    reviews = [p.get("value") for p in ET.parse(tmp_path / "junit.xml").iter("property") if p.get("name") == "review"]
    assert reviews == [flag]
    record = StudentRecord("ann", "subs/ann", "submission ann", 42, 1.0, flagged.results)
    assert StudentRecord.from_json(record.to_json()).tests[0].flags == (flag,), "a batch record keeps the flags"
    rows = write_grades([record], tmp_path / "b" / "grades.csv")
    assert rows[0][-1] == "review" and flag in rows[1][-1]
    assert f"review ann: remap: {flag}" in summary(rows)
