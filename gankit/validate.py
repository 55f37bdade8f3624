"""One-line checks for user-supplied values: each error names the parameter, the value, the fix."""
from __future__ import annotations

import math
import numbers


def check_count(name: str, value, allow_zero: bool = False) -> None:
    """A positive integer (or non-negative with allow_zero): epochs, batch sizes, step counts."""
    smallest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name}={value!r} is not allowed: use {kind} integer (e.g. {name}=10)")


MAX_SEED = 2**63 - 1        # torch's generators take 64-bit seeds; ranks and fixed z add a little


def check_seed(value) -> None:
    check_count("seed", value, allow_zero=True)
    if value > MAX_SEED:
        raise ValueError(f"seed={value!r} is too large: use an integer from 0 to 2**63 - 1 "
                         f"(e.g. seed=0)")


def check_number(name: str, value, allow_zero: bool = False) -> None:
    """A positive finite number (or non-negative): learning rates, seconds, penalty weights."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value)
          and (value >= 0 if allow_zero else value > 0))
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        example = f" (e.g. {name}=0.0002)" if name.startswith("lr") else ""
        raise ValueError(f"{name}={value!r} is not allowed: use {kind} finite number{example}")


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def check_not_diverged(history, lr: float, name: str = "lr") -> None:
    """A run stopped by a NaN or infinite loss is reported as what it is, before any quality check
    could blame the budget or the data: training diverged at step N, lower the learning rate."""
    if history.diverged:                           # (what, when), set by GANTrainer's NaN stop
        what, when = history.diverged
        raise RuntimeError(f"training diverged {when} ({what}): lower {name} "
                           f"(now {lr:g}; e.g. {name}={lr / 4:g}) and run again")
