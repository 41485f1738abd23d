"""The template language: a small, checked subset of Jinja2 run in its sandbox.

A message template fills variables into text; it never needs to compute, call, import or
reach into Python objects. So a template is accepted only when every node of its syntax tree
is on the list below (output, variables, ``if``, one level of ``for`` over a variable, ``set``,
comparisons, ``~`` concatenation and a few filters that never grow their input), and it is
then rendered by Jinja2's ``ImmutableSandboxedEnvironment`` with ``StrictUndefined`` and
no globals, its output counted as it is produced and refused past :data:`MAX_OUTPUT`. The
tree check is what refuses ``{{ ''.__class__ }}``, ``{% import %}`` and huge loops at upload;
the sandbox is the second wall should anything pass it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: The longest template text (a subject or a body) accepted, in characters.
MAX_SOURCE = 20_000
#: The longest rendered text, in characters: a long letter fits, a runaway loop does not.
MAX_OUTPUT = 40_000

#: The deepest syntax tree accepted: far beyond any message, well within what Python compiles
#: (a hundred nested ``if`` blocks already exceed its indentation limit).
MAX_DEPTH = 40

#: Filters that keep or shrink their input (``replace``, ``center``, ``indent``, ``format``
#: and ``wordwrap`` can multiply it; ``int``/``float``/``round`` would alter money).
FILTERS = frozenset(
    {"default", "d", "upper", "lower", "title", "capitalize", "trim", "length", "count"}
    | {"first", "last", "join", "truncate", "string"}
)
TESTS = frozenset(
    {"defined", "undefined", "none", "number", "string", "true", "false", "even", "odd"}
    | {"eq", "ne", "lt", "le", "gt", "ge", "in", "sameas"}
)
_ALLOWED = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Concat,
    nodes.For,
    nodes.Filter,
    nodes.Test,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
    nodes.Assign,
    nodes.AssignBlock,
)
_IMPORTS = (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends)
_CALLS = (nodes.Call, nodes.Macro, nodes.CallBlock)
_ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)
#: The tags a refused statement node is written with, for a message that names the tag.
_TAGS: dict[type[nodes.Node], str] = {
    nodes.Block: "block",
    nodes.With: "with",
    nodes.FilterBlock: "filter",
    nodes.Scope: "autoescape",
    nodes.ScopedEvalContextModifier: "autoescape",
    nodes.EvalContextModifier: "autoescape",
}
#: Names that reach the template machinery rather than a variable.
_RESERVED = frozenset({"self", "caller", "varargs", "kwargs", "context", "environment"})


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals, no arithmetic even if a template slipped past the tree check."""

    intercepted_binops = frozenset({"*", "**", "/", "//", "%", "+", "-"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        del context, left, right
        raise SecurityError(f"arithmetic ({operator}) is not allowed in templates")


def _environment() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,  # every channel renders plain text (e-mail bodies are text/plain)
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: "" if value is None else value,
    )
    env.globals.clear()
    env.filters = {name: f for name, f in env.filters.items() if name in FILTERS}
    env.tests = {name: t for name, t in env.tests.items() if name in TESTS}
    return env


_ENV = _environment()


class Compiled:
    """One checked template text, compiled once; render it with :func:`render_text`."""

    __slots__ = ("_template", "variables")

    def __init__(self, tree: nodes.Template) -> None:
        self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(tree))
        self._template = _ENV.from_string(tree)

    def generate(self, variables: Mapping[str, object]) -> Iterator[str]:
        return self._template.generate(dict(variables))


def check(source: str) -> Compiled | list[str]:
    """The compiled template, or every reason it is refused (syntax, forbidden constructs)."""
    if len(source) > MAX_SOURCE:
        return [f"must be at most {MAX_SOURCE} characters"]
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as e:
        return [f"template syntax error on line {e.lineno}: {e.message}"]
    except RecursionError:
        return ["template is nested too deeply"]
    problems = list(dict.fromkeys(_forbidden(tree, loops=0, depth=0)))
    if problems:
        return problems
    try:
        return Compiled(tree)
    except (SyntaxError, RecursionError, MemoryError):  # Python's own limits on the code made
        return ["template is nested too deeply"]


