"""Stubs: the body a gap function has before a student writes it, and the
stubs grading adds for the lab functions a submission lacks.

A lab function starts as a stub that stops the kernel, naming the function,
its lab and its handout (kernel/panic.c, gap_not_implemented). The skeleton
generator (tools/skeleton.py) writes those stubs into kernel/; grading adds
the same stub, after the submission's own code, for each lab function a gap
file never mentions: a submission written before a lab was added still
builds, keeps its grades on the earlier labs, and gets "not implemented" on
the new one. The stub's signature comes from the function's declaration in
the headers gap files include (where every lab function is declared), so
this works wherever the grader runs: the kit, a student's tree, the
Gradescope package.
"""
from __future__ import annotations

import re
from pathlib import Path

from .build import ALLOWED_INCLUDES, ROOT
from .labs import Lab, all_labs

_COMMENT_OR_STRING = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.DOTALL)
_ATTRIBUTE = re.compile(r"__attribute__\s*\(\(.*?\)\)", re.DOTALL)


def body(lab: int, handout: str) -> list[str]:
    """The lines of the stub body of a function of lab `lab`, braces
    included; `handout` is the handout's file name."""
    return ["{\n", f"    // Lab {lab}: your code here.\n",
            f'    gap_not_implemented(__func__, {lab}, "{handout}");\n', "}\n"]


def code_only(text: str) -> str:
    """C source without its comments and string or character literals."""
    return _COMMENT_OR_STRING.sub(lambda m: " " if m.group(0)[0] in "/" else '""', text)


def mentions(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", code_only(text)) is not None


def declaration(name: str) -> tuple[str, str]:
    """The declaration of lab function `name` in the headers gap files may
    include, without attributes or the final ';', and that header's name."""
    for header in sorted(ALLOWED_INCLUDES):
        for folder in (ROOT / "kernel", ROOT / "kernel" / "include"):
            path = folder / header
            if not path.is_file():
                continue
            code = code_only(path.read_text())
            m = re.search(rf"(?:^|[;{{}}]|\n#[^\n]*)\s*(?P<decl>[^;{{}}#]*\b{re.escape(name)}\s*\([^;{{}}]*\))"
                          rf"[^;{{}}]*;", code)
            if m:
                return " ".join(_ATTRIBUTE.sub("", m["decl"]).split()), header
    raise LookupError(f"no declaration of {name}() in the headers gap files may include "
                      f"({', '.join(sorted(ALLOWED_INCLUDES))})")


def missing(gap: str, text: str, labs: list[Lab]) -> list[tuple[Lab, str]]:
    """The lab functions of gap file `gap` that `text` never mentions."""
    return [(lab, f) for lab in labs if lab.file == gap for f in lab.functions if not mentions(text, f)]


def add_missing(path: Path, labs: list[Lab] | None = None) -> list[str]:
    """Appends to gap file `path` a stub for each lab function it never
    mentions; returns a note for each, for the report."""
    labs = all_labs() if labs is None else labs
    text = path.read_text(errors="replace")
    absent = missing(path.name, text, labs)
    if not absent:
        return []
    added = ["\n// Added by the grader: the lab functions this file does not have, as stubs.\n",
             '#include "kprintf.h"\n']
    for lab, function in absent:
        decl, header = declaration(function)
        added += [f'#include "{header}"\n', f"{decl}\n", *body(lab.number, lab.handout.removeprefix("handouts/")), "\n"]
    path.write_text(text + "".join(added))
    return [f"{path.name} has no {f}() (lab {lab.number}): graded with its stub, \"not implemented\""
            for lab, f in absent]
