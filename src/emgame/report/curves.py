"""Reference curves for figures: a small, safe arithmetic language in ``x`` (a closed form to
draw beside a sweep's points; nothing but numbers, ``x``, arithmetic and a few functions)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_FUNCTIONS = {"sqrt": np.sqrt, "log": np.log, "log10": np.log10, "exp": np.exp, "abs": np.abs}


def reference_curve(expression: str) -> Callable[[np.ndarray], np.ndarray]:
    """A function of ``x`` from an arithmetic expression such as ``(1/2)*(x/(x-1))**2``.

    Numbers, ``x``, ``+ - * / **``, parentheses and ``sqrt log log10 exp abs``; nothing else.

    Raises
    ------
    ValueError
        For anything outside that language.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot read the expression {expression!r}: {exc.msg}") from None

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            check(node.body)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            check(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
                and not isinstance(node.value, bool):
            pass
        elif isinstance(node, ast.Name) and node.id == "x":
            pass
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _FUNCTIONS and len(node.args) == 1 and not node.keywords:
            check(node.args[0])
        else:
            raise ValueError(f"the expression {expression!r} may use numbers, x, + - * / **, "
                             f"parentheses and {', '.join(_FUNCTIONS)}; not "
                             f"{ast.unparse(node) if hasattr(ast, 'unparse') else node!r}")

    check(tree)

    def evaluate(node: ast.AST, x: np.ndarray) -> Any:
        if isinstance(node, ast.Expression):
            return evaluate(node.body, x)
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](evaluate(node.left, x), evaluate(node.right, x))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](evaluate(node.operand, x))
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return x
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return _FUNCTIONS[node.func.id](evaluate(node.args[0], x))

    return lambda x: evaluate(tree, np.asarray(x, dtype=float))
