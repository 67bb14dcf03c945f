"""The calculator refuses what would hurt the worker, and every failure is a ToolError."""

from __future__ import annotations

import ast
import math
import operator
from types import SimpleNamespace

import pytest

from backend.tools import calculator
from backend.tools.calculator import MAX_BITS, calculate
from backend.tools.errors import ToolError


@pytest.fixture
def guarded_pow(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, object]]:
    """Replaces ``**`` with a spy that fails the test instead of computing a huge power.

    A refusal that only came after computing would hit the spy, so passing tests show
    the size was estimated first (and no test ever spends minutes in a real power).
    """
    calls: list[tuple[object, object]] = []

    def spy(base: int | float, exponent: int | float) -> int | float:
        calls.append((base, exponent))
        if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
            assert exponent * math.log2(abs(base)) <= MAX_BITS, "computed a huge power"
        return operator.pow(base, exponent)

    monkeypatch.setitem(calculator._BINARY, ast.Pow, spy)
    return calls


def test_everyday_arithmetic_still_works() -> None:
    assert calculate("12*7") == "84"
    assert calculate("17/4") == "4.25"
    assert calculate("2^10") == "1024"
    assert calculate("round(2.567, 2)") == "2.57"
    assert calculate("sqrt(16) + abs(-3) + log(1)") == "7"
    assert calculate("2**200") == str(2**200)


def test_a_power_that_would_hold_the_gil_is_refused_before_computing(
    guarded_pow: list[tuple[object, object]],
) -> None:
    with pytest.raises(ToolError) as refused:
        calculate("(10**10000)**1000 % 7")
    # The message names the estimated size: 1000 x log2(10**10000) bits.
    assert "about 33,219,281 bits" in str(refused.value)
    assert f"over {MAX_BITS:,} bits" in str(refused.value)
    assert guarded_pow == [(10, 10000)]  # only the inner, bounded power ran


def test_a_power_that_would_run_for_minutes_is_refused_before_computing(
    guarded_pow: list[tuple[object, object]],
) -> None:
    with pytest.raises(ToolError, match=r"about 332,192,809 bits"):
        calculate("(10**10000)**10000")
    with pytest.raises(ToolError, match=r"about 1\.00e\+200 bits"):
        calculate("2**(10**200)")


def test_a_product_over_the_cap_is_refused_before_multiplying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_huge_product(a: int, b: int) -> int:
        assert a.bit_length() + b.bit_length() <= MAX_BITS, "computed a huge product"
        return a * b

    monkeypatch.setitem(calculator._BINARY, ast.Mult, no_huge_product)
    with pytest.raises(ToolError, match="bits"):
        calculate("3**63000 * 3**63000")


def test_round_to_a_huge_negative_precision_is_refused() -> None:
    # round(int, -n) computes 10**n inside CPython.
    with pytest.raises(ToolError, match="bits"):
        calculate("round(5, -10**8)")


def test_a_bounded_big_computation_finishes_and_prints_in_scientific_notation() -> None:
    result = calculate("2**99999")
    assert result.startswith("4.99501046507192e+30102")
    assert "30,103 digits" in result
    assert calculate("3**31000 * 3**31000").startswith("3.29452357079459e+29581")


def test_an_int_too_long_for_str_is_shown_not_raised() -> None:
    # Over Python's int-string limit of 4300 digits: str() would raise ValueError.
    assert calculate("10**5000") == (
        "1.00000000000000e+5000 (an integer of 5,001 digits, shown rounded)"
    )
    assert calculate("-(10**5000)").startswith("-1.00000000000000e+5000")


def test_the_int_string_limit_is_respected_even_when_lowered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calculator, "MAX_EXACT_DIGITS", 100_000)
    assert "(an integer of 5,001 digits" in calculate("10**5000")


def test_the_time_limit_is_enforced_between_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(1000))  # a clock that moves one second per reading
    monkeypatch.setattr(calculator, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    assert calculate("1+2", time_limit=10) == "3"
    with pytest.raises(ToolError, match="took longer than its limit of 3 s"):
        calculate("1+2+3+4+5+6", time_limit=3)


def test_a_zero_time_limit_refuses_at_once() -> None:
    with pytest.raises(ToolError, match="took longer"):
        calculate("1+1", time_limit=0)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("abs(1,2)", r"abs\(\) takes 1 argument, got 2"),
        ("sqrt()", r"sqrt\(\) takes 1 argument, got 0"),
        ("round(1, 2, 3)", r"round\(\) takes 1 or 2 arguments, got 3"),
        ("log(x=2)", "plain arguments"),
        ("x + 1", "unknown name 'x'"),
        ("foo(2)", "unknown function 'foo'"),
        ("sqrt", "is a function"),
        ("sqrt(-1)", "math domain error"),
        ("log(0)", "math domain error"),
        ("1/0", "division by zero"),
        ("round(1.5, 0.5)", "cannot compute"),  # TypeError inside round()
        ("(2**99999) / 3", "too large for a float"),
        ("1e308 * 10", "too large for a floating-point number"),
        ("1e309", "too large for a floating-point number"),
        ("(-8) ** (1/3)", "not a real number"),
        ("'text'", "not a number"),
        ("True + 1", "not a number"),
        ("a.b", "unsupported"),
        ("1 +", "not an arithmetic expression"),
        ("1\0", "not an arithmetic expression"),
        ("-" * 499 + "1", "nested too deeply"),
        ("(" * 240 + "1" + ")" * 240, "not an arithmetic expression"),
        ("1" * 501, "longer than 500"),
    ],
)
def test_every_failure_is_a_tool_error(expression: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        calculate(expression)


def test_an_expression_that_is_not_text_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="must be a string"):
        calculate(12)  # type: ignore[arg-type]
