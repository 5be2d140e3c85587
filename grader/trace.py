"""Check a kernel's serial log against an expected trace.

A trace groups expected output lines into streams (one per process or kernel
activity); lines of one stream must appear in order, different streams may
interleave freely except for declared ordering edges.  The file format is
described in grader/TRACES.md.  match_trace() searches for an assignment of
expected lines to log lines and, when none exists, explains the first expected
line that could not be matched.
"""
from __future__ import annotations

import bisect
import difflib
import heapq
import itertools
import pathlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional, Sequence, Union

DEFAULT_BUDGET = 200_000
_KINDS = {"": r"\S+", "int": r"-?[0-9]+", "hex": r"(?:0[xX])?[0-9a-fA-F]+"}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_SLOT = re.compile(r"(\.\.\.|[A-Za-z_]\w*)(?::(\w+))?")
_NAME = re.compile(r"[\w.-]+")  # stream names and labels
_LABELLED = re.compile(r"@([\w.-]+)\s+(.*)")
_ALT_SEP = re.compile(r"(?<=\s)\|\|(?=\s)")

Caps = tuple[tuple[str, str, str], ...]  # (name, normalized value, text) per binding placeholder
Choice = tuple[int, Caps]  # (0-based log index, captured values)
Bound = dict[str, tuple[str, str, Optional[int]]]  # name -> (normalized, text, binder depth; None = parameter)


class TraceSyntaxError(ValueError):
    """A malformed trace; str() is "file:line: message"."""


@dataclass(frozen=True)
class Expected:
    """One expected (or forbidden) trace line: its alternatives and where it was written."""
    stream: str
    index: int  # position in its stream (for forbidden lines: in Trace.forbidden)
    label: str | None
    alternatives: tuple[str, ...]
    source_line: int
    forbidden: bool


@dataclass(frozen=True)
class Trace:
    """A parsed trace: streams in file order, forbidden lines, and ordering edges between labels."""
    name: str
    streams: dict[str, tuple[Expected, ...]]
    forbidden: tuple[Expected, ...]
    edges: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TraceFailure:
    """Why a log does not satisfy a trace (the first problem found)."""
    kind: str  # "missing" | "order" | "forbidden" | "binding" | "too-ambiguous"
    expected: Expected | None
    rendered: str
    after_line: int | None
    nearest: tuple[tuple[int, str], ...]
    message: str

    def explain(self) -> str:
        """Plain multi-line text telling a student which line is wrong and what the log holds instead."""
        if self.expected is None:
            return self.message
        what = "forbidden" if self.kind == "forbidden" else "expected"
        where = f"stream {self.expected.stream}, trace line {self.expected.source_line}"
        text = [f"{what} ({where}): {self.rendered}", "  " + self.message]
        if self.nearest:
            text[-1] += " Nearest lines in the log:"
            text += [f"    line {number}: {line}" for number, line in self.nearest]
        return "\n".join(text)


@dataclass(frozen=True)
class MatchResult:
    """Outcome of match_trace: bindings as text, positions as (stream, index) -> 0-based log index."""
    ok: bool
    bindings: dict[str, str]
    positions: dict[tuple[str, int], int]
    failure: TraceFailure | None


# ---------------------------------------------------------------- patterns

@dataclass(frozen=True)
class _Slot:
    name: str  # a placeholder name, "_" (anonymous) or "..." (any text)
    kind: str  # "", "int" or "hex"
    source: str  # as written, e.g. "{pid:int}"

    @property
    def binds(self) -> bool:
        return self.name not in ("_", "...")


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    slots: tuple[_Slot, ...]  # the binding placeholders, one per regex group
    key: str | None  # literal text before some space of every matching line (or all of it), if known


def _slot(body: str, source: str) -> _Slot:
    match = _SLOT.fullmatch(body)
    if match is None:
        raise ValueError(f"bad placeholder {source}")
    name, kind = match.group(1), match.group(2) or ""
    if kind not in _KINDS:
        raise ValueError(f"unknown placeholder type '{kind}' in {source} (known: int, hex)")
    if name == "..." and kind:
        raise ValueError(f"{{...}} takes no type: {source}")
    return _Slot(name, kind, source)


