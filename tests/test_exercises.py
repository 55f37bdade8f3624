"""gankit.exercises: the one-line verdicts, and `answer`, which picks the function the cells below use."""
import numpy as np
import pytest
import torch

from gankit.exercises import answer, check, compare, passed


def reference(u):
    return -np.log1p(-u)                         # exponential F⁻¹ with rate 1


INPUTS = [(np.array([0.1, 0.5, 0.9]),), (np.array(0.25),)]


def checker(student):
    return check(student, reference, INPUTS, "F⁻¹", hint="F(x) = 1 − e^(−x)",
                 mistakes={"it uses log(u)": lambda u: -np.log(u)})


def test_a_correct_answer():
    verdict = check(lambda u: -np.log(1 - u), reference, INPUTS, "exponential F⁻¹")
    assert verdict and verdict.status == "correct"
    assert verdict.message == "✓ exponential F⁻¹: correct on 2 inputs"


def test_a_stub_is_not_attempted():
    def stub(u):
        raise NotImplementedError("your code here")
    for fn in (stub, lambda u: None, lambda u: ...):
        verdict = checker(fn)
        assert not verdict and verdict.status == "not attempted"
        assert verdict.message == "… F⁻¹: not attempted yet"


def test_a_wrong_sign_is_named():
    verdict = checker(lambda u: np.log(1 - u))
    assert verdict.status == "wrong"
    assert verdict.message == "✗ F⁻¹: on input ([0.1 0.5 0.9]) it has the wrong sign. Hint: F(x) = 1 − e^(−x)"


def test_a_known_mistake_is_named_not_shown_as_numbers():
    assert checker(lambda u: -np.log(u)).message == "✗ F⁻¹: it uses log(u). Hint: F(x) = 1 − e^(−x)"


def test_a_wrong_value_names_the_input_and_index():
    assert "at index (2,)" in checker(lambda u: -np.log(1 - u) * (u < 0.8)).message


def test_a_wrong_shape_an_exception_and_a_string():
    assert "shape (7,) where (3,) was expected" in checker(lambda u: np.zeros(7)).message
    assert "raised NameError" in checker(lambda u: undefined_name).message   # noqa: F821
    assert "returned a str where numbers were expected" in checker(lambda u: "x").message


def test_the_student_cannot_change_the_reference_s_input():
    def in_place(u):
        u *= 0                                   # would corrupt the input the reference then sees
        return -np.log1p(-u)
    assert "gives 0" in checker(in_place).message


def test_tensors_and_arrays_compare():
    assert compare(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0])) == ""
    assert "NaN" in compare(torch.tensor([float("nan")]), torch.tensor([1.0]))


def test_answer_uses_a_correct_function_and_says_so(capsys):
    mine = lambda u: -np.log(1 - u)              # noqa: E731
    assert answer(mine, checker, reference) is mine
    assert capsys.readouterr().out == "✓ F⁻¹: correct on 2 inputs — the cells below use your function\n"


def test_answer_falls_back_to_the_reference_for_a_stub_and_a_wrong_answer(capsys):
    def stub(u):
        raise NotImplementedError("your code here")
    assert answer(stub, checker, reference) is reference
    assert capsys.readouterr().out == "… F⁻¹: not attempted yet — the cells below use gankit's reference\n"
    assert answer(lambda u: np.log(1 - u), checker, reference) is reference
    out = capsys.readouterr().out
    assert out.startswith("✗ F⁻¹: on input") and out.endswith(
        "Hint: F(x) = 1 − e^(−x) — the cells below use gankit's reference\n")
    assert out.count("\n") == 1


def test_passed_reports_the_student_s_verdict_after_the_name_is_rebound(capsys):
    """An nbgrader test cell cannot re-check `icdf` after `answer` (it may now be the reference):
    `passed` reads the verdict `answer` recorded under the student's function name."""
    def icdf(u):
        raise NotImplementedError("your code here")
    icdf = answer(icdf, checker, reference)
    assert icdf is reference and passed("icdf") is False         # the reference would pass a re-check

    def icdf(u):                                                  # noqa: F811  (the student's next try)
        return -np.log(1 - u)
    answer(icdf, checker, reference)
    assert passed("icdf") is True
    with pytest.raises(ValueError, match="name='d_star': no exercise of that name has been answered"):
        passed("d_star")


def worked_but_wrong(u):
    ### BEGIN SOLUTION
    return np.log(1 - u)                         # the sign lost: the worked edition must not pass
    ### END SOLUTION


def worked_and_right(u):
    ### BEGIN SOLUTION
    return -np.log1p(-u)
    ### END SOLUTION


def test_a_worked_answer_that_fails_its_checker_stops_the_notebook(capsys):
    with pytest.raises(AssertionError, match="the worked answer fails its checker: ✗ F⁻¹: on input"):
        answer(worked_but_wrong, checker, reference)
    assert answer(worked_and_right, checker, reference) is worked_and_right


def test_a_checker_that_crashes_is_reported_not_raised(capsys):
    def broken(student):
        raise KeyError("oops")
    assert answer(lambda u: u, broken, reference) is reference
    assert "the checker could not run on it (KeyError" in capsys.readouterr().out


def test_checking_leaves_the_student_s_random_state_alone():
    def draws(u):                                # a student's answer that draws random numbers
        torch.rand(5), np.random.rand(5)
        return -np.log1p(-u)
    torch.manual_seed(1), np.random.seed(1)
    expected = torch.rand(3), np.random.rand(3)
    torch.manual_seed(1), np.random.seed(1)
    answer(draws, checker, reference)
    assert torch.equal(torch.rand(3), expected[0]) and np.array_equal(np.random.rand(3), expected[1])
