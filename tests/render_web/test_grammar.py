"""The target grammar: literals, paths, calls, pipes and where errors are reported.

Reference: graphite-web 1.1.10 `render/grammar_unsafe.py` (pyparsing) and
`render/evaluator.py` (how tokens become Python values).
"""

from __future__ import annotations

import math

import pytest

from render_web.functions.registry import InputError
from render_web.grammar import Call, GrammarError, PathExpr, parse_target, path_expressions


def args_of(text: str) -> tuple:
    node = parse_target(text)
    assert isinstance(node, Call)
    return node.args


def only_arg(text: str):
    (arg,) = args_of(text)
    return arg


def error_of(text: str) -> GrammarError:
    with pytest.raises(GrammarError) as caught:
        parse_target(text)
    return caught.value


# -- literals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("f(0)", 0),
    ("f(42)", 42),
    ("f(-3)", -3),
    ("f(007)", 7),
    ("f(2.5)", 2.5),
    ("f(-0.25)", -0.25),
    # scientific: <int|float> e <int>, always a float (graphite's float(token))
    ("f(1e3)", 1000.0),
    ("f(1E3)", 1000.0),
    ("f(1.5e-2)", 0.015),
    ("f(-2E2)", -200.0),
])
def test_numbers(text: str, value: float) -> None:
    arg = only_arg(text)
    assert arg == value
    assert type(arg) is type(value)


@pytest.mark.parametrize(("text", "value"), [
    ("f(true)", True), ("f(TRUE)", True), ("f(True)", True), ("f(tRuE)", True),
    ("f(false)", False), ("f(FALSE)", False), ("f(False)", False),
])
def test_booleans_any_case(text: str, value: bool) -> None:
    assert only_arg(text) is value


@pytest.mark.parametrize("text", ["f(None)", "f(none)", "f(NONE)"])
def test_none(text: str) -> None:
    assert only_arg(text) is None


@pytest.mark.parametrize("text", ["f(inf)", "f(INF)", "f(Inf)"])
def test_inf(text: str) -> None:
    assert only_arg(text) == math.inf


@pytest.mark.parametrize(("text", "value"), [
    ('f("a b")', "a b"),
    ("f('a b')", "a b"),
    ('f("")', ""),
    ("f('')", ""),
    # the other quote is an ordinary character
    ('f("it\'s")', "it's"),
    ("f('say \"hi\"')", 'say "hi"'),
    # backslashes are kept as written (aliasSub's "\1" must reach re.sub)
    (r'f("a\1b")', r"a\1b"),
    (r'f("\d+")', r"\d+"),
    (r'f("a\"b")', r"a\"b"),
    (r"f('a\'b')", r"a\'b"),
    # pyparsing's quotedString takes a doubled quote as part of the string
    ('f("a""b")', 'a""b'),
    # characters that would end a path mean nothing inside a string
    ('f("a,b)|c(d")', "a,b)|c(d"),
    ('f("5min")', "5min"),
])
def test_strings(text: str, value: str) -> None:
    assert only_arg(text) == value


def test_mixed_literals_in_order() -> None:
    assert args_of("f(1, 2.5, -3, 1e3, true, None, inf, 'x', \"y\")") == (
        1, 2.5, -3, 1000.0, True, None, math.inf, "x", "y")


@pytest.mark.parametrize(("text", "path"), [
    # a number must be followed by `,` `)` or the end, else it is a path
    ("f(1foo)", "1foo"),
    ("f(1.5.x)", "1.5.x"),
    ("f(123.456.789)", "123.456.789"),
    ("f(1e)", "1e"),
    ("f(1e+3)", "1e+3"),
    ("f(-1h)", "-1h"),
    ("f(-inf)", "-inf"),
    # a keyword is one only as a whole word
    ("f(trueish)", "trueish"),
    ("f(none_of_them)", "none_of_them"),
    ("f(infra.cpu)", "infra.cpu"),
    ("f(true.x)", "true.x"),
    ("f(None.a)", "None.a"),
])
def test_words_that_are_paths(text: str, path: str) -> None:
    assert only_arg(text) == PathExpr(path)


def test_number_followed_by_space_then_delimiter_is_a_number() -> None:
    assert args_of("f(1 , 2 )") == (1, 2)


def test_number_before_a_pipe_is_a_path() -> None:
    # graphite: afterNumber is only `,` `)` or the end, so `1|g()` is the path `1` piped.
    assert only_arg("f(1|g())") == Call("g", (PathExpr("1"),), (), "1|g()")


# -- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "a",
    "a.b.c",
    "carbon.agents.*.cpuUsage",
    "a.b?.c",
    "a.[abc].d",
    "a.[a-z]x.d",
    "a.[!a].d",
    "a.{b,c}.d",
    "a.x{b,c}y.d",
    "a.{b,c}{d,e}",
    "a.{b,c}.*",
    "servers.web-01.load",
    "a;tag=value",
    "a.b;x=1;y=2",
    "a:b.c~d",
    "a.b_c.D9",
    "1.2.3",
    "*",
    "**",
    "a.b=c",
    "~user.stats",
])
def test_path_characters(text: str) -> None:
    assert parse_target(text) == PathExpr(text)


