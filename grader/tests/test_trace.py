"""Unit tests for grader.trace (trace parsing and log matching)."""
import itertools

import pytest

from grader.trace import (Expected, MatchResult, TraceSyntaxError, fill, load_trace, match_trace,
                          parse_trace)

FORK = """\
# fork test: parent and child run concurrently
== parent
forktest: parent pid={ppid:int}
@forked forktest: fork returned {cpid:int}
forktest: parent done
== child
@cstart forktest: child running, pid={cpid:int}
forktest: child exits with {code} || forktest: child killed
!forktest: child {cpid} after exit
== order
forked < cstart
"""

FORK_LOG = [
    "xv6 kernel is booting",
    "forktest: parent pid=3",
    "forktest: fork returned 4",
    "forktest: child running, pid=4",
    "forktest: parent done",
    "forktest: child exits with 0",
]


def match(trace_text: str, log, params=None, **kw) -> MatchResult:
    return match_trace(parse_trace(trace_text, "t.trace"), log, params or {}, **kw)


def failure(trace_text: str, log, params=None, **kw):
    result = match(trace_text, log, params, **kw)
    assert not result.ok and result.failure is not None
    return result.failure


# ------------------------------------------------------------------ parsing

def test_parse_streams_labels_alternatives_forbidden_and_edges():
    trace = parse_trace(FORK, "fork.trace")
    assert trace.name == "fork.trace"
    assert list(trace.streams) == ["parent", "child"]
    parent, child = trace.streams["parent"], trace.streams["child"]
    assert [e.alternatives for e in parent] == [("forktest: parent pid={ppid:int}",),
                                                ("forktest: fork returned {cpid:int}",),
                                                ("forktest: parent done",)]
    assert parent[1] == Expected("parent", 1, "forked", ("forktest: fork returned {cpid:int}",), 4, False)
    assert child[1].alternatives == ("forktest: child exits with {code}", "forktest: child killed")
    assert [e.label for e in child] == ["cstart", None]
    assert trace.forbidden == (Expected("child", 0, None, ("forktest: child {cpid} after exit",), 9, True),)
    assert trace.edges == (("forked", "cstart"),)


def test_parse_implicit_main_comments_blank_lines_and_escape():
    trace = parse_trace("  # indented comment\n\n  first line  \n\\!bang # not a comment\n== other\nx\n")
    assert list(trace.streams) == ["main", "other"]
    assert [e.alternatives[0] for e in trace.streams["main"]] == ["first line", "!bang # not a comment"]
    assert [e.source_line for e in trace.streams["main"]] == [3, 4]
    assert not trace.forbidden


def test_parse_order_chain_and_load_trace(tmp_path):
    path = tmp_path / "chain.trace"
    path.write_text("== a\n@x one\n@y two\n== b\n@z three\n== order\nx < z < y\n", encoding="utf-8")
    trace = load_trace(path)
    assert trace.name == str(path)
    assert trace.edges == (("x", "z"), ("z", "y"))


@pytest.mark.parametrize("text, line, words", [
    ("ok\nx {n:float}", 2, "unknown placeholder type 'float'"),
    ("x {n", 1, "unbalanced '{'"),
    ("x } y", 1, "unbalanced '}'"),
    ("x {1n}", 1, "bad placeholder {1n}"),
    ("x {...:int}", 1, "takes no type"),
    ("x {a:int}\ny {a}\nz {a:hex}", 3, "placeholder 'a' is declared 'hex' here but 'int' at trace line 1"),
    ("!@lab x", 1, "cannot have a label"),
    ("@lab !x", 1, "cannot have a label"),
    ("@lab", 1, "'@label pattern'"),
    ("@a x\n@a y", 2, "label 'a' already used at trace line 1"),
    ("a ||  || b", 1, "empty pattern"),
    ("a ||", 1, "empty pattern"),
    ("!", 1, "empty pattern"),
    ("== s\nx\n== s", 3, "section 's' was already started at trace line 1"),
    ("== two words", 1, "section header"),
    ("== order\nnot an edge", 2, "'label < label'"),
    ("@a x\n== order\na < nope", 3, "unknown label 'nope'"),
    ("@a x\n@b y\n== order\nb < a", 4, "creates a cycle"),
    ("@a x\n== order\na < a", 3, "creates a cycle"),
    ("== s\n@a x\n== t\n@b y\n== order\na < b\n\nb < a", 8, "edge 'b < a' creates a cycle"),
])
def test_syntax_errors_name_file_and_line(text, line, words):
    with pytest.raises(TraceSyntaxError) as caught:
        parse_trace(text, "lab.trace")
    assert str(caught.value).startswith(f"lab.trace:{line}: ")
    assert words in str(caught.value)