def _split(pattern: str) -> list[Union[str, _Slot]]:
    """Split a pattern into literal text and placeholders; ValueError if it is malformed."""
    pieces: list[Union[str, _Slot]] = []

    def literal(text: str) -> None:
        if pieces and isinstance(pieces[-1], str):
            pieces[-1] += text
        elif text:
            pieces.append(text)

    end = 0
    for token in _TOKEN.finditer(pattern):
        literal(pattern[end:token.start()])
        end = token.end()
        if token.group() in ("{{", "}}"):
            literal(token.group()[0])
        elif token.group(1) is None:
            brace = token.group()
            raise ValueError(f"unbalanced '{brace}' (write '{brace * 2}' for a literal brace)")
        else:
            pieces.append(_slot(token.group(1), token.group()))
    literal(pattern[end:])
    return pieces


def _compile(pattern: str, kinds: Mapping[str, str]) -> _Pattern:
    """A regex for the pattern; a binding placeholder takes its name's type from kinds."""
    pieces = _split(pattern)
    parts, slots = [], []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(re.escape(piece))
        elif piece.name == "...":
            parts.append(".*")
        elif piece.binds:
            piece = _Slot(piece.name, kinds[piece.name], piece.source)
            parts.append(f"({_KINDS[piece.kind]})")
            slots.append(piece)
        else:
            parts.append(f"(?:{_KINDS[piece.kind]})")
    prefix = pieces[0] if isinstance(pieces[0], str) else ""
    key = prefix if len(pieces) == 1 else prefix[:prefix.rfind(" ")] if " " in prefix else None
    return _Pattern(re.compile("".join(parts)), tuple(slots), key)


def _normalize(kind: str, text: str) -> str:
    if kind == "int":
        digits = text.lstrip("-").lstrip("0") or "0"
        return "-" + digits if text.startswith("-") and digits != "0" else digits
    if kind == "hex":
        return (text[2:] if text[:2] in ("0x", "0X") else text).lower().lstrip("0") or "0"
    return text


def fill(pattern: str, bindings: Mapping[str, object]) -> str:
    """Render a pattern for display: placeholders named in bindings become their value,
    '{{'/'}}' become single braces, all other placeholders stay as written.
    Raises ValueError if the pattern is malformed."""
    return "".join(
        piece if isinstance(piece, str)
        else str(bindings[piece.name]) if piece.binds and piece.name in bindings
        else piece.source
        for piece in _split(pattern))


# ----------------------------------------------------------------- parsing

