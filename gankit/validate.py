"""One-line checks for user-supplied values: each error names the parameter, the value, the fix."""
from __future__ import annotations

import numbers


def check_count(name: str, value, allow_zero: bool = False) -> None:
    """A positive integer (or non-negative with allow_zero): epochs, batch sizes, step counts."""
    smallest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name}={value!r} is not allowed: use {kind} integer (e.g. {name}=10)")


def check_number(name: str, value, allow_zero: bool = False) -> None:
    """A positive finite number (or non-negative): learning rates, seconds, penalty weights."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and value == value and value not in (float("inf"),)
          and (value >= 0 if allow_zero else value > 0))
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        example = f" (e.g. {name}=0.0002)" if name.startswith("lr") else ""
        raise ValueError(f"{name}={value!r} is not allowed: use {kind} finite number{example}")


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
