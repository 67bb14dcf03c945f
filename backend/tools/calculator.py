"""A calculator that evaluates arithmetic only: no names, calls or attributes.

Written on ``ast`` rather than a library because the needed subset is small and
``eval`` of user or model text is never acceptable.

The tool runs in a worker thread that cannot be cancelled, and one big-integer
operation holds the GIL (stalling every stream in the worker) until it ends. So
the size of every integer result is estimated *before* it is computed and refused
above ``MAX_BITS``; with every single step bounded that way, a deadline checked
between AST node evaluations is enforceable: no step can run long past it.

Every failure is a ``ToolError`` whose message the model sees.
"""

from __future__ import annotations

import ast
import math
import operator
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from backend.tools.errors import ToolError

Number = int | float

MAX_LENGTH = 500
# Big enough for any everyday exact answer (about 30,000 decimal digits), small
# enough that one multiplication, division or power at this size is quick.
MAX_BITS = 100_000
TIME_LIMIT_SECONDS = 2.0
# Longer integers are shown in scientific notation: they cost the model context
# and Python refuses to print ints beyond its int-string limit anyway.
MAX_EXACT_DIGITS = 1_000
SIGNIFICANT_DIGITS = 15
_LOG2_10 = math.log2(10)

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


@dataclass(frozen=True)
class _Function:
    call: Callable[..., Number]
    min_args: int
    max_args: int


_FUNCTIONS: dict[str, _Function] = {
    "sqrt": _Function(math.sqrt, 1, 1),
    "abs": _Function(abs, 1, 1),
    "round": _Function(round, 1, 2),
    "log": _Function(math.log, 1, 2),
    "exp": _Function(math.exp, 1, 1),
    "sin": _Function(math.sin, 1, 1),
    "cos": _Function(math.cos, 1, 1),
    "tan": _Function(math.tan, 1, 1),
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def calculate(expression: str, time_limit: float = TIME_LIMIT_SECONDS) -> str:
    if not isinstance(expression, str):
        raise ToolError("the expression must be a string")
    if len(expression) > MAX_LENGTH:
        raise ToolError(f"the expression is longer than {MAX_LENGTH} characters")
    tree = _parse(expression)
    deadline = time.monotonic() + time_limit
    try:
        value = _Evaluator(deadline, time_limit).evaluate(tree.body)
    except ZeroDivisionError:
        raise ToolError("division by zero") from None
    except (OverflowError, ValueError, TypeError) as exc:
        raise ToolError(f"cannot compute {expression!r}: {exc}") from None
    except RecursionError:
        raise ToolError("the expression is nested too deeply") from None
    return format_number(value)


def _parse(expression: str) -> ast.Expression:
    text = expression.replace("^", "**").replace("\u00d7", "*")
    try:
        return ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):  # ValueError: a NUL in the text
        raise ToolError(f"not an arithmetic expression: {expression!r}") from None
    except (RecursionError, MemoryError):
        raise ToolError("the expression is nested too deeply") from None


