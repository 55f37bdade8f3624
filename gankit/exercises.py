"""The notebooks' exercises: the student's function checked against gankit's reference, then used.

An exercise cell defines the student's function (its body between nbgrader's `### BEGIN SOLUTION`
/ `### END SOLUTION` markers) and hands it to `answer`, which prints one line and returns the
function the cells below use:

    d_star = answer(d_star, check_optimal_discriminator, reference=metrics.optimal_discriminator)
    # ✓ D*: correct on 4 inputs — the cells below use your function
    # … D*: not attempted yet — the cells below use gankit's reference
    # ✗ D*: on input (...) it gives nan at index (0,) where 0.5 was expected. Hint: ... — the cells below use gankit's reference

A checker (one per exercise, in the lesson's module) returns a `Verdict`, usually built by `check`.
The student edition (`python -m gankit edition student`) replaces each solution region by a stub;
the worked edition keeps the markers, and `answer` refuses a worked answer its checker rejects.
See notebooks/CONVENTIONS.md, "Exercises and experiments".
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import random

import numpy as np
import torch

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
USE_YOURS = " — the cells below use your function"
USE_REFERENCE = " — the cells below use gankit's reference"
# The last verdict of each exercise, by the student's function name: `answer` rebinds that name
# (to gankit's reference when the answer is wrong), so a grader reads the verdict here instead.
VERDICTS: dict = {}


class Verdict:
    """A checker's answer: `status` is "correct", "not attempted" or "wrong"; `message` is its one
    line. True only when correct, so `assert check_x(fn)` reads as it should."""

    def __init__(self, status: str, message: str):
        self.status, self.message = status, message

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:            # a bare checker call in a notebook shows the line
        return self.message


def correct(name: str, detail: str) -> Verdict:
    return Verdict("correct", f"✓ {name}: {detail}")


def not_attempted(name: str) -> Verdict:
    return Verdict("not attempted", f"… {name}: not attempted yet")


def wrong(name: str, problem: str, hint: str = "") -> Verdict:
    return Verdict("wrong", f"✗ {name}: {problem}" + (f". Hint: {hint}" if hint else ""))


def is_stub(value) -> bool:
    """What an untouched exercise returns: None (a body of `pass`) or `...`."""
    return value is None or value is Ellipsis


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=float)


def _show(args) -> str:
    """A short description of one input, for the message."""
    parts = []
    for a in args:
        if callable(a):
            parts.append("a function")
        elif isinstance(a, (torch.Tensor, np.ndarray)) and _as_array(a).size > 4:
            parts.append(f"{type(a).__name__} of shape {tuple(a.shape)}")
        elif isinstance(a, (int, float)):     # "(1, 4, 0.5)", not "(1., 4., 0.5)"
            parts.append(f"{a:g}")
        else:
            value = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
            parts.append(np.array2string(value, precision=4))
    return "(" + ", ".join(parts) + ")"


def compare(got, want, atol: float = 1e-6, rtol: float = 1e-5) -> str:
    """"" when got matches want, else a short phrase saying how it differs."""
    try:
        got_a = _as_array(got)
    except (TypeError, ValueError):
        return f"returned a {type(got).__name__} where numbers were expected"
    want_a = _as_array(want)
    if got_a.shape != want_a.shape:
        return f"gives shape {got_a.shape} where {want_a.shape} was expected"
    if np.isnan(got_a).any() and not np.isnan(want_a).any():
        return "gives NaN"
    if np.allclose(got_a, want_a, atol=atol, rtol=rtol, equal_nan=True):
        return ""
    if np.allclose(got_a, -want_a, atol=atol, rtol=rtol) and np.abs(want_a).max() > atol:
        return "has the wrong sign"
    i = np.unravel_index(np.argmax(np.abs(got_a - want_a)), got_a.shape) if got_a.ndim else ()
    where = f" at index {tuple(int(k) for k in i)}" if got_a.ndim else ""
    return f"gives {got_a[i]:.6g}{where} where {want_a[i]:.6g} was expected"


def check(student, reference, inputs, name: str, hint: str = "", atol: float = 1e-6,
          rtol: float = 1e-5, mistakes: dict | None = None) -> Verdict:
    """Compare `student(*args)` with `reference(*args)` for each tuple `args` in `inputs`.

    `mistakes` maps a phrase ("this is the minimax loss, not the non-saturating one") to a wrong
    function students write: when the student's output matches it, the phrase is the message.
    The student gets a deep copy of each input, so an in-place edit cannot change the reference's.
    """
    for args in inputs:
        try:
            got = student(*copy.deepcopy(args))
        except NotImplementedError:
            return not_attempted(name)
        except Exception as error:          # the student's code: report it, never crash the notebook
            return wrong(name, f"raised {type(error).__name__}: {error} on input {_show(args)}", hint)
        if is_stub(got):
            return not_attempted(name)
        problem = compare(got, reference(*args), atol, rtol)
        if problem:
            for phrase, mistake in (mistakes or {}).items():
                if compare(got, mistake(*args), atol, rtol) == "":
                    return wrong(name, phrase, hint)
            return wrong(name, f"on input {_show(args)} it {problem}", hint)
    return correct(name, f"correct on {len(inputs)} inputs")


@contextlib.contextmanager
def random_state_kept():
    """Whatever runs inside leaves torch's, numpy's and Python's global random state as it found
    it: checking an exercise must not change what the cells below draw."""
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def is_worked_answer(fn) -> bool:
    """True when fn's source still holds the solution markers: the worked edition's answer."""
    try:
        return BEGIN_SOLUTION in inspect.getsource(fn)
    except (OSError, TypeError):           # no source to read (a builtin, code made by exec)
        return False


def answer(student, checker, reference):
    """Check `student` with `checker`; print one line; return the function the cells below use:
    the student's when correct, else `reference`. A worked answer (its source holds the solution
    markers) that fails its checker raises AssertionError, so the worked edition cannot go wrong
    silently; in the student edition this never stops the notebook."""
    with random_state_kept():
        try:
            verdict = checker(student)
        except Exception as error:          # a student's odd output must not crash the notebook
            verdict = wrong(getattr(checker, "__name__", "checker"),
                            f"the checker could not run on it ({type(error).__name__}: {error})")
    VERDICTS[getattr(student, "__name__", repr(student))] = verdict
    if verdict:
        print(verdict.message + USE_YOURS)
        return student
    if is_worked_answer(student):
        raise AssertionError(f"the worked answer fails its checker: {verdict.message}")
    print(verdict.message + USE_REFERENCE)
    return reference


def passed(name: str) -> bool:
    """Whether the exercise whose function is called `name` was answered correctly, as `answer`
    last judged it: what an nbgrader autograder test cell asserts (README, "For instructors").
    A name `answer` never saw is refused in one line."""
    if name not in VERDICTS:
        known = ", ".join(sorted(VERDICTS)) or "none yet"
        raise ValueError(f"name={name!r}: no exercise of that name has been answered in this kernel "
                         f"(answered: {known}); run the exercise's cell first")
    return bool(VERDICTS[name])