def test_fill_renders_known_values_and_literal_braces():
    assert fill("pid={pid:int} {x} {_} {...} {{set}}", {"pid": 7}) == "pid=7 {x} {_} {...} {set}"


# ----------------------------------------------------------------- matching

def test_in_order_match_with_extra_lines():
    result = match_trace(parse_trace(FORK), FORK_LOG)
    assert result.ok and result.failure is None
    assert result.bindings == {"ppid": "3", "cpid": "4", "code": "0"}
    assert result.positions == {("parent", 0): 1, ("parent", 1): 2, ("parent", 2): 4,
                                ("child", 0): 3, ("child", 1): 5}


def test_empty_trace_matches_anything():
    assert match("", []).ok and match("# nothing\n", ["x"]).ok


def test_out_of_order_inside_a_stream():
    fail = failure("one\ntwo\nthree", ["one", "three", "two"])
    assert fail.kind == "order"
    assert fail.rendered == "three" and fail.after_line == 3
    assert 'found at line 2, but it must come after "two" (line 3)' in fail.message


def test_two_streams_match_under_every_interleaving():
    a, b = ["a: 1", "a: 2", "a: 3"], ["b: 1", "b: 2", "b: 3"]
    trace = parse_trace("== a\n" + "\n".join(a) + "\n== b\n" + "\n".join(b))
    count = 0
    for slots in itertools.combinations(range(6), 3):
        queues = [iter(a), iter(b)]
        log = [next(queues[0] if i in slots else queues[1]) for i in range(6)]
        result = match_trace(trace, ["noise"] + log + ["noise"])
        assert result.ok, log
        assert [result.positions[("a", i)] - 1 for i in range(3)] == list(slots)
        count += 1
    assert count == 20


def test_violated_edge_fails_with_order():
    log = ["forktest: parent pid=3", "forktest: child running, pid=4",
           "forktest: fork returned 4", "forktest: parent done", "forktest: child killed"]
    fail = failure(FORK, log)
    assert fail.kind == "order" and fail.expected.label == "cstart"
    assert 'found at line 2, but it must come after "forktest: fork returned 4" (line 3' in fail.message
    assert "order edge forked < cstart" in fail.message


def test_line_that_comes_too_late_for_its_successor():
    fail = failure("== a\nhello\nx\n== b\nhello\nbye", ["hello", "x", "bye", "hello"])
    assert fail.kind == "order" and fail.expected.stream == "b"
    assert 'found at line 4, but it must come before "bye" (stream b, trace line 6)' in fail.message


def test_backtracks_when_greedy_choice_breaks_a_later_binding():
    result = match("== a\nstart {x:int}\n== b\nack {x:int}", ["start 1", "start 2", "ack 2"])
    assert result.ok
    assert result.bindings == {"x": "2"} and result.positions[("a", 0)] == 1


def test_each_expected_line_needs_its_own_log_line():
    text = "== a\nhello\n== b\nhello"
    fail = failure(text, ["hello", "other"])
    assert fail.kind == "missing" and fail.expected.stream == "b"
    assert "already matched by another expected line" in fail.message
    assert 'line 1 by "hello" (stream a, trace line 2)' in fail.message
    result = match(text, ["hello", "other", "hello"])
    assert result.ok and {result.positions[("a", 0)], result.positions[("b", 0)]} == {0, 2}


def test_binding_must_be_consistent_across_streams():
    log = list(FORK_LOG)
    log[3] = "forktest: child running, pid=5"
    fail = failure(FORK, log)
    assert fail.kind == "binding" and fail.expected.label == "cstart"
    assert fail.rendered == "forktest: child running, pid=4"
    assert "expected cpid=4 (bound at line 3), found 5" in fail.message


