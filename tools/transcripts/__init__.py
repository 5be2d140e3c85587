"""Transcripts in the handouts, made from the kit itself.

Every command output, GDB session and grader report a handout quotes sits in
a fenced block right after a marker (an HTML comment) that says what makes
it; kinds.py lists the kinds and their options. `make transcripts` (python3
-m tools.transcripts) runs every marker's generator against the current kit
and rewrites the blocks; `make check` runs the same generators and fails
when a block differs from what the kit prints now (grader/tests/
test_transcripts.py, and test_mistakes.py for the reports on known
mistakes, which it grades anyway). Only what varies between two runs of the
same kit (timings, the per-run token) is masked: normalize.py.

    markdown.py    markers and their blocks, headings, anchors, links
    kinds.py       the kinds of blocks; the kernels they run; reports on mistakes
    sessions.py    GDB sessions, make qemu-gdb and make qemu-nox, as a student runs them
    console.py     the processes those run, read as they print
    plan.py        markers grouped into runs that share a boot or a grading
    normalize.py   a student's paths; what a comparison ignores
    gdb_driver.py  types a session's commands inside GDB
"""
