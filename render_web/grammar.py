"""The target grammar of graphite-web (`render/grammar_unsafe.py`), parsed into a tree.

    expression := (call | path) ('|' call)*
    call       := NAME '(' [arg (',' arg)*] [kwarg (',' kwarg)*] ')'
    arg        := boolean | number | None | inf | string | expression
    kwarg      := NAME '=' arg

A hand-written recursive descent parser (nothing is ever `eval`ed) whose errors say
where the text stopped making sense. Literals become Python values (str, int, float,
bool, None); paths and calls become `PathExpr` and `Call` nodes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from render_web.functions.registry import InputError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMBER = re.compile(r"-?(?:\d+\.\d+|\d+)(?:[eE]-?\d+)?")
# Characters that end a path (`,` only outside a `{a,b}` list); a backslash makes any
# of them literal. `=`, `*`, `?`, `[`, `]`, `-`, `;`, `:` and `~` are path characters.
PATH_STOP = set("()'\"\\|, \t\r\n")
KEYWORDS: dict[str, Any] = {"true": True, "false": False, "none": None, "inf": math.inf}
# Calls nested (as arguments or through `|`) deeper than this are refused: the parser,
# the template expansion and the evaluator all recurse once per level, and a hostile
# target must get a 400, not exhaust Python's stack. Real dashboards nest a dozen.
MAX_DEPTH = 100


class GrammarError(InputError):
    def __init__(self, text: str, position: int, why: str) -> None:
        self.text = text
        self.position = position
        self.why = why
        shown = text if len(text) <= 200 else text[:200] + "..."
        super().__init__(f"{why} at position {position} of target {shown!r}")


@dataclass(frozen=True)
class PathExpr:
    """A metric name or pattern, as written."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    # The call as written (graphite keeps it for seriesByTag and for naming).
    text: str

    def __str__(self) -> str:
        return self.text


Node = PathExpr | Call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0  # calls open around the current position, pipes included

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"functions nested more than {MAX_DEPTH} deep", position)

    def fail(self, why: str, position: int | None = None) -> GrammarError:
        return GrammarError(self.text, self.pos if position is None else position, why)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected {char!r}, found {found}")
        self.pos += 1

    def at_delimiter(self, position: int, ends: str = ",)") -> bool:
        """Whether a literal ending at `position` is complete (followed by one of `ends`
        or the end), which is what makes `1foo` or `true.x` paths instead."""
        while position < len(self.text) and self.text[position] in " \t\r\n":
            position += 1
        return position >= len(self.text) or self.text[position] in ends

    # -- expressions ------------------------------------------------------------------

    def expression(self) -> Node:
        self.skip_space()
        start = self.pos
        node: Node = self.call_or_path()
        depth = self.depth
        while True:
            self.skip_space()
            if self.peek() != "|":
                self.depth = depth
                return node
            self.pos += 1
            self.skip_space()
            call_start = self.pos
            piped = self.call_or_path()
            if not isinstance(piped, Call):
                raise self.fail("expected a function call after '|'", call_start)
            self.enter(call_start)  # each pipe wraps the expression in one more call
            node = Call(piped.name, (node, *piped.args), piped.kwargs,
                        self.text[start:self.pos].strip())

    def call_or_path(self) -> Node:
        start = self.pos
        match = NAME.match(self.text, self.pos)
        if match:
            after = match.end()
            while after < len(self.text) and self.text[after] in " \t":
                after += 1
            if after < len(self.text) and self.text[after] == "(":
                self.enter(start)
                self.pos = after + 1
                call = self.call(match.group(), start)
                self.depth -= 1
                return call
        return self.path()

    def call(self, name: str, start: int) -> Call:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return Call(name, (), (), self.text[start:self.pos])
        while True:
            self.skip_space()
            arg_start = self.pos
            keyword = self.keyword_name()
            if keyword is not None:
                if keyword in kwargs:
                    raise self.fail(f"argument {keyword!r} given twice", arg_start)
                kwargs[keyword] = self.argument()
            elif kwargs:
                raise self.fail("a positional argument cannot follow a keyword argument",
                                arg_start)
            else:
                args.append(self.argument())
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == ")":
                self.pos += 1
                return Call(name, tuple(args), tuple(kwargs.items()),
                            self.text[start:self.pos])
            found = repr(char) if char else "the end"
            raise self.fail(f"expected ',' or ')' in the arguments of {name}(), "
                            f"found {found}")

    def keyword_name(self) -> str | None:
        match = NAME.match(self.text, self.pos)
        if not match:
            return None
        after = match.end()
        while after < len(self.text) and self.text[after] in " \t":
            after += 1
        if after < len(self.text) and self.text[after] == "=":
            self.pos = after + 1
            return match.group()
        return None

    def argument(self) -> Any:
        self.skip_space()
        char = self.peek()
        if not char:
            raise self.fail("expected an argument, found the end")
        if char in "'\"":
            return self.string()
        number = NUMBER.match(self.text, self.pos)
        # graphite ends a number only at `,` `)` or the end: `1|f()` pipes the path `1`.
        if number and self.at_delimiter(number.end()):
            self.pos = number.end()
            word = number.group()
            return int(word) if re.fullmatch(r"-?\d+", word) else float(word)
        word = NAME.match(self.text, self.pos)
        if word and word.group().lower() in KEYWORDS and self.at_delimiter(word.end(), ",)|"):
            self.pos = word.end()
            return KEYWORDS[word.group().lower()]
        if char in ",)":
            raise self.fail("expected an argument")
        return self.expression()

    def string(self) -> str:
        quote = self.text[self.pos]
        start = self.pos
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                # Kept as written: aliasSub's "\1" must reach re.sub untouched.
                chars.append(self.text[self.pos:self.pos + 2])
                self.pos += 2
                continue
            if char == quote and self.text[self.pos + 1:self.pos + 2] == quote:
                # pyparsing's quotedString reads a doubled quote as part of the string.
                chars.append(char * 2)
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(chars)
            chars.append(char)
            self.pos += 1
        raise self.fail("unterminated string", start)

    def path(self) -> PathExpr:
        start = self.pos
        out = []
        depth = 0  # inside a {a,b} value list, where ',' belongs to the path
        node_start = len(out)  # where the current `.`-separated node began in `out`
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == "." and not depth:
                if len(out) == node_start:
                    raise self.fail("empty node in metric path")
                node_start = len(out) + 1
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            elif char in PATH_STOP and not (char == "," and depth):
                break
            out.append(char)
            self.pos += 1
        if depth:
            raise self.fail("unbalanced '{' in a path", start)
        text = "".join(out)
        if not text:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected a metric path or function call, found {found}")
        if len(out) == node_start:  # a trailing `.`
            raise self.fail("empty node in metric path")
        return PathExpr(text)


