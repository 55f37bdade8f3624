"""Checkers for the notebooks' exercises: the student's function against gankit's reference.

`check` runs both on a few inputs and answers in one line: correct, or the first thing that
differs (an exception, the shape, the sign, a value at a given input) followed by a hint. Each
notebook's exercises call it through a small named checker, e.g.

    check_exponential_icdf(my_icdf)   # ✓ exponential F⁻¹: correct on 4 inputs

The stored notebooks hold working answers; the prompt above each says "try it yourself first".
"""
from __future__ import annotations

import numpy as np
import torch


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=float)


def _show(args) -> str:
    """A short description of one input, for the message."""
    parts = []
    for a in args:
        if isinstance(a, (torch.Tensor, np.ndarray)) and _as_array(a).size > 4:
            parts.append(f"{type(a).__name__} of shape {tuple(a.shape)}")
        else:
            parts.append(np.array2string(_as_array(a), precision=4) if not callable(a) else "a function")
    return "(" + ", ".join(parts) + ")"


def compare(got, want, atol: float = 1e-6, rtol: float = 1e-5) -> str:
    """"" when got matches want, else a short phrase saying how it differs."""
    got_a, want_a = _as_array(got), _as_array(want)
    if got_a.shape != want_a.shape:
        return f"shape {got_a.shape} where {want_a.shape} was expected"
    if np.isnan(got_a).any() and not np.isnan(want_a).any():
        return "contains NaN"
    if np.allclose(got_a, want_a, atol=atol, rtol=rtol, equal_nan=True):
        return ""
    if np.allclose(got_a, -want_a, atol=atol, rtol=rtol) and np.abs(want_a).max() > atol:
        return "has the wrong sign"
    i = np.unravel_index(np.argmax(np.abs(got_a - want_a)), got_a.shape) if got_a.ndim else ()
    where = f" at index {tuple(int(k) for k in i)}" if got_a.ndim else ""
    return f"gives {got_a[i]:.6g}{where} where {want_a[i]:.6g} was expected"


def check(student, reference, inputs, name: str, hint: str = "", atol: float = 1e-6,
          rtol: float = 1e-5, verbose: bool = True) -> bool:
    """Compare `student(*args)` with `reference(*args)` for each tuple `args` in `inputs`.

    Prints one line (✓ or ✗ with what differs and the hint) and returns True when all match.
    """
    message, ok = f"✓ {name}: correct on {len(inputs)} inputs", True
    for args in inputs:
        try:
            got = student(*args)
        except Exception as error:          # the student's code: report it, never crash the notebook
            message, ok = f"✗ {name}: raised {type(error).__name__}: {error} on input {_show(args)}", False
            break
        problem = compare(got, reference(*args), atol, rtol)
        if problem:
            message, ok = f"✗ {name}: on input {_show(args)} it {problem}", False
            break
    if not ok and hint:
        message += f". Hint: {hint}"
    if verbose:
        print(message)
    return ok
