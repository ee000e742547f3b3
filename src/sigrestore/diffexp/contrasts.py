"""Contrast matrices from expressions over group names, parsed without ``eval``.

An expression such as ``(a + b)/2 - c`` is parsed with :mod:`ast` and reduced to
a vector over the design's coefficients; only names, numbers, ``+ - * /``,
unary signs and parentheses are accepted, and a product or quotient must have a
number on one side, so every accepted expression is linear.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sigrestore.diffexp.design import Design
from sigrestore.errors import DesignError

__all__ = ["contrast_groups", "estimable", "make_contrasts"]

_MAX_LENGTH = 2000  # longer text is a configuration mistake, not a contrast


class _Linear:
    """A linear form: coefficient vector plus a constant term."""

    __slots__ = ("const", "vec")

    def __init__(self, vec: np.ndarray, const: float = 0.0) -> None:
        self.vec = vec
        self.const = const

    @property
    def is_number(self) -> bool:
        return not self.vec.any()


def _reduce(node: ast.AST, coef: dict[str, int], design: Design | None, label: str) -> _Linear:
    """Evaluate an expression tree to a :class:`_Linear` form.

    ``design`` only words the error for a name that is not in ``coef``; with
    None (the design-free parse of :func:`contrast_groups`) every name is in it.
    """
    n = len(coef)
    if isinstance(node, ast.Expression):
        return _reduce(node.body, coef, design, label)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise DesignError(f"contrast {label!r}: {node.value!r} is not a number")
        return _Linear(np.zeros(n), float(node.value))
    if isinstance(node, ast.Name):
        if node.id in coef:
            vec = np.zeros(n)
            vec[coef[node.id]] = 1.0
            return _Linear(vec)
        if design is not None and node.id in design.empty_groups:
            raise DesignError(
                f"contrast {label!r}: group {node.id!r} is empty (no sample in the sample "
                "sheet has that combination of factor values)"
            )
        groups = design.group_names if design is not None else sorted(coef)
        raise DesignError(f"contrast {label!r}: unknown group {node.id!r}; groups are {groups}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        inner = _reduce(node.operand, coef, design, label)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return _Linear(sign * inner.vec, sign * inner.const)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        left = _reduce(node.left, coef, design, label)
        right = _reduce(node.right, coef, design, label)
        if isinstance(node.op, ast.Add):
            return _Linear(left.vec + right.vec, left.const + right.const)
        if isinstance(node.op, ast.Sub):
            return _Linear(left.vec - right.vec, left.const - right.const)
        if isinstance(node.op, ast.Mult):
            if left.is_number:
                return _Linear(left.const * right.vec, left.const * right.const)
            if right.is_number:
                return _Linear(right.const * left.vec, right.const * left.const)
            raise DesignError(f"contrast {label!r}: a product of two groups is not linear")
        if not right.is_number:
            raise DesignError(f"contrast {label!r}: dividing by a group is not linear")
        if right.const == 0:
            raise DesignError(f"contrast {label!r}: division by zero")
        return _Linear(left.vec / right.const, left.const / right.const)
    raise DesignError(
        f"contrast {label!r}: {ast.unparse(node)!r} is not allowed; use group names, "
        "numbers, + - * / and parentheses"
    )


def _parse(label: str, text: str, coef: dict[str, int] | None, design: Design | None) -> np.ndarray:
    if not isinstance(text, str) or not text.strip():
        raise DesignError(f"contrast {label!r} has an empty expression")
    if len(text) > _MAX_LENGTH:
        raise DesignError(f"contrast {label!r} is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        if coef is None:
            # Design-free parse: every name of the expression is a coefficient.
            names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
            coef = {name: i for i, name in enumerate(names)}
        form = _reduce(tree, coef, design, label)
    except SyntaxError as exc:
        raise DesignError(f"contrast {label!r}: cannot parse {text!r} ({exc.msg})") from None
    except RecursionError:
        # Python's parser and the recursive reduction have a nesting limit
        # (e.g. a long run of unary minus signs); the length cap does not
        # prevent reaching it.
        raise DesignError(f"contrast {label!r} is nested too deeply") from None
    if form.const != 0:
        raise DesignError(f"contrast {label!r} = {text!r} has a constant term")
    if not form.vec.any():
        raise DesignError(f"contrast {label!r} = {text!r} is identically zero")
    return form.vec


def contrast_groups(label: str, text: str) -> set[str]:
    """The group names a contrast expression uses, checked without a design.

    The same grammar and the same checks as :func:`make_contrasts` (names,
    numbers, ``+ - * /``, parentheses; linear; no constant term; not zero), so
    an expression accepted here is rejected later only for a reason that
    needs the data (an unknown or empty group, a non-estimable contrast).

    Raises
    ------
    DesignError
        The expression is empty, unparsable, not linear, constant or zero.
    """
    if not isinstance(text, str) or not text.strip():
        raise DesignError(f"contrast {label!r} has an empty expression")
    _parse(label, text, None, None)
    tree = ast.parse(text.strip(), mode="eval")
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def estimable(design_matrix: np.ndarray, vectors: np.ndarray, *, tol: float = 1e-7) -> np.ndarray:
    """Which columns of ``vectors`` (coefficients x k) are estimable under the design.

    ``c`` is estimable when it lies in the row space of the design matrix ``X``,
    i.e. when projecting it onto that space leaves it unchanged.
    """
    x = np.asarray(design_matrix, dtype=float)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    rank = int(np.sum(s > tol * max(s[0], 1e-300))) if s.size else 0
    basis = vt[:rank]
    c = np.asarray(vectors, dtype=float)
    resid = c - basis.T @ (basis @ c)
    scale = np.maximum(np.linalg.norm(c, axis=0), 1e-300)
    return np.linalg.norm(resid, axis=0) <= tol * scale * 10


def make_contrasts(expressions: Mapping[str, str], design: Design) -> pd.DataFrame:
    """Contrast matrix (coefficients x contrasts) from named expressions.

    Parameters
    ----------
    expressions
        Contrast name -> expression over group names (and, if wanted, covariate
        coefficient names), e.g. ``{"combo": "resistant_fulvestrant_rapamycin -
        resistant_vehicle", "avg": "(a + b)/2 - c"}``.
    design
        The design from :func:`~sigrestore.diffexp.build_design`.

    Raises
    ------
    DesignError
        Empty, unparsable or non-linear expression, unknown or empty group, a
        constant or zero contrast, or a contrast the design cannot estimate.
    """
    if not expressions:
        raise DesignError("no contrast given")
    names = list(design.matrix.columns)
    coef = {name: i for i, name in enumerate(names)}
    columns = {}
    for label, text in expressions.items():
        if not isinstance(label, str) or not label.strip():
            raise DesignError(f"contrast name {label!r} must be a non-empty string")
        columns[label] = _parse(label, text, coef, design)
    cm = pd.DataFrame(columns, index=pd.Index(names, name="coefficient"))
    ok = estimable(design.matrix.to_numpy(dtype=float), cm.to_numpy())
    if not ok.all():
        bad = [c for c, good in zip(cm.columns, ok, strict=True) if not good]
        raise DesignError(
            f"contrast(s) {bad} cannot be estimated with this design (the groups they "
            "compare are confounded with a covariate); drop or change the covariate"
        )
    return cm