def parse_target(text: str) -> Node:
    """The tree of one `target` parameter; `GrammarError` (a 400) when it is not one."""
    parser = _Parser(text)
    parser.skip_space()
    if not parser.peek():
        raise GrammarError(text, 0, "empty target")
    node = parser.expression()
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.fail(f"unexpected {parser.peek()!r}")
    return node


def path_expressions(node: Any) -> Iterator[str]:
    """Every path in a tree, for fetching them all in one batch before evaluating."""
    if isinstance(node, PathExpr):
        yield node.text
    elif isinstance(node, Call):
        for arg in node.args:
            yield from path_expressions(arg)
        for _, arg in node.kwargs:
            yield from path_expressions(arg)


_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")


def _template_value(value: Any) -> Any:
    """A value given to a template: a string that looks like a number is one."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return float(value) if any(c in value for c in ".eE") else int(value)
    return value


def _substitute(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, PathExpr):
        for name, value in values.items():
            if node.text == "$" + name:
                return value
        text = node.text
        # Longest names first, so that $10 is not read as $1 followed by 0.
        for name in sorted(values, key=len, reverse=True):
            text = text.replace("$" + name, str(values[name]))
        return PathExpr(text)
    if isinstance(node, Call):
        return Call(node.name, tuple(_substitute(a, values) for a in node.args),
                    tuple((k, _substitute(v, values)) for k, v in node.kwargs), node.text)
    return node


def expand_templates(node: Any, overrides: dict[str, str] | None = None) -> Any:
    """`template(expr, ...)` replaced by `expr` with its `$1`, `$2`, ... (positional
    arguments) and `$name` (keyword arguments, then the request's `template[name]`)
    filled in, as graphite-web does; a `$name` standing alone as an argument becomes
    the value itself (a number if it looks like one)."""
    if isinstance(node, Call) and node.name == "template":
        if not node.args:
            raise InputError("template() needs an expression to fill in")
        values: dict[str, Any] = {str(i): v for i, v in enumerate(node.args[1:], start=1)}
        values.update(node.kwargs)
        values.update(overrides or {})
        values = {k: _template_value(v) for k, v in values.items()}
        return _substitute(expand_templates(node.args[0], overrides), values)
    if isinstance(node, Call):
        return Call(node.name, tuple(expand_templates(a, overrides) for a in node.args),
                    tuple((k, expand_templates(v, overrides)) for k, v in node.kwargs),
                    node.text)
    return node
