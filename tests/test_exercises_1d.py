"""The checkers of notebooks 01 and 02: a right answer passes and is used downstream, a stub is
"not attempted", and each usual wrong answer gets its own line."""
import numpy as np
import torch
import torch.nn.functional as F

from gankit.lessons import gan_1d
from gankit.lessons.gan_1d import check_optimal_discriminator, check_value_function
from gankit.lessons.inverse_cdf import check_bisection, check_exponential_icdf


def stub(*args):
    raise NotImplementedError("your code here")


def test_exponential_icdf():
    assert check_exponential_icdf(lambda u, rate: -np.log1p(-u) / rate).message == \
        "✓ exponential F⁻¹: correct on 5 inputs"
    assert check_exponential_icdf(stub).status == "not attempted"
    assert "has the wrong sign" in check_exponential_icdf(lambda u, rate: np.log1p(-u) / rate).message
    assert check_exponential_icdf(lambda u, rate: -np.log1p(-u) * rate).message.startswith(
        "✗ exponential F⁻¹: it multiplies by rate where it should divide. Hint:")
    # log(1 - u) is right to 1e-16 for u = 0.5, but off by 1e-4 relative at u = 1e-12: named
    assert check_exponential_icdf(lambda u, rate: -np.log(1 - u) / rate).message.startswith(
        "✗ exponential F⁻¹: it computes log(1 − u), which loses digits for tiny u")


def bisection(cdf, u, lo, hi, width=1e-10, swapped=False):
    while hi - lo > width:
        mid = (lo + hi) / 2
        go_right = (cdf(mid) < u) != swapped
        lo, hi = (mid, hi) if go_right else (lo, mid)
    return (lo + hi) / 2


def test_bisection():
    assert check_bisection(bisection).message == "✓ F⁻¹ by bisection: correct on 5 inputs"
    assert check_bisection(stub).status == "not attempted"
    assert check_bisection(lambda *a: bisection(*a, swapped=True)).message.startswith(
        "✗ F⁻¹ by bisection: it moves the wrong end")
    assert check_bisection(lambda *a: bisection(*a, width=1e-3)).message.startswith(
        "✗ F⁻¹ by bisection: it is within 1e-2 of the answer but not within 1e-6: it stops "
        "halving too early. Hint:")
    assert check_bisection(lambda cdf, u, lo, hi: (lo + hi) / 2).message.startswith(
        "✗ F⁻¹ by bisection: on input (a function, 0.3, -10, 10) it gives 0 where")


def as_two_bce(d_real, d_fake):
    return -(F.binary_cross_entropy(d_real, torch.ones_like(d_real))
             + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))


def test_value_function():
    assert check_value_function(as_two_bce).message == "✓ V(D, G): correct on 4 inputs"
    assert check_value_function(lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean())
    assert check_value_function(stub).status == "not attempted"
    assert check_value_function(lambda r, f: torch.log(r).mean() + torch.log(f).mean()).message \
        .startswith("✗ V(D, G): it uses log D(G(z)) where V has log(1 − D(G(z))). Hint:")
    assert check_value_function(lambda r, f: torch.log(r).sum() + torch.log(1 - f).sum()).message \
        .startswith("✗ V(D, G): it sums over the minibatch where V takes the mean")
    assert "has the wrong sign" in check_value_function(lambda r, f: -as_two_bce(r, f)).message


def d_star(p, q):
    return np.where(p + q > 0, p / np.where(p + q > 0, p + q, 1), 0.5)


def test_optimal_discriminator():
    assert check_optimal_discriminator(d_star).message == "✓ D*: correct on 4 inputs"
    assert check_optimal_discriminator(stub).status == "not attempted"
    assert check_optimal_discriminator(lambda p, q: p / (p + q)).message.startswith(
        "✗ D*: on input ([0.  0.5], [0.  0.5]) it gives NaN. Hint: D* = p_data / (p_data + p_g)")
    assert check_optimal_discriminator(lambda p, q: q / (p + q + 1e-300)).message.startswith(
        "✗ D*: it returns p_g / (p_data + p_g), which is 1 − D*")


def test_the_student_s_d_star_is_what_the_proposition_1_figure_draws():
    x = np.linspace(-3, 3, 7)
    p_data, p_g = np.exp(-x ** 2), np.exp(-(x - 1) ** 2)
    mine = lambda p, q: np.full_like(p, 0.25)                      # noqa: E731 (a recognisable D*)
    fig = gan_1d.plot_discriminator(x, p_data, p_g, np.zeros_like(x), d_star=mine)
    band = [line for line in fig.axes[0].lines if line.get_label().startswith("D*")][0]
    drawn = band.get_ydata()
    assert np.allclose(drawn[~np.isnan(drawn)], 0.25) and (~np.isnan(drawn)).sum() >= 5


def test_the_student_s_value_function_is_what_the_d_steps_record():
    D = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    seen = []

    def mine(d_real, d_fake):                                     # a recognisable V
        seen.append((len(d_real), float(d_real.min()), float(d_real.max())))
        return torch.tensor(-7.0)
    values = gan_1d.train_discriminator(D, lambda n: torch.randn(n, 1) + 1, lambda n: torch.randn(n, 1),
                                        steps=5, batch_size=32, value=mine)
    assert values == [-7.0] * 5
    assert all(n == 32 and 0 < lo <= hi < 1 for n, lo, hi in seen)   # D's probabilities, not logits
