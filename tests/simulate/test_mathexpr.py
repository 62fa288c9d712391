"""The metric-math evaluator: CloudWatch's semantics over series, no eval()."""

from __future__ import annotations

import pytest

from watchbot_cfn.simulate.mathexpr import ExpressionError, evaluate, parse, referenced_ids

SERIES = {"v": [10.0, None, 3.0], "f": [2.0, 4.0, None], "r": [0.0, 2.0, 1.0]}


def run(text: str, series=None):
    return evaluate(parse(text), series or SERIES, {"v": 60, "f": 60, "r": 300})


@pytest.mark.parametrize(("text", "expected"), [
    ("v + f", [12.0, None, None]),             # a missing point on either side is missing
    ("FILL(v, 0) + FILL(f, 0)", [12.0, 4.0, 3.0]),
    ("CEIL(v / 4) - FILL(r, 0)", [3.0, None, 0.0]),
    ("v / r", [None, None, 3.0]),              # division by zero gives no datapoint
    ("FLOOR(v / 4)", [2.0, None, 0.0]),
    ("-v + 2 * 3 ^ 2", [8.0, None, 15.0]),    # ^ binds tighter than *, unary minus
    ("(v - 1) * 2", [18.0, None, 4.0]),
    ("MAX([v, f])", [10.0, 4.0, 3.0]),         # across series, period by period
    ("MIN([v, f, r])", [0.0, 2.0, 1.0]),
    ("SUM([v, f])", [12.0, 4.0, 3.0]),
    ("MAX(v)", [10.0, 10.0, 10.0]),            # of one series: a scalar over it
    ("AVG(r)", [1.0, 1.0, 1.0]),
    ("IF(v > 5, 1, 0)", [1.0, None, 0.0]),
    ("IF(r, v)", [None, None, 3.0]),
    ("IF(v >= 3 AND r != 0, 7, 8)", [8.0, None, 7.0]),
    ("IF(v < 5 || r == 0, 1, 0)", [1.0, None, 1.0]),
    ("FILL(v, REPEAT)", [10.0, 10.0, 3.0]),
    ("FILL(v, LINEAR)", [10.0, 6.5, 3.0]),
    ("FILL(f, r)", [2.0, 4.0, 1.0]),
    ("ABS(r - 1)", [1.0, 1.0, 0.0]),
    ("PERIOD(r) / 60", [5.0, 5.0, 5.0]),
    ("5", [5.0, 5.0, 5.0]),
    ("1 / 0", [None, None, None]),
    ("NOT r", [1.0, 0.0, 0.0]),
])
def test_expressions(text, expected):
    assert run(text) == expected


def test_function_names_are_case_insensitive_and_ids_are_found():
    assert run("ceil(v / 4)") == [3.0, None, 1.0]
    assert referenced_ids(parse("CEIL(visible / 5) - FILL(running, REPEAT)")) == {"visible", "running"}


@pytest.mark.parametrize(("text", "fragment"), [
    ("RATE(v)", "RATE() is not supported"),
    ("v +", "ends too early"),
    ("v $ f", "unexpected '$"),
    ("(v + f", "expected ')'"),
    ("x + 1", "refers to 'x'"),
    ("[v, f]", "not an array"),
    ("[v, f] + 1", "only allowed in MIN"),
    ("CEIL(v, f)", "takes 1 argument"),
    ("", "empty"),
    ("__import__('os')", "unexpected"),
])
def test_errors_name_the_problem(text, fragment):
    with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("$", r"\$").replace("+", r"\+")):
        run(text)
