"""The toy targets against closed forms and scipy: densities, CDFs, inverse CDFs, samples."""
import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gankit.data import InMemoryData
from gankit.toy import Exponential1D, Gaussian1D, GaussianMixture1D, Ring2D, to_data

TARGETS = [Gaussian1D(1.0, 2.0), Exponential1D(1.5), GaussianMixture1D([-2, 0, 3], [0.5, 1, 0.3],
                                                                      [0.25, 0.5, 0.25])]
IDS = ["gaussian", "exponential", "mixture"]


@pytest.mark.parametrize("dist", TARGETS, ids=IDS)
def test_pdf_integrates_to_one_and_cdf_is_its_integral(dist):
    def integral(a, b):                  # split at 0, where the exponential's pdf jumps
        pieces = [(a, min(b, 0.0)), (max(a, 0.0), b)]
        return sum(integrate.quad(dist.pdf, lo, hi, limit=200)[0] for lo, hi in pieces if lo < hi)
    assert integral(-40, 40) == pytest.approx(1.0, abs=1e-9)
    for a, b in [(-1.0, 2.5), (0.5, 3.0), (-3.0, -0.5)]:
        assert dist.cdf(b) - dist.cdf(a) == pytest.approx(integral(a, b), abs=1e-9)


def test_gaussian_and_exponential_match_scipy():
    u = np.linspace(0.001, 0.999, 999)
    x = np.linspace(-5, 8, 200)
    g, e = Gaussian1D(1.0, 2.0), Exponential1D(1.5)
    np.testing.assert_allclose(g.icdf(u), stats.norm.ppf(u, 1.0, 2.0), rtol=1e-12)
    np.testing.assert_allclose(g.pdf(x), stats.norm.pdf(x, 1.0, 2.0), rtol=1e-12)
    np.testing.assert_allclose(e.icdf(u), stats.expon.ppf(u, scale=1 / 1.5), rtol=1e-12)
    np.testing.assert_allclose(e.cdf(x), stats.expon.cdf(x, scale=1 / 1.5), atol=1e-15)
    np.testing.assert_allclose(e.pdf(x), stats.expon.pdf(x, scale=1 / 1.5), atol=1e-15)


def test_mixture_icdf_inverts_its_cdf_and_is_monotone():
    mix = TARGETS[2]
    x = np.linspace(-4, 4, 1001)
    np.testing.assert_allclose(mix.icdf(mix.cdf(x)), x, atol=1e-8)
    u = np.linspace(1e-9, 1 - 1e-9, 10_001)
    np.testing.assert_allclose(mix.cdf(mix.icdf(u)), u, atol=1e-10)
    assert np.all(np.diff(mix.icdf(u)) >= 0)
    assert mix.icdf(0.0) == -np.inf and mix.icdf(1.0) == np.inf
    assert mix.icdf(np.zeros((2, 3))).shape == (2, 3)        # vectorised, shape kept


def test_one_component_mixture_is_the_gaussian():
    u = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(GaussianMixture1D([1.0], [2.0], [1.0]).icdf(u),
                               Gaussian1D(1.0, 2.0).icdf(u), atol=1e-9)


@pytest.mark.parametrize("dist", TARGETS, ids=IDS)
def test_samples_pass_a_ks_test_against_the_cdf(dist):
    x = dist.sample(5000, seed=0)
    assert x.shape == (5000, 1) and x.dtype == torch.float32
    assert stats.kstest(x.squeeze(1).double().numpy(), dist.cdf).pvalue > 0.01


@pytest.mark.parametrize("dist", TARGETS + [Ring2D()], ids=IDS + ["ring"])
def test_seeding_is_reproducible(dist):
    assert torch.equal(dist.sample(100, seed=3), dist.sample(100, seed=3))
    assert not torch.equal(dist.sample(100, seed=3), dist.sample(100, seed=4))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(dist.sample(10, g1), dist.sample(10, g2))


def test_plot_range_holds_the_mass():
    for dist in TARGETS:
        lo, hi = dist.plot_range()
        assert dist.cdf(hi) - dist.cdf(lo) > 0.999
        assert dist.grid(11).shape == (11,)


def test_describe_reports_the_parameters():
    assert Gaussian1D(1.0, 2.0).describe() == {"kind": "gaussian", "means": [1.0], "stds": [2.0],
                                               "weights": [1.0]}
    assert Exponential1D(2.0).describe() == {"kind": "exponential", "means": [0.5],
                                             "stds": [0.5], "weights": [1.0]}
    assert GaussianMixture1D([0, 1], [1, 1], [1, 3]).describe()["weights"] == [0.25, 0.75]
    assert Ring2D().describe() == {"kind": "ring", "n_modes": 8, "radius": 2.0, "std": 0.02}


def test_ring_centres_pdf_and_samples():
    ring = Ring2D(n_modes=8, radius=2.0, std=0.1)
    assert ring.centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0)
    # the pdf integrates to 1 over the plane
    t = np.linspace(*ring.plot_range(), 801)
    xx, yy = np.meshgrid(t, t)
    pdf = ring.pdf(np.stack([xx, yy], -1))
    assert integrate.trapezoid(integrate.trapezoid(pdf, t), t) == pytest.approx(1.0, abs=1e-4)
    x = ring.sample(8000, seed=0)
    assert x.shape == (8000, 2) and x.dtype == torch.float32
    nearest = torch.cdist(x.double(), torch.from_numpy(ring.centers)).min(1)
    counts = np.bincount(nearest.indices.numpy(), minlength=8)
    assert counts.min() > 850 and counts.max() < 1150           # each mode about 1000
    assert nearest.values.std().item() == pytest.approx(0.1 * np.sqrt(2 - np.pi / 2), rel=0.05)


def test_to_data_wraps_samples_for_the_training_loop():
    data = to_data(Gaussian1D(), 64, seed=1)
    assert isinstance(data, InMemoryData) and data.shape == (1,) and len(data) == 64
    assert torch.equal(data.x, Gaussian1D().sample(64, 1))
    assert "Gaussian1D(mean=0.0, std=1.0)" in data.source and "seed 1" in data.source
    assert to_data(Ring2D(), 32, 0).shape == (2,)


@pytest.mark.parametrize("make, name", [
    (lambda: Gaussian1D(std=0), "std"),
    (lambda: Gaussian1D(mean=float("nan")), "mean"),
    (lambda: Exponential1D(rate=-1), "rate"),
    (lambda: GaussianMixture1D([0, 1], [1, -1], [0.5, 0.5]), "stds"),
    (lambda: GaussianMixture1D([0, 1], [1, 1], [0.5, 0.0]), "weights"),
    (lambda: GaussianMixture1D([0, 1], [1], [0.5, 0.5]), "equal length"),
    (lambda: Ring2D(n_modes=0), "n_modes"),
    (lambda: Ring2D(std=0), "std"),
    (lambda: Gaussian1D().sample(0), "n="),
    (lambda: Gaussian1D().sample(5, seed=-1), "seed"),
    (lambda: Gaussian1D().icdf([0.5, 1.5]), "[0, 1]"),
])
def test_bad_arguments_raise_one_line_errors(make, name):
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    assert name in message and "\n" not in message


def test_two_modes_is_the_shared_mixture():
    from gankit.toy import two_modes
    mix = two_modes()
    x = np.linspace(-8, 8, 16_001)
    assert np.trapezoid(mix.pdf(x), x) == pytest.approx(1.0, abs=1e-9)
    assert mix.cdf(0.0) == pytest.approx(0.5)                      # symmetric, equal weights
    assert (mix.means[1] - mix.means[0]) / mix.stds[0] == pytest.approx(6.0)