def test_int_and_hex_values_compare_as_numbers():
    assert match("a {v:int}\nb {v:int}", ["a 007", "b 7"]).ok
    assert match("a {v:int}\nb {v:int}", ["a -0", "b 0"]).ok
    assert not match("a {v:int}\nb {v:int}", ["a 7", "b -7"]).ok
    assert match("a {p:hex}\nb {p:hex}", ["a 0x00FF", "b ff"]).ok
    assert not match("a {p:hex}\nb {p:hex}", ["a 0x1f", "b 0x1e"]).ok
    assert not match("a {v:int}", ["a 0x1f"]).ok
    assert match("a {w}\nb {w}", ["a 007", "b 007"]).ok
    assert match("a {v}\nb {v:int}", ["a 007", "b 7"]).ok  # an undeclared use takes the declared type
    assert not match("a {v}\nb {v:int}", ["a x7", "b 7"]).ok
    assert not match("a {w}\nb {w}", ["a 007", "b 7"]).ok


def test_anonymous_any_text_and_literal_braces():
    assert match("x {_} {_}", ["x 1 2"]).ok
    assert not match("x {_}", ["x 1 2"]).ok
    assert match("start{...}end", ["startend"]).ok and match("start{...}end", ["start  a b end"]).ok
    assert match("set {{a, b}}", ["set {a, b}"]).ok
    assert match("a  b {_}\na  b\na b{_} c", ["a  b 1", "a  b", "a b2 c"]).ok  # literal prefixes with spaces
    assert match("{_}: go {_:int}", ["p1: go 5"]).bindings == {}


def test_same_name_twice_in_one_line_must_agree():
    assert match("{a}+{a}", ["1+1"]).ok
    assert failure("{a}+{a}", ["1+2"]).kind == "missing"


def test_params_prebind_placeholders():
    trace = "child exits with {code:int}"
    assert match(trace, ["child exits with 042"], {"code": 42, "unused": "x"}).ok
    fail = failure(trace, ["child exits with 41"], {"code": 42})
    assert fail.kind == "binding" and fail.rendered == "child exits with 42"
    assert "expected code=42 (set by the lab parameters), found 41" in fail.message
    with pytest.raises(ValueError, match="code"):
        match(trace, [], {"code": "forty"})


def test_alternatives_any_one_may_match():
    trace = "start\nexit {code:int} || killed || {_} panicked"
    for last in ["exit 0", "killed", "cpu0 panicked"]:
        assert match(trace, ["start", last]).ok, last
    fail = failure(trace, ["start", "exit"])
    assert fail.rendered == "exit {code:int} || killed || {_} panicked"


def test_forbidden_lines_use_the_final_bindings():
    ok_log = FORK_LOG + ["forktest: child 9 after exit"]
    assert match_trace(parse_trace(FORK), ok_log).ok
    result = match_trace(parse_trace(FORK), FORK_LOG + ["forktest: child 4 after exit"])
    assert not result.ok and result.positions[("child", 0)] == 3
    assert result.failure.kind == "forbidden" and result.failure.rendered == "forktest: child 4 after exit"
    assert "log line 7" in result.failure.message
    assert result.failure.explain().startswith("forbidden (stream child, trace line 9): forktest: child 4 after")
    fail = failure("go\n!panic {why}", ["go", "boot", "panic oom"])
    assert fail.kind == "forbidden" and "log line 3" in fail.message


def test_trailing_whitespace_and_cr_are_ignored_but_leading_spaces_count():
    assert match("   hello world  ", ["hello world \r", "x"]).ok
    assert match("tab\tsep", ["tab\tsep\t\r"]).ok
    assert not match("hello", ["  hello"]).ok


def test_log_must_be_split_into_lines():
    with pytest.raises(TypeError, match="splitlines"):
        match("hello", "hello\n")


def test_non_ascii_lines():
    result = match("héllo {who} \ufffd\nok ✓", ["héllo wörld \ufffd", "ok ✓"])
    assert result.ok and result.bindings == {"who": "wörld"}