class _Parser:
    """State while reading one trace file line by line."""

    def __init__(self, name: str) -> None:
        self.name, self.line, self.section = name, 0, "main"
        self.streams: dict[str, list[Expected]] = {}
        self.forbidden: list[Expected] = []
        self.labels: dict[str, Expected] = {}
        self.kinds: dict[str, tuple[str, int]] = {}  # placeholder name -> (declared type, trace line)
        self.sections: dict[str, int] = {}  # section name -> trace line where it started
        self.edges: list[tuple[str, str, int]] = []

    def error(self, message: str) -> TraceSyntaxError:
        return TraceSyntaxError(f"{self.name}:{self.line}: {message}")

    def feed(self, raw: str) -> None:
        self.line += 1
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        if text.startswith("=="):
            self.header(text[2:].strip())
        elif self.section == "order":
            self.edge(text)
        else:
            self.expected(text)

    def header(self, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise self.error("a section header is '== name' (letters, digits, '_', '.', '-')")
        if name in self.sections:
            raise self.error(f"section '{name}' was already started at trace line {self.sections[name]}")
        self.sections[name] = self.line
        self.section = name

    def edge(self, text: str) -> None:
        names = [name.strip() for name in text.split("<")]
        if len(names) < 2 or not all(_NAME.fullmatch(name) for name in names):
            raise self.error("lines in the order section look like 'label < label'")
        self.edges += [(a, b, self.line) for a, b in zip(names, names[1:])]

    def expected(self, text: str) -> None:
        label, forbidden = None, text.startswith("!")
        if text.startswith("\\"):
            text = text[1:]
        elif forbidden:
            text = text[1:].strip()
            if text.startswith("@"):
                raise self.error("a forbidden ('!') line cannot have a label")
        elif text.startswith("@"):
            match = _LABELLED.fullmatch(text)
            if match is None:
                raise self.error("a labelled line is written '@label pattern'")
            label, text = match.groups()
            if text.startswith("!"):
                raise self.error("a forbidden ('!') line cannot have a label")
            if label in self.labels:
                raise self.error(f"label '{label}' already used at trace line {self.labels[label].source_line}")
        alternatives = tuple(alt.strip() for alt in _ALT_SEP.split(f" {text} "))
        for alt in alternatives:
            self.check_pattern(alt)
        self.sections.setdefault(self.section, self.line)
        stream = self.streams.setdefault(self.section, [])
        index = len(self.forbidden) if forbidden else len(stream)
        entry = Expected(self.section, index, label, alternatives, self.line, forbidden)
        (self.forbidden if forbidden else stream).append(entry)
        if label:
            self.labels[label] = entry

    def check_pattern(self, pattern: str) -> None:
        if not pattern:
            raise self.error("empty pattern (an alternative of ' || ' is empty)")
        try:
            pieces = _split(pattern)
        except ValueError as problem:
            raise self.error(str(problem)) from None
        for slot in (p for p in pieces if isinstance(p, _Slot) and p.binds and p.kind):
            kind, line = self.kinds.setdefault(slot.name, (slot.kind, self.line))
            if kind != slot.kind:
                raise self.error(f"placeholder '{slot.name}' is declared '{slot.kind}' here "
                                 f"but '{kind}' at trace line {line}")

    def finish(self) -> Trace:
        after: dict[Expected, list[Expected]] = {}
        for lines in self.streams.values():
            for a, b in zip(lines, lines[1:]):
                after.setdefault(a, []).append(b)
        for a, b, line in self.edges:
            self.line = line
            for label in (a, b):
                if label not in self.labels:
                    raise self.error(f"unknown label '{label}'")
            if _reaches(after, self.labels[b], self.labels[a]):
                raise self.error(f"edge '{a} < {b}' creates a cycle")
            after.setdefault(self.labels[a], []).append(self.labels[b])
        streams = {name: tuple(lines) for name, lines in self.streams.items()}
        return Trace(self.name, streams, tuple(self.forbidden), tuple((a, b) for a, b, _ in self.edges))


def _reaches(after: Mapping[Expected, list[Expected]], start: Expected, goal: Expected) -> bool:
    todo, seen = [start], {start}
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        todo += [n for n in after.get(node, ()) if n not in seen]
        seen.update(after.get(node, ()))
    return False


def parse_trace(text: str, name: str = "<trace>") -> Trace:
    """Parse trace text (format in TRACES.md); raises TraceSyntaxError("name:line: message")."""
    parser = _Parser(name)
    for raw in text.splitlines():
        parser.feed(raw)
    return parser.finish()


def load_trace(path: pathlib.Path) -> Trace:
    """Read and parse a UTF-8 trace file; errors name the file as given."""
    return parse_trace(pathlib.Path(path).read_text(encoding="utf-8"), str(path))


# ---------------------------------------------------------------- matching

def _schedule(trace: Trace) -> tuple[list[Expected], list[tuple[int, ...]]]:
    """Expected lines in a topological order that keeps each stream together as far as
    edges allow, with the positions (in that order) of each line's predecessors."""
    rank = {name: r for r, name in enumerate(trace.streams)}
    lines = {(rank[e.stream], e.index): e for es in trace.streams.values() for e in es}
    labels = {e.label: key for key, e in lines.items() if e.label}
    preds = {key: [(key[0], key[1] - 1)] if key[1] else [] for key in lines}
    for a, b in trace.edges:
        if labels[a] not in preds[labels[b]]:
            preds[labels[b]].append(labels[a])
    succs: dict[tuple[int, int], list[tuple[int, int]]] = {key: [] for key in lines}
    for key, ps in preds.items():
        for p in ps:
            succs[p].append(key)
    waiting = {key: len(p) for key, p in preds.items()}
    ready = [key for key, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[tuple[int, int]] = []
    while ready:
        order.append(heapq.heappop(ready))
        for key in succs[order[-1]]:
            waiting[key] -= 1
            if waiting[key] == 0:
                heapq.heappush(ready, key)
    depth = {key: d for d, key in enumerate(order)}
    return [lines[key] for key in order], [tuple(depth[p] for p in preds[key]) for key in order]


def _find_choices(entries: Sequence[tuple[str, ...]], kinds: Mapping[str, str],
                  log: Sequence[str]) -> list[list[Choice]]:
    """For each entry (a tuple of alternative patterns) every (log index, captures) whose line
    matches one alternative, ignoring bindings; sorted by log index."""
    patterns = {alt: _compile(alt, kinds) for alts in entries for alt in alts}
    by_key: dict[str | None, list[str]] = {}
    for alt, pattern in patterns.items():
        by_key.setdefault(pattern.key, []).append(alt)
    depth = max((key.count(" ") + 1 for key in by_key if key is not None), default=0)  # splits needed
    hits: dict[str, list[Choice]] = {alt: [] for alt in patterns}
    for at, line in enumerate(log):
        candidates = list(by_key.get(None, ()))
        for prefix in itertools.accumulate(line.split(" ", depth), lambda a, b: f"{a} {b}"):
            candidates += by_key.get(prefix, ())
        for alt in candidates:
            match = patterns[alt].regex.fullmatch(line)
            caps = _captures(patterns[alt], match) if match else None
            if caps is not None:
                hits[alt].append((at, caps))
    return [sorted(dict.fromkeys(c for alt in alts for c in hits[alt]), key=lambda c: c[0]) for alts in entries]


def _captures(pattern: _Pattern, match: re.Match[str]) -> Caps | None:
    """The named values of a match, or None if one name got two different values."""
    caps = tuple((s.name, _normalize(s.kind, text), text) for s, text in zip(pattern.slots, match.groups()))
    seen: dict[str, str] = {}
    return None if any(seen.setdefault(name, norm) != norm for name, norm, _ in caps) else caps


def _clash(caps: Caps, bound: Bound) -> tuple[str, str, str] | None:
    """The first captured value that differs from an existing binding, if any."""
    return next((cap for cap in caps if cap[0] in bound and bound[cap[0]][0] != cap[1]), None)


def _kinds(trace: Trace) -> dict[str, str]:
    """The type of every placeholder name: the one declared at some use, else "" (a word)."""
    kinds: dict[str, str] = {}
    every = [e for es in trace.streams.values() for e in es] + list(trace.forbidden)
    for slot in (p for e in every for alt in e.alternatives for p in _split(alt)):
        if isinstance(slot, _Slot) and slot.binds and (slot.kind or slot.name not in kinds):
            kinds[slot.name] = slot.kind
    return kinds


def _preset(kinds: Mapping[str, str], params: Mapping[str, object]) -> Bound:
    """Bindings for the parameters the trace uses; ValueError if a value does not fit its placeholder."""
    bound: Bound = {}
    for name, value in params.items():
        if name in kinds:
            text = str(value)
            if not re.fullmatch(_KINDS[kinds[name]], text):
                raise ValueError(f"parameter {name}={text!r} does not fit {{{name}:{kinds[name] or 'word'}}}")
            bound[name] = (_normalize(kinds[name], text), text, None)
    return bound


def _windows(positions: list[list[int]], preds: list[tuple[int, ...]], end: int) -> tuple[list[int], list[int]]:
    """Earliest and latest usable log index per line when only ordering counts (no bindings,
    no sharing). Lists stop at the first line that has no usable index at all."""
    low: list[int] = []
    for k, ps in enumerate(preds):
        i = bisect.bisect_left(positions[k], max((low[p] for p in ps), default=-1) + 1)
        if i == len(positions[k]):
            break
        low.append(positions[k][i])
    limit = [end] * len(low)
    high = [0] * len(low)
    for k in reversed(range(len(low))):
        high[k] = positions[k][bisect.bisect_left(positions[k], limit[k]) - 1]
        for p in preds[k]:
            limit[p] = min(limit[p], high[k])
    return low, high


class _BudgetExceeded(Exception):
    pass


@dataclass
class _Frame:
    """Search state of one scheduled line: its options, the next one to try, and the blame so far."""
    options: list[Choice]
    next: int
    blame: set[int]
    bound_names: tuple[str, ...] = ()  # names bound by the current choice


@dataclass
class _Search:
    """Depth-first search with conflict-directed backjumping over the scheduled lines."""
    choices: list[list[Choice]]
    preds: list[tuple[int, ...]]
    bound: Bound
    budget: int
    pos: dict[int, int] = field(default_factory=dict)  # depth -> log index
    used: dict[int, int] = field(default_factory=dict)  # log index -> depth
    steps: int = 0
    deepest: int = -1  # the most lines placed when a line could not be placed
    snapshot: tuple[dict[int, int], Bound] = field(default_factory=lambda: ({}, {}))  # pos, bound then

    def run(self) -> bool:
        """Place every line: True on success (state kept), False if impossible; may raise _BudgetExceeded.
        A line that cannot be placed blames the earlier lines that caused it; the search jumps
        back to the latest of them instead of just the previous line."""
        frames: list[_Frame] = []
        while len(frames) < len(self.choices):
            k = len(frames)
            frames.append(self.open(k))
            while not self.advance(k, frames[k]):
                if k > self.deepest:
                    self.deepest, self.snapshot = k, (dict(self.pos), dict(self.bound))
                cause = frames.pop().blame
                while frames and len(frames) - 1 not in cause:  # not to blame: skip its other options
                    self.undo(len(frames) - 1, frames.pop())
                if not frames:
                    return False
                k = len(frames) - 1
                self.undo(k, frames[k])
                frames[k].blame |= cause - {k}
        self.deepest, self.snapshot = len(frames), (self.pos, self.bound)
        return True

    def open(self, k: int) -> _Frame:
        options = self.choices[k]
        start = max((self.pos[p] for p in self.preds[k]), default=-1) + 1
        blame = {p for p in self.preds[k] if self.pos[p] >= options[0][0]}  # they hid earlier options
        return _Frame(options, bisect.bisect_left(options, start, key=lambda c: c[0]), blame)

    def advance(self, k: int, frame: _Frame) -> bool:
        """Place line k at its next usable option; False (with blame updated) when none is left."""
        for i in range(frame.next, len(frame.options)):
            self.steps += 1
            if self.steps > self.budget:
                raise _BudgetExceeded
            at, caps = frame.options[i]
            if at in self.used:
                frame.blame.add(self.used[at])
            elif clash := _clash(caps, self.bound):
                binder = self.bound[clash[0]][2]
                frame.blame |= set() if binder is None else {binder}
            else:
                new = {name: (norm, text, k) for name, norm, text in caps if name not in self.bound}
                self.bound.update(new)
                self.pos[k], self.used[at] = at, k
                frame.next, frame.bound_names = i + 1, tuple(new)
                return True
        return False

    def undo(self, k: int, frame: _Frame) -> None:
        del self.used[self.pos.pop(k)]
        for name in frame.bound_names:
            del self.bound[name]


@dataclass(frozen=True)
class _Problem:
    lines: list[Expected]
    preds: list[tuple[int, ...]]
    raw: list[list[Choice]]
    high: list[int]
    log: list[str]


def _texts(bound: Bound) -> dict[str, str]:
    return {name: text for name, (_, text, _) in bound.items()}


def _render(entry: Expected, texts: Mapping[str, str]) -> str:
    return " || ".join(fill(alt, texts) for alt in entry.alternatives)


def _nearest(patterns: Sequence[str], log: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """Up to three log lines most similar to one of the patterns (difflib ratio > 0), best first,
    ties favouring earlier lines; as (1-based line number, text)."""
    matchers = [difflib.SequenceMatcher(None, "", p, autojunk=False) for p in patterns]
    best: list[tuple[float, int]] = []
    for at, line in enumerate(log):
        floor = best[-1][0] if len(best) == 3 else 0.0
        score = 0.0
        for m in matchers:
            m.set_seq1(line)
            if m.real_quick_ratio() > floor and m.quick_ratio() > floor:
                score = max(score, m.ratio())
        if score > floor:
            best = sorted(best + [(score, at)], key=lambda b: (-b[0], b[1]))[:3]
    return tuple((at + 1, log[at]) for _, at in best)


def _diagnose(k: int, problem: _Problem, pos: dict[int, int], bound: Bound) -> TraceFailure:
    """Explain why scheduled line k could not be placed given the partial match (pos, bound)."""
    entry, texts, log = problem.lines[k], _texts(bound), problem.log
    used = {at: d for d, at in pos.items()}
    last = max(problem.preds[k], key=pos.__getitem__, default=None)
    after = None if last is None else pos[last] + 1

    def failure(kind: str, message: str) -> TraceFailure:
        nearest = _nearest([fill(alt, texts) for alt in entry.alternatives], log)
        return TraceFailure(kind, entry, _render(entry, texts), after, nearest, message)

    def describe(d: int) -> str:
        other = problem.lines[d]
        return f'"{_render(other, texts)}" (stream {other.stream}, trace line {other.source_line})'

    raw = problem.raw[k]
    if not raw:
        return failure("missing", f"not found after log line {after} (no line in the log matches it)."
                       if after else "not found: no line in the log matches it.")
    later = [(at, caps) for at, caps in raw if at >= (after or 0)]
    if not later:
        prior = problem.lines[last]
        edge = "" if prior.stream == entry.stream else f"; order edge {prior.label} < {entry.label}"
        return failure("order", f'found at line {raw[-1][0] + 1}, but it must come after '
                                f'"{_render(prior, texts)}" (line {after}{edge}).')
    free = [(at, caps) for at, caps in later if at not in used]
    for at, caps in free:
        clash = _clash(caps, bound)
        if clash:
            name, _, found = clash
            binder = bound[name][2]
            origin = "set by the lab parameters" if binder is None else f"bound at line {pos[binder] + 1}"
            return failure("binding", f'line {at + 1} is "{log[at]}", but expected {name}={bound[name][1]} '
                                      f"({origin}), found {found}.")
    if free:
        succ = min((s for s in range(len(problem.high)) if k in problem.preds[s]), key=problem.high.__getitem__)
        return failure("order", f"found at line {free[0][0] + 1}, but it must come before {describe(succ)}, "
                                f"which cannot be matched after line {problem.high[succ] + 1}.")
    return failure("missing", f"not found{f' after log line {after}' if after else ''}: every matching line "
                              f"is already matched by another expected line (line {later[0][0] + 1} by "
                              f"{describe(used[later[0][0]])}); each expected line needs its own log line.")


def _forbidden(trace: Trace, choices: list[list[Choice]], bound: Bound, log: list[str]) -> TraceFailure | None:
    """The earliest log line matching a forbidden line under the final bindings, as a failure."""
    hits = [(at, i) for i, options in enumerate(choices) for at, caps in options if not _clash(caps, bound)]
    if not hits:
        return None
    at, i = min(hits)
    entry = trace.forbidden[i]
    return TraceFailure("forbidden", entry, _render(entry, _texts(bound)), None, (),
                        f'this line must not appear, but log line {at + 1} is "{log[at]}".')


def match_trace(trace: Trace, lines: Sequence[str], params: Mapping[str, object] = MappingProxyType({}),
                *, budget: int = DEFAULT_BUDGET) -> MatchResult:
    """Decide whether the log lines satisfy the trace (rules in TRACES.md).

    params pre-bind placeholders (ValueError if a value does not fit its type).  On success,
    positions maps (stream, index) to the 0-based log index used.  On failure, failure
    describes the first expected line that could not be matched (positions then holds the
    lines placed before it, as reports show them), or a forbidden line that appeared
    (positions holds the otherwise successful match), or that more than `budget` search
    steps were needed ("too-ambiguous"; positions is empty)."""
    if isinstance(lines, str):
        raise TypeError("match_trace takes a sequence of lines, not one string (use text.splitlines())")
    log = [line.rstrip() for line in lines]
    order, preds = _schedule(trace)
    kinds = _kinds(trace)
    preset = _preset(kinds, params)
    found = _find_choices([e.alternatives for e in order] + [e.alternatives for e in trace.forbidden], kinds, log)
    raw, banned = found[:len(order)], found[len(order):]
    allowed = [[c for c in options if not _clash(c[1], preset)] for options in raw]
    low, high = _windows([[at for at, _ in options] for options in allowed], preds, len(log))
    choices = [[c for c in allowed[k] if low[k] <= c[0] <= high[k]] for k in range(len(low))]
    search = _Search(choices, preds, dict(preset), budget)
    try:
        search.run()
    except _BudgetExceeded:
        message = (f"the trace is too ambiguous: gave up after {budget} search steps. "
                   "Make its expected lines more specific (fewer {...} and {_} placeholders).")
        failure = TraceFailure("too-ambiguous", None, "", None, (), message)
        return MatchResult(False, _texts(search.bound), {}, failure)
    pos, bound = search.snapshot
    positions = {(order[d].stream, order[d].index): at for d, at in pos.items()}
    if search.deepest < len(order):
        problem = _Problem(order, preds, raw, high, log)
        return MatchResult(False, _texts(bound), positions, _diagnose(search.deepest, problem, pos, bound))
    failure = _forbidden(trace, banned, bound, log)
    return MatchResult(failure is None, _texts(bound), positions, failure)
