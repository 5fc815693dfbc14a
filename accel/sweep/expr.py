"""Safe constraint expressions over sweep parameters (no ``eval``).

The text is parsed with :mod:`ast` and walked by a tiny interpreter that accepts only a
whitelist: numbers, strings, True/False, parameter names, ``+ - * / // % **``, unary
``- + not``, comparisons (``< <= > >= == != in`` with chaining), ``and``/``or``,
``a if c else b`` and calls to ``min``/``max``/``abs``.  Anything else (attributes,
subscripts, lambdas, other calls, comprehensions) is rejected when the spec is loaded,
with the offending construct named.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any

from accel.errors import ConfigError

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_CMPOPS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_FUNCS = {"min": min, "max": max, "abs": abs}
MAX_POWER = 64      # stops `2 ** 10 ** 10` style expressions from hanging the coordinator
MAX_INT_BITS = 4096  # no intermediate integer larger than this: (x**64)**64... is refused
MAX_DEPTH = 50       # nesting of the expression tree (990 unary minus signs is an attack)
MAX_NODES = 500      # nodes in one constraint


def _shape_ok(tree: ast.AST, text: str) -> None:
    """Bounded depth and size, checked iteratively (the walk itself must not recurse)."""
    stack = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ConfigError(f"constraint {text[:60]!r}: nested deeper than {MAX_DEPTH} levels")
        if count > MAX_NODES:
            raise ConfigError(f"constraint {text[:60]!r}: more than {MAX_NODES} terms")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check(node: ast.AST, names: set[str], text: str) -> None:
    """Reject every node type not on the whitelist; unknown names are errors too."""
    def bad(what: str):
        raise ConfigError(f"constraint {text!r}: {what} not allowed")

    if isinstance(node, ast.Expression):
        return _check(node.body, names, text)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool | int | float | str):
            return
        bad(f"constant {node.value!r}")
    if isinstance(node, ast.Name):
        if node.id in ("True", "False"):
            return
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ConfigError(f"constraint {text!r}: unknown name {node.id!r} (parameters: {known})")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            bad(f"operator {type(node.op).__name__}")
        _check(node.left, names, text)
        return _check(node.right, names, text)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            bad(f"operator {type(node.op).__name__}")
        return _check(node.operand, names, text)
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names, text)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS:
                bad(f"comparison {type(op).__name__}")
        for v in [node.left, *node.comparators]:
            _check(v, names, text)
        return
    if isinstance(node, ast.IfExp):
        for v in (node.test, node.body, node.orelse):
            _check(v, names, text)
        return
    if isinstance(node, ast.Tuple | ast.List):  # for `x in (1, 2)`
        for v in node.elts:
            _check(v, names, text)
        return
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            bad(f"attribute call '.{node.func.attr}(...)'")
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            fn = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            bad(f"call to {fn!r}")
        if node.keywords:
            bad("keyword arguments")
        for v in node.args:
            _check(v, names, text)
        return
    bad(f"{type(node).__name__}")


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return {"True": True, "False": False}.get(node.id, env.get(node.id))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float):
            if abs(right) > MAX_POWER:
                raise ConfigError(f"exponent {right!r} too large in constraint")
            if isinstance(left, int) and not isinstance(left, bool) and \
                    abs(left) > 1 and left.bit_length() * abs(right) > MAX_INT_BITS:
                raise ConfigError(f"constraint value {left}**{right} too large")
        if isinstance(node.op, ast.Mult) and isinstance(left, int | str | tuple) and \
                isinstance(right, int | str | tuple) and not (isinstance(left, int) and isinstance(right, int)):
            raise ConfigError("constraint repeats a string or tuple (not allowed)")
        out = _BINOPS[type(node.op)](left, right)
        if isinstance(out, int) and out.bit_length() > MAX_INT_BITS:
            raise ConfigError(f"constraint value exceeds {MAX_INT_BITS} bits")
        return out
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else (+v if isinstance(node.op, ast.UAdd) else not v)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            out: Any = True
            for v in node.values:
                out = _eval(v, env)
                if not out:
                    return out
            return out
        out = False
        for v in node.values:
            out = _eval(v, env)
            if out:
                return out
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_eval(v, env) for v in node.elts)
    if isinstance(node, ast.Call):
        return _FUNCS[node.func.id](*(_eval(a, env) for a in node.args))
    raise ConfigError(f"cannot evaluate {type(node).__name__}")  # unreachable after _check


@dataclass(frozen=True)
class Constraint:
    text: str
    tree: ast.Expression

    @classmethod
    def parse(cls, text: str, names: set[str]) -> Constraint:
        if len(text) > 1000:
            raise ConfigError(f"constraint too long ({len(text)} characters)")
        if not text.isprintable():
            raise ConfigError(f"constraint {text[:60]!r}: control characters not allowed")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ConfigError(f"constraint {text[:60]!r}: syntax error at column {exc.offset}: {exc.msg}") from None
        except (RecursionError, MemoryError, ValueError):
            raise ConfigError(f"constraint {text[:60]!r}: nested too deeply") from None
        _shape_ok(tree, text)
        _check(tree, names, text)
        return cls(text, tree)

    def holds(self, point: dict[str, Any]) -> bool:
        try:
            return bool(_eval(self.tree, point))
        except ConfigError:
            raise
        except Exception as exc:  # e.g. division by zero, comparing str with int
            msg = str(exc).splitlines()[0][:100] if str(exc) else ""
            raise ConfigError(f"constraint {self.text[:100]!r} failed on {point}: "
                              f"{type(exc).__name__}: {msg}") from None
