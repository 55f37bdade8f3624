"""The checkers of notebooks 01 and 02: a right answer passes, the usual wrong answers are named."""
import numpy as np
import torch
import torch.nn.functional as F

from gankit.lessons.gan_1d import check_optimal_discriminator, check_value_function
from gankit.lessons.inverse_cdf import check_bisection, check_exponential_icdf


def test_exponential_icdf(capsys):
    assert check_exponential_icdf(lambda u, rate: -np.log1p(-u) / rate)
    assert capsys.readouterr().out == "✓ exponential F⁻¹: correct on 4 inputs\n"
    assert not check_exponential_icdf(lambda u, rate: np.log1p(-u) / rate)
    assert "wrong sign" in capsys.readouterr().out
    assert not check_exponential_icdf(lambda u, rate: -np.log1p(-u) * rate)   # rate misplaced
    assert "Hint: solve u = 1 − exp(−rate·x)" in capsys.readouterr().out


def bisection(cdf, u, lo, hi):
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < u else (lo, mid)
    return (lo + hi) / 2


def test_bisection(capsys):
    assert check_bisection(bisection)
    assert "✓ F⁻¹ by bisection" in capsys.readouterr().out
    assert not check_bisection(lambda cdf, u, lo, hi: (lo + hi) / 2)              # no search at all
    assert "✗ F⁻¹ by bisection" in capsys.readouterr().out


def test_value_function(capsys):
    def as_two_bce(d_real, d_fake):
        return -(F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                 + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))
    assert check_value_function(as_two_bce)
    assert check_value_function(lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean())
    capsys.readouterr()
    assert not check_value_function(lambda r, f: torch.log(r).mean() + torch.log(f).mean())
    assert "✗ V(D, G)" in capsys.readouterr().out
    assert not check_value_function(lambda r, f: -as_two_bce(r, f))                 # the loss, not V
    assert "wrong sign" in capsys.readouterr().out


def test_optimal_discriminator(capsys):
    assert check_optimal_discriminator(
        lambda p, q: np.where(p + q > 0, p / np.where(p + q > 0, p + q, 1), 0.5))
    capsys.readouterr()
    with np.errstate(invalid="ignore"):
        assert not check_optimal_discriminator(lambda p, q: p / (p + q))          # 0/0 -> NaN
    assert "contains NaN" in capsys.readouterr().out
    assert not check_optimal_discriminator(lambda p, q: q / (p + q + 1e-300))
    assert "✗ D*" in capsys.readouterr().out
