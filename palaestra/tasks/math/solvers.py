"""Reference solutions for reasoning-gym entries: the gold answer in LaTeX, and code that finds it.

Each ``solve_*`` takes an entry of its dataset and returns ``(gold, code)``, or None when the
entry is unusable (its stated answer is not exactly right). The code is what the oracle runs: a
few lines of plain Python that print the answer, exactly (fractions, decimals) where it matters.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

__all__ = [
    "solve_arithmetic",
    "solve_count_bits",
    "solve_count_primes",
    "solve_decimal_sum",
    "solve_dice",
    "solve_equation",
    "solve_gcd",
    "solve_integer_expression",
    "solve_lcm",
]


def _exact(expression: str) -> Fraction | None:
    """The exact value of an expression of numbers, + - * / and parentheses (None: 1/0)."""
    operators: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
    }

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Fraction(ast.get_source_segment(expression, node) or str(node.value))
        raise ValueError(f"unexpected {ast.dump(node)}")

    try:
        return value(ast.parse(expression, mode="eval").body)
    except ZeroDivisionError:
        return None


def _latex(value: Fraction | int) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def solve_arithmetic(entry: dict[str, Any]) -> tuple[str, str] | None:
    """basic_arithmetic: the exact value, in fractions."""
    # reasoning-gym evaluates "/" as floor division; keep the entries where that is exact.
    expression = entry["metadata"]["expression"]
    value = _exact(expression)
    if value is None or value != Fraction(entry["answer"]):
        return None
    code = (
        "import re\nfrom fractions import Fraction\n\n"
        f"expression = {expression!r}\n"
        "# exact arithmetic: every integer becomes a Fraction\n"
        'print(eval(re.sub(r"\\d+", lambda m: f"Fraction({m.group()})", expression)))\n'
    )
    return _latex(value), code


def solve_integer_expression(entry: dict[str, Any]) -> tuple[str, str] | None:
    """chain_sum and products: the value of the expression."""
    expression = entry["metadata"]["expression"]
    if _exact(expression) != int(entry["answer"]):
        return None
    return entry["answer"], f"print({expression})\n"


def solve_decimal_sum(entry: dict[str, Any]) -> tuple[str, str] | None:
    """decimal_chain_sum: the sum, in exact decimals."""
    expression = entry["metadata"]["expression"]
    if _exact(expression) != Fraction(entry["answer"]):
        return None
    exact = re.sub(r"\d+(?:\.\d+)?", lambda m: f"Decimal({m.group()!r})", expression)
    return entry["answer"], f"from decimal import Decimal\n\nprint({exact})\n"


def solve_equation(entry: dict[str, Any]) -> tuple[str, str] | None:
    """simple_equations: the unknown of an equation linear in it, in fractions."""
    equation, variable = entry["metadata"]["equation"], entry["metadata"]["variable"]
    lhs, rhs = equation.split("=")
    code = (
        "from fractions import Fraction\n\n"
        f"lhs, rhs = {lhs.strip()!r}, {rhs.strip()!r}\n"
        f"side = lambda v: eval(lhs, {{{variable!r}: Fraction(v)}})\n"
        "# the left side is linear in the unknown: a * v + b\n"
        "b = side(0)\n"
        "a = side(1) - b\n"
        "print((Fraction(eval(rhs)) - b) / a)\n"
    )
    return entry["answer"], code


def solve_gcd(entry: dict[str, Any]) -> tuple[str, str] | None:
    """gcd: the greatest common divisor of the numbers."""
    return entry["answer"], f"import math\n\nprint(math.gcd(*{entry['metadata']['numbers']}))\n"


def solve_lcm(entry: dict[str, Any]) -> tuple[str, str] | None:
    """lcm: the least common multiple of the numbers."""
    return entry["answer"], f"import math\n\nprint(math.lcm(*{entry['metadata']['numbers']}))\n"


def solve_count_primes(entry: dict[str, Any]) -> tuple[str, str] | None:
    """count_primes: the primes in a range, counted with a sieve."""
    start, end = entry["metadata"]["start"], entry["metadata"]["end"]
    code = (
        f"start, end = {start}, {end}\n"
        "sieve = bytearray([1]) * (end + 1)\n"
        "sieve[: min(2, end + 1)] = bytes(min(2, end + 1))\n"
        "for i in range(2, int(end**0.5) + 1):\n"
        "    if sieve[i]:\n"
        "        sieve[i * i :: i] = bytes(len(range(i * i, end + 1, i)))\n"
        "print(sum(sieve[start : end + 1]))\n"
    )
    return entry["answer"], code


def solve_count_bits(entry: dict[str, Any]) -> tuple[str, str] | None:
    """count_bits: the ones in the number's binary form."""
    return entry["answer"], f"print(bin({entry['metadata']['number']}).count('1'))\n"


def solve_dice(entry: dict[str, Any]) -> tuple[str, str] | None:
    """dice: the probability of rolling at least the target, by counting outcomes."""
    puzzle = entry["metadata"]["puzzle"]
    dice = [int(die.split("d")[1]) for die in puzzle["dice_str"].split(", ")]
    code = (
        "from fractions import Fraction\n\n"
        f"dice, target = {dice}, {puzzle['target']}\n"
        "ways = {0: 1}  # total -> number of ways to roll it\n"
        "for sides in dice:\n"
        "    rolled = {}\n"
        "    for total, count in ways.items():\n"
        "        for face in range(1, sides + 1):\n"
        "            rolled[total + face] = rolled.get(total + face, 0) + count\n"
        "    ways = rolled\n"
        "outcomes = 1\n"
        "for sides in dice:\n"
        "    outcomes *= sides\n"
        "print(Fraction(sum(c for total, c in ways.items() if total >= target), outcomes))\n"
    )
    return _latex(Fraction(puzzle["num"], puzzle["den"])), code
