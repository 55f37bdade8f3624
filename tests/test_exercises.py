import numpy as np
import torch

from gankit.exercises import check, compare


def reference(u):
    return -np.log1p(-u)                         # exponential F⁻¹ with rate 1


INPUTS = [(np.array([0.1, 0.5, 0.9]),), (np.array(0.25),)]


def test_a_correct_answer(capsys):
    assert check(lambda u: -np.log(1 - u), reference, INPUTS, "exponential F⁻¹")
    assert capsys.readouterr().out == "✓ exponential F⁻¹: correct on 2 inputs\n"


def test_a_wrong_sign_is_named(capsys):
    assert not check(lambda u: np.log(1 - u), reference, INPUTS, "F⁻¹", hint="F(x) = 1 - e^(-x)")
    out = capsys.readouterr().out
    assert out.startswith("✗ F⁻¹: on input ([0.1 0.5 0.9]) it has the wrong sign. Hint: F(x)")
    assert out.count("\n") == 1


def test_a_wrong_value_names_the_input_and_index(capsys):
    assert not check(lambda u: -np.log(1 - u) * (u < 0.8), reference, INPUTS, "F⁻¹")
    assert "at index (2,)" in capsys.readouterr().out


def test_a_wrong_shape_and_an_exception(capsys):
    assert not check(lambda u: np.zeros(7), reference, INPUTS, "F⁻¹")
    assert "shape (7,) where (3,) was expected" in capsys.readouterr().out
    assert not check(lambda u: undefined_name, reference, INPUTS, "F⁻¹")   # noqa: F821
    assert "raised NameError" in capsys.readouterr().out


def test_tensors_and_arrays_compare():
    assert compare(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0])) == ""
    assert "NaN" in compare(torch.tensor([float("nan")]), torch.tensor([1.0]))