def test_braces_keep_their_comma_inside_a_call() -> None:
    assert args_of("f(a.{b,c}.d, 2)") == (PathExpr("a.{b,c}.d"), 2)


@pytest.mark.parametrize(("text", "path"), [
    (r"a\(b", "a(b"),
    (r"a\)b", "a)b"),
    (r"a\,b", "a,b"),
    (r"a\|b", "a|b"),
    (r"a\{b\}", "a{b}"),
    (r"a\=b", "a=b"),
    (r"a\'b", "a'b"),
    (r'a\"b', 'a"b'),
    (r"a\\b", "a\\b"),
    (r"a\ b", "a b"),
    (r"a\..b", "a..b"),  # an escaped dot is a character of the node, not a separator
])
def test_backslash_escapes_in_paths(text: str, path: str) -> None:
    assert parse_target(text) == PathExpr(path)


def test_escaped_comma_inside_a_call() -> None:
    assert args_of(r"f(a\,b, 1)") == (PathExpr("a,b"), 1)


# -- calls --------------------------------------------------------------------------------


def test_call_without_arguments() -> None:
    assert parse_target("f()") == Call("f", (), (), "f()")


def test_nested_calls_keep_their_text() -> None:
    node = parse_target("sumSeries(scale(a.b, 2), c.*)")
    assert node == Call("sumSeries", (
        Call("scale", (PathExpr("a.b"), 2), (), "scale(a.b, 2)"),
        PathExpr("c.*"),
    ), (), "sumSeries(scale(a.b, 2), c.*)")
    assert str(node) == "sumSeries(scale(a.b, 2), c.*)"


def test_function_names() -> None:
    assert parse_target("_f9(a)").name == "_f9"
    assert parse_target("aliasByNode(a.b, 1)").name == "aliasByNode"


def test_kwargs_after_args() -> None:
    node = parse_target("f(a.b, 5, func='max', xFilesFactor=0.5, other=g(c))")
    assert node.args == (PathExpr("a.b"), 5)
    assert node.kwargs == (("func", "max"), ("xFilesFactor", 0.5),
                           ("other", Call("g", (PathExpr("c"),), (), "g(c)")))


def test_kwargs_only() -> None:
    node = parse_target("f(x=true, y=None)")
    assert node.args == ()
    assert node.kwargs == (("x", True), ("y", None))


def test_kwarg_with_spaces_around_equals() -> None:
    assert parse_target("f(a, x = 1)").kwargs == (("x", 1),)


def test_equals_after_a_path_that_is_not_a_name_is_a_path() -> None:
    # `a.b=c` cannot be a keyword (`a.b` is not a name): it is a path.
    assert args_of("f(a.b=c)") == (PathExpr("a.b=c"),)


def test_positional_after_kwarg_is_refused_where_it_starts() -> None:
    error = error_of("f(x=1, a.b)")
    assert error.position == 7
    assert "positional" in error.why


def test_kwarg_given_twice() -> None:
    error = error_of("f(x=1, x=2)")
    assert error.position == 7
    assert "twice" in error.why


def test_grammar_error_is_an_input_error() -> None:
    with pytest.raises(InputError, match="position 2"):
        parse_target("f(")


# -- pipes --------------------------------------------------------------------------------


def test_pipe_passes_the_left_side_first() -> None:
    node = parse_target("a.b|f(1)|g()")
    inner = Call("f", (PathExpr("a.b"), 1), (), "a.b|f(1)")
    assert node == Call("g", (inner,), (), "a.b|f(1)|g()")


def test_pipe_keeps_kwargs() -> None:
    node = parse_target("a.b|f(2, x=3)")
    assert node.args == (PathExpr("a.b"), 2)
    assert node.kwargs == (("x", 3),)


def test_pipe_after_a_call() -> None:
    node = parse_target("sumSeries(a.*)|scale(10)")
    assert node.name == "scale"
    assert node.args == (Call("sumSeries", (PathExpr("a.*"),), (), "sumSeries(a.*)"), 10)


def test_pipe_inside_arguments() -> None:
    node = parse_target("f(a.b|g(), c|h(1), 5)")
    assert node.args == (
        Call("g", (PathExpr("a.b"),), (), "a.b|g()"),
        Call("h", (PathExpr("c"), 1), (), "c|h(1)"),
        5,
    )


def test_pipe_inside_a_kwarg() -> None:
    node = parse_target("f(a, x=b|g())")
    assert node.kwargs == (("x", Call("g", (PathExpr("b"),), (), "b|g()")),)


def test_pipe_must_be_followed_by_a_call() -> None:
    error = error_of("a.b|c.d")
    assert error.position == 4
    assert "function call" in error.why


def test_pipe_with_nothing_after_it() -> None:
    error = error_of("a.b|")
    assert error.position == 4


# -- whitespace ---------------------------------------------------------------------------