class _Evaluator:
    def __init__(self, deadline: float, time_limit: float) -> None:
        self._deadline = deadline
        self._time_limit = time_limit

    def evaluate(self, node: ast.AST) -> Number:
        # Enforceable because each step below is bounded by MAX_BITS: none runs long.
        if time.monotonic() >= self._deadline:
            raise ToolError(f"the calculation took longer than its limit of {self._time_limit:g} s")
        return _finite(self._eval(node))

    def _eval(self, node: ast.AST) -> Number:
        if isinstance(node, ast.Constant):
            return _constant(node)
        if isinstance(node, ast.Name):
            return _name(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            return _binary(node.op, left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.evaluate(node.operand))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ToolError(f"unsupported in a calculation: {_source(node)!r}")

    def _call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name):
            raise ToolError(f"unsupported in a calculation: {_source(node.func)!r}")
        name = node.func.id
        function = _FUNCTIONS.get(name)
        if function is None:
            known = ", ".join(_FUNCTIONS)
            raise ToolError(f"unknown function {name!r}; the calculator knows {known}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ToolError(f"{name}() takes plain arguments only")
        if not function.min_args <= len(node.args) <= function.max_args:
            raise ToolError(f"{name}() takes {_arity(function)}, got {len(node.args)}")
        args = [self.evaluate(a) for a in node.args]
        if name == "round":
            _check_round(args)
        return _result(function.call(*args))


def _constant(node: ast.Constant) -> Number:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError(f"not a number: {_source(node)!r}")
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        _refuse_bits(value.bit_length())
    return value


def _name(node: ast.Name) -> float:
    if node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if node.id in _FUNCTIONS:
        raise ToolError(f"{node.id} is a function: write {node.id}(x)")
    known = ", ".join(_CONSTANTS)
    raise ToolError(f"unknown name {node.id!r}; the only constants are {known}")


def _binary(op: ast.operator, left: Number, right: Number) -> Number:
    if isinstance(left, int) and isinstance(right, int):
        if isinstance(op, ast.Mult):
            _check_bits(left.bit_length() + right.bit_length())
        elif isinstance(op, ast.Pow):
            _check_power(left, right)
    return _result(_BINARY[type(op)](left, right))


def _check_power(base: int, exponent: int) -> None:
    """Refuses ``base ** exponent`` when its result would be too big, before computing it."""
    if exponent <= 0 or abs(base) <= 1:
        return  # a float, or 0, 1 or -1: cheap whatever the exponent
    if exponent > MAX_BITS:
        # |base| >= 2, so at least one bit per unit of exponent; too big for a float estimate.
        _refuse_bits(exponent)
    _check_bits(exponent * math.log2(abs(base)))


def _check_round(args: list[Number]) -> None:
    # round(int, -n) computes 10**n internally.
    if len(args) == 2 and isinstance(args[1], int) and args[1] < 0:
        if -args[1] > MAX_BITS:
            _refuse_bits(-args[1])
        _check_bits(-args[1] * _LOG2_10)


def _check_bits(bits: float) -> None:
    if bits > MAX_BITS:
        _refuse_bits(bits)


def _refuse_bits(bits: float) -> None:
    digits = Decimal(bits) / Decimal(_LOG2_10)
    raise ToolError(
        f"the result would have about {_count(bits)} bits (about {_count(digits)} decimal "
        f"digits); the calculator refuses integers over {MAX_BITS:,} bits"
    )


def _count(n: float | Decimal) -> str:
    """A size for a message: with thousands separators, or in scientific notation when huge."""
    return f"{n:,.0f}" if n < 10**12 else format(Decimal(n), ".2e")


def _result(value: object) -> Number:
    if isinstance(value, complex):
        raise ToolError("the result is not a real number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError("the result is not a number")
    return value


def _finite(value: Number) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("the result is too large for a floating-point number (or undefined)")
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        _refuse_bits(value.bit_length())
    return value


def _arity(function: _Function) -> str:
    low, high = function.min_args, function.max_args
    count = f"{low}" if low == high else f"{low} or {high}"
    return f"{count} argument{'s' if high > 1 else ''}"


def _source(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:80]
    except RecursionError:
        return type(node).__name__


def format_number(value: Number) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    if isinstance(value, float):
        return repr(value)
    return _format_int(value)


def _format_int(value: int) -> str:
    # Decimal converts without Python's int-string limit, and at most MAX_BITS it is quick.
    exact = Decimal(value)
    digits = exact.adjusted() + 1
    if digits <= min(MAX_EXACT_DIGITS, _int_str_limit()):
        try:
            return str(value)
        except ValueError:  # the int-string limit was lowered meanwhile
            pass
    mantissa = format(exact, f".{SIGNIFICANT_DIGITS - 1}e")
    return f"{mantissa} (an integer of {digits:,} digits, shown rounded)"


def _int_str_limit() -> int:
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    return limit or sys.maxsize  # 0 means no limit
