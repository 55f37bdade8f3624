"""gankit.lessons.inverse_cdf: the pictures of notebook 01 and the monotone network learned from sorted samples."""
import numpy as np
import pytest
import torch
from scipy import stats

from gankit.lessons.inverse_cdf import (MonotoneMLP, fit_monotone, ks_distance_of_monotone, plot_inverse_cdf,
                                plot_mapping, plot_samples_vs_pdf, quantile_pairs)
from gankit.toy import Exponential1D, Gaussian1D, GaussianMixture1D


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # a 49-parameter network: more threads only add waiting
    yield
    torch.set_num_threads(threads)


def test_quantile_pairs_are_the_empirical_inverse_cdf():
    dist = Gaussian1D(1.0, 2.0)
    u, x = quantile_pairs(dist.sample(20000, seed=0))
    assert np.all(np.diff(x) >= 0) and u[0] == pytest.approx(0.5 / 20000)
    inner = (u > 0.01) & (u < 0.99)
    assert np.max(np.abs(x[inner] - dist.icdf(u[inner]))) < 0.15


def test_monotone_mlp_is_increasing_for_any_weights():
    torch.manual_seed(0)
    net = MonotoneMLP(hidden=8, low=-2, high=3)
    u = torch.linspace(0, 1, 101)[:, None]
    with torch.no_grad():
        start = net(u).flatten()
        assert start[0] == pytest.approx(-2, abs=1e-4) and start[-1] == pytest.approx(3, abs=1e-4)
        for p in net.parameters():
            p.normal_(0, 3)                              # any weights at all
        assert torch.all(torch.diff(net(u).flatten()) >= 0)
    with pytest.raises(ValueError, match="low < high"):
        MonotoneMLP(low=1, high=1)


def test_a_monotone_net_fitted_to_sorted_samples_learns_the_inverse_cdf():
    torch.manual_seed(0)
    dist = GaussianMixture1D()
    u, x = quantile_pairs(dist.sample(4000, seed=1))
    net = MonotoneMLP(hidden=16, low=x.min(), high=x.max())
    before = ks_distance_of_monotone(net, dist.cdf)
    errors = fit_monotone(net, u, x, epochs=60, batch_size=500, lr=3e-2)
    after = ks_distance_of_monotone(net, dist.cdf)
    assert errors[-1] < errors[0] and after < 0.05 < before


def test_ks_distance_of_the_exact_inverse_cdf_is_zero():
    class ExactIcdf(torch.nn.Module):
        def forward(self, u):
            return torch.as_tensor(stats.norm.ppf(u.double().numpy()))
    assert ks_distance_of_monotone(ExactIcdf(), stats.norm.cdf) < 1e-6


def test_the_pictures_draw():
    for dist in (Gaussian1D(), Exponential1D(), GaussianMixture1D()):
        for fig in (plot_mapping(dist, z=0.2), plot_inverse_cdf(dist, 0.7, dist.kind),
                    plot_samples_vs_pdf(dist, dist.sample(500, seed=0))):
            assert fig.axes and all(ax.get_title() for ax in fig.axes)
    (ax_f, _) = plot_inverse_cdf(Gaussian1D(), 0.975, "normal").axes
    assert "1.960" in ax_f.get_legend().get_texts()[1].get_text()     # F⁻¹(0.975) of N(0, 1)


def test_monotone_network_is_bounded_by_its_ends():
    # a sum of sigmoid steps: G(U) can never leave [G(0), G(1)] (notebook 01 shows what it costs)
    net = MonotoneMLP(hidden=8, low=-2.0, high=3.0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
        ends = net(torch.tensor([[0.0], [1.0]])).flatten()
        inside = net(torch.rand(1000, 1, generator=torch.Generator().manual_seed(1))).flatten()
    assert ends[0] <= inside.min() and inside.max() <= ends[1]


def test_monotone_mlp_keeps_torch_s_default_dtype_for_numpy_bounds():
    """Notebook 01 passes the sorted samples' ends (numpy float64) as low and high. A float64
    parameter made the output float64: the CPU promoted it silently, CUDA's backward failed
    ("Found dtype Float but expected Double", seen in the gpu profile on an H200)."""
    net = MonotoneMLP(hidden=4, low=np.float64(-1.5), high=np.float64(2.5))
    assert {p.dtype for p in net.parameters()} == {torch.get_default_dtype()}
    assert net(torch.rand(3, 1)).dtype == torch.get_default_dtype()