def test_step_budget_stops_pathological_search_quickly():
    trace = "\n".join(f"== s{i}\np {{_}}" for i in range(12))
    fail = failure(trace, [f"p {i}" for i in range(11)])  # the budget bounds the work, not a clock
    assert fail.kind == "too-ambiguous" and fail.expected is None
    assert "too ambiguous" in fail.message and "200000" in fail.explain()


def test_missing_line_explain_lists_nearest_lines_with_numbers():
    log = ["forktest: parent pid=3", "forktest: fork returned 20", "forktest: child running, pid=20",
           "forktest: parent done", "forktest: child exits with 41", "forktest: child killed by page fault"]
    fail = failure(FORK, log, {"code": 42})
    assert fail.kind == "binding"
    fail = failure(FORK, log[:4] + log[5:], {"code": 42})
    assert fail.kind == "missing" and fail.after_line == 3
    assert fail.explain() == (
        "expected (stream child, trace line 8): forktest: child exits with 42 || forktest: child killed\n"
        "  not found after log line 3 (no line in the log matches it). Nearest lines in the log:\n"
        "    line 5: forktest: child killed by page fault\n"
        "    line 3: forktest: child running, pid=20\n"
        "    line 4: forktest: parent done")


def test_missing_first_line_has_no_after_line():
    fail = failure("never printed", ["a", "b"])
    assert fail.kind == "missing" and fail.after_line is None
    assert fail.message == "not found: no line in the log matches it."


def test_large_log_matches_without_searching():
    trace = "\n".join(f"== p{j}\n" + "\n".join(f"p{j}: step {i} v={{v{j}:int}}" for i in range(25))
                      for j in range(4))
    log = [f"kernel: noise {i}" for i in range(10000)]
    for j in range(4):
        for i in range(25):
            log[i * 97 + j * 13 + 5] = f"p{j}: step {i} v={j}"
    # 100 expected lines among 10,000: placed in about one search step each
    # (steps, not seconds: the same on any machine, loaded or not).
    assert match(trace, log, budget=2 * 100).ok
    assert not match(trace, log, budget=50).ok, "the budget is what the search is measured against"


def _brute_force_ok(trace, log) -> bool:
    """Reference matcher for word-only patterns: try every assignment of expected lines to log lines."""
    lines = [e for es in trace.streams.values() for e in es]
    where = {e.label: i for i, e in enumerate(lines) if e.label}

    def bind(pattern, line, bound):
        words, got = pattern.split(" "), line.split(" ")
        if len(words) != len(got):
            return None
        bound = dict(bound)
        for w, g in zip(words, got):
            if w.startswith("{") and w != "{_}":
                if bound.setdefault(w, g) != g:
                    return None
            elif w != "{_}" and w != g:
                return None
        return bound

    def search(i, chosen, bound):
        if i == len(lines):
            return all(chosen[where[a]] < chosen[where[b]] for a, b in trace.edges)
        e = lines[i]
        for at, line in enumerate(log):
            if at in chosen or (e.index and at <= chosen[i - 1]):
                continue
            for alt in e.alternatives:
                new = bind(alt, line, bound)
                if new is not None and search(i + 1, chosen + [at], new):
                    return True
        return False

    return search(0, [], {})


def test_agrees_with_brute_force_on_random_small_cases():
    import random
    rng = random.Random(7)
    vocab = ["x", "y", "x {v}", "y {v}", "{_} 1", "x 2 || y {v}"]
    checked = 0
    while checked < 300:
        streams = {s: [rng.choice(vocab) for _ in range(rng.randint(0, 3))] for s in "ab"}
        text = ""
        for s, pats in streams.items():
            text += f"== {s}\n" + "".join(f"@{s}{i} {p}\n" for i, p in enumerate(pats))
        labels = [f"{s}{i}" for s, pats in streams.items() for i in range(len(pats))]
        if len(labels) >= 2 and rng.random() < 0.5:
            a, b = rng.sample(labels, 2)
            text += f"== order\n{a} < {b}\n"
        try:
            trace = parse_trace(text)
        except TraceSyntaxError:
            continue
        log = [rng.choice(["x", "y", "x 1", "x 2", "y 1", "y 2", "z"]) for _ in range(rng.randint(0, 6))]
        assert match_trace(trace, log).ok == _brute_force_ok(trace, log), (text, log)
        checked += 1