@lru_cache(maxsize=512)  # the texts in use; bounded, since a text may be 20,000 characters
def compiled(source: str) -> Compiled:
    """The compiled form of a stored (hence already checked) text, kept for the next render."""
    result = check(source)
    if isinstance(result, list):  # stored texts passed check() at upload
        raise ValueError(f"a stored template text is refused: {result}")
    return result


class RenderError(Exception):
    """A render refused: an undefined value, a sandbox violation, or too much output."""


def render_text(template: Compiled, variables: Mapping[str, object]) -> str:
    """The rendered text; :class:`RenderError` rather than a partial or oversized one."""
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderError(f"renders more than {MAX_OUTPUT} characters")
            parts.append(chunk)
    except UndefinedError as e:
        raise RenderError(f"undefined value: {e.message}") from None
    except SecurityError as e:
        raise RenderError(f"refused by the sandbox: {e}") from None
    except (TemplateError, TypeError, ValueError, LookupError) as e:
        raise RenderError(f"cannot render: {e}") from None
    return "".join(parts)


def _forbidden(node: nodes.Node, *, loops: int, depth: int) -> Iterator[str]:
    # Every reason, the nodes inside a refused one included, so one upload shows them all.
    if depth > MAX_DEPTH:
        yield "template is nested too deeply"
        return
    reason = _reason(node, loops)
    if reason is not None:
        yield reason
    inner = loops + 1 if isinstance(node, nodes.For) else loops
    for child in node.iter_child_nodes():
        yield from _forbidden(child, loops=inner, depth=depth + 1)


def _reason(node: nodes.Node, loops: int) -> str | None:
    if isinstance(node, _IMPORTS):
        return "imports, includes and extends are not allowed"
    if isinstance(node, _CALLS):
        return "calls and macros are not allowed"
    if isinstance(node, _ARITHMETIC):
        return "arithmetic is not allowed: pass the computed value as a variable"
    if not isinstance(node, _ALLOWED):
        tag = _TAGS.get(type(node), type(node).__name__.lower())
        return f"'{tag}' is not allowed in a message template"
    if isinstance(node, nodes.For):
        return _loop_reason(node, loops)
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return "attribute access to internals is not allowed"
    if isinstance(node, nodes.Getitem) and _private_key(node.arg):
        return "attribute access to internals is not allowed"
    if isinstance(node, nodes.Name) and node.name in _RESERVED:
        return f"'{node.name}' is reserved"
    if isinstance(node, nodes.Filter | nodes.Test):
        return _filter_reason(node)
    return None


def _loop_reason(node: nodes.For, loops: int) -> str | None:
    if node.recursive:
        return "recursive loops are not allowed"
    if loops >= 1:
        return "loops may not be nested"
    if not isinstance(node.iter, nodes.Name | nodes.Getattr | nodes.Getitem):
        return "a loop goes over a variable, not a value made in the template"
    return None


def _filter_reason(node: nodes.Filter | nodes.Test) -> str | None:
    kind, allowed = ("filter", FILTERS) if isinstance(node, nodes.Filter) else ("test", TESTS)
    if node.name not in allowed:
        return f"{kind} '{node.name}' is not allowed (allowed: {', '.join(sorted(allowed))})"
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return f"{kind} arguments must be written out"
    return None


def _private_key(arg: nodes.Expr) -> bool:
    # A key computed at render time is the sandbox's to check (it refuses private attributes).
    return isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.startswith("_")


__all__ = [
    "FILTERS",
    "MAX_DEPTH",
    "MAX_OUTPUT",
    "MAX_SOURCE",
    "TESTS",
    "Compiled",
    "RenderError",
    "check",
    "compiled",
    "render_text",
]