def test_whitespace_everywhere() -> None:
    node = parse_target("  sumSeries (\n\t a.b ,\tscale( c , 2 ) ,  x = 1 )  |  g( )  ")
    assert node.name == "g"
    (inner,) = node.args
    assert inner.name == "sumSeries"
    assert inner.args[0] == PathExpr("a.b")
    assert inner.args[1].args == (PathExpr("c"), 2)
    assert inner.kwargs == (("x", 1),)


def test_whitespace_around_literals() -> None:
    assert args_of("f(  true  ,  'x'  ,  None  ,  -1.5  )") == (True, "x", None, -1.5)


def test_space_ends_a_path() -> None:
    # a path cannot hold a space; `a b` is a path followed by garbage
    error = error_of("a b")
    assert error.position == 2


# -- errors and their positions -------------------------------------------------------------


@pytest.mark.parametrize(("text", "position", "why"), [
    # empty target
    ("", 0, "empty target"),
    ("   ", 0, "empty target"),
    # unterminated string: reported where the string starts
    ('f("abc', 2, "unterminated string"),
    ("f(a, 'abc)", 5, "unterminated string"),
    # missing `)`
    ("f(a.b", 5, "expected ',' or ')'"),
    ("f(g(a.b)", 8, "expected ',' or ')'"),
    ("f(", 2, "expected an argument"),
    # empty argument
    ("f(a.b,)", 6, "expected an argument"),
    ("f(,a)", 2, "expected an argument"),
    ("f(a,,b)", 4, "expected an argument"),
    ("f(x=)", 4, "expected an argument"),
    # empty path node: at the offending dot, or at the end for a trailing dot
    ("a..b", 2, "empty node"),
    (".a", 0, "empty node"),
    ("a.b.", 4, "empty node"),
    ("f(a..b)", 4, "empty node"),
    # trailing garbage
    ("a.b)", 3, "unexpected ')'"),
    ("f(a)x", 4, "unexpected 'x'"),
    ("f(a))", 4, "unexpected ')'"),
    ("a.b}", 3, "unexpected '}'"),
    ("a.b 'x'", 4, "unexpected"),
    # unbalanced brace: reported where the path starts
    ("a.{b,c", 0, "unbalanced '{'"),
    # something that is neither a path nor a call
    ("(a)", 0, "expected a metric path or function call"),
    ("'a.b'", 0, "expected a metric path or function call"),
    ("f(a.b c)", 6, "expected ',' or ')'"),
    # a keyword ends at `|` (pyparsing's keyword rule), then the call expects `,` or `)`
    ("f(true|g())", 6, "expected ',' or ')'"),
])
def test_errors_and_positions(text: str, position: int, why: str) -> None:
    error = error_of(text)
    assert error.position == position
    assert why in error.why
    assert f"position {position}" in str(error)
    assert error.text == text


def test_long_targets_are_shortened_in_the_message() -> None:
    text = "a." * 200 + "."
    message = str(error_of(text))
    assert "..." in message
    assert len(message) < 300


# -- path_expressions ---------------------------------------------------------------------


def test_path_expressions_of_a_path() -> None:
    assert list(path_expressions(parse_target("a.b.*"))) == ["a.b.*"]


def test_path_expressions_in_order_everywhere() -> None:
    node = parse_target("f(a, g(b, 1, 'c'), x=h(d), y=e)|k(z)")
    assert list(path_expressions(node)) == ["a", "b", "d", "e", "z"]


def test_path_expressions_keep_duplicates_and_skip_literals() -> None:
    node = parse_target("f(a, a, 1, 'not.a.path', true)")
    assert list(path_expressions(node)) == ["a", "a"]


def test_path_expressions_of_literals() -> None:
    assert list(path_expressions(5)) == []
    assert list(path_expressions("a.b")) == []
    assert list(path_expressions(parse_target("f()"))) == []


# -- template() ----------------------------------------------------------------------------

def test_template_fills_positional_and_keyword_values():
    from render_web.grammar import expand_templates

    tree = expand_templates(parse_target("template(sumSeries(hosts.$1.cpu.$2), 'web1', 'user')"))
    assert tree.args[0] == PathExpr("hosts.web1.cpu.user")
    tree = expand_templates(parse_target("template(hosts.$host.cpu, host='db1')"))
    assert tree == PathExpr("hosts.db1.cpu")


def test_template_request_values_win_and_standalone_values_are_numbers():
    from render_web.grammar import expand_templates

    tree = expand_templates(parse_target("template(movingAverage(a.$h, $n), h='x', n=5)"),
                            {"n": "10", "h": "y"})
    assert tree.name == "movingAverage" and tree.args == (PathExpr("a.y"), 10)
    ten = expand_templates(parse_target("template(a.$1$10, 'p', 2, 3, 4, 5, 6, 7, 8, 9, 'q')"))
    assert ten == PathExpr("a.pq")


def test_template_needs_an_expression():
    from render_web.grammar import expand_templates

    with pytest.raises(InputError):
        expand_templates(parse_target("template()"))
