"""Each metric against a closed form, a second implementation, or the paper's stated value."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import integrate, linalg, stats
from torch import nn

import gankit.classifier as C
import gankit.metrics as M
from gankit.data import InMemoryData, load_mnist
from gankit.toy import Gaussian1D, GaussianMixture1D, Ring2D

X = np.linspace(-12, 12, 24_001)
P = stats.norm.pdf(X, 0, 1)
Q = stats.norm.pdf(X, 1, 1.5)


# ----------------------------------------------------------------------------- 1D

def test_optimal_discriminator_is_the_density_ratio():
    np.testing.assert_allclose(M.optimal_discriminator(P, P), 0.5)
    np.testing.assert_allclose(M.optimal_discriminator(P, Q), P / (P + Q))
    np.testing.assert_array_equal(M.optimal_discriminator([0.0, 1.0, 0.0], [0.0, 0.0, 2.0]),
                                  [0.5, 1.0, 0.0])                    # 0/0 is taken as 1/2


def test_virtual_criterion_is_minus_log_4_at_p_g_equal_p_data():
    assert M.virtual_criterion(P, P, X) == pytest.approx(-math.log(4), abs=1e-9)
    mix = GaussianMixture1D([-2, 2], [0.5, 0.8], [0.3, 0.7])
    assert M.virtual_criterion(mix.pdf(X), mix.pdf(X), X) == pytest.approx(-math.log(4), abs=1e-9)


def test_virtual_criterion_is_minus_log_4_plus_twice_the_jsd():
    assert M.virtual_criterion(P, Q, X) == pytest.approx(-math.log(4) + 2 * M.jsd(P, Q, X),
                                                         abs=1e-9)
    assert M.virtual_criterion(P, Q, X) > -math.log(4)


def test_value_function_is_largest_at_d_star():
    d_star = M.optimal_discriminator(P, Q)
    best = M.value_function(d_star, P, Q, X)
    rng = np.random.default_rng(0)
    others = [np.full_like(X, 0.5), 1 / (1 + np.exp(-X)), np.clip(d_star + 0.05, 0, 1),
              np.clip(d_star + rng.normal(0, 0.1, X.shape), 0.01, 0.99)]
    for D in others:
        assert M.value_function(D, P, Q, X) < best
    # a constant D = 1/2 gives log(1/2) (∫p_data + ∫p_g) = -log 4 whatever p_g is
    assert M.value_function(others[0], P, Q, X) == pytest.approx(-math.log(4), abs=1e-9)


def test_value_function_treats_zero_log_zero_as_zero():
    x = np.linspace(0, 1, 11)
    p_data, p_g = np.r_[np.ones(6), np.zeros(5)], np.r_[np.zeros(5), np.ones(6)]
    v = M.value_function(M.optimal_discriminator(p_data, p_g), p_data, p_g, x)
    assert math.isfinite(v)       # D* is 0 or 1 where only one density lives: no log 0 counted


def test_jsd_bounds_and_two_gaussians_by_monte_carlo():
    assert M.jsd(P, P, X) == pytest.approx(0.0, abs=1e-12)
    far = stats.norm.pdf(X, 9, 0.5), stats.norm.pdf(X, -9, 0.5)
    assert M.jsd(*far, X) == pytest.approx(math.log(2), abs=1e-9)  # disjoint supports
    assert M.jsd(P, Q, X) == pytest.approx(M.jsd(Q, P, X), abs=1e-12)
    # JSD = ½ E_p[log(2p / (p + q))] + ½ E_q[log(2q / (p + q))], by sampling
    rng = np.random.default_rng(0)
    p, q = stats.norm(0, 1), stats.norm(1, 1.5)
    xp, xq = p.rvs(400_000, random_state=rng), q.rvs(400_000, random_state=rng)
    mc = 0.5 * np.mean(np.log(2 * p.pdf(xp) / (p.pdf(xp) + q.pdf(xp)))) \
        + 0.5 * np.mean(np.log(2 * q.pdf(xq) / (p.pdf(xq) + q.pdf(xq))))
    assert M.jsd(P, Q, X) == pytest.approx(mc, abs=2e-3)
    assert 0 < M.jsd(P, Q, X) < math.log(2)


def test_density_from_samples_follows_the_pdf():
    samples = Gaussian1D().sample(20_000, seed=0)
    x = np.linspace(-4, 4, 401)
    np.testing.assert_allclose(M.density_from_samples(samples, x), stats.norm.pdf(x), atol=0.02)
    collapsed = M.density_from_samples(torch.full((100, 1), 0.3), x)   # a collapsed generator
    assert integrate.trapezoid(collapsed, x) == pytest.approx(1.0, abs=1e-3)
    assert x[collapsed.argmax()] == pytest.approx(0.3, abs=0.02)


def test_w1_1d_against_scipy_and_a_shift():
    target = Gaussian1D(0.0, 1.0)
    samples = target.sample(3000, seed=1).numpy().ravel()
    x = np.linspace(-8, 8, 160_001)
    many = target.sample(2_000_000, seed=2).numpy().ravel()             # stands in for F itself
    expected = stats.wasserstein_distance(samples, many)
    assert M.w1_1d(samples, target.cdf, x) == pytest.approx(expected, abs=2e-3)
    assert M.w1_1d(samples, target.cdf(x), x) == M.w1_1d(samples, target.cdf, x)
    # shifting a distribution by 0.7 moves all mass 0.7: W1 = 0.7 (up to sampling noise)
    assert M.w1_1d(samples + 0.7, target.cdf, x) == pytest.approx(0.7, abs=0.06)
    with pytest.raises(ValueError, match="widen x"):
        M.w1_1d(samples + 20, target.cdf, x)


def test_w1_exact_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 2))
    shift = np.array([3.0, -4.0])
    # a translated copy: KR's f(x) = <x, t>/|t| bounds W1 below by |t|, the identity pairing above
    assert M.w1_exact(a, a + shift) == pytest.approx(5.0, abs=1e-9)
    assert M.w1_exact(a, rng.permutation(a)) == pytest.approx(0.0, abs=1e-12)
    # in 1D the sorted pairing is optimal: a second implementation
    x, y = rng.exponential(size=500), rng.normal(size=500)
    assert M.w1_exact(x, y) == pytest.approx(np.abs(np.sort(x) - np.sort(y)).mean(), abs=1e-9)
    assert M.w1_exact(x, y) == pytest.approx(stats.wasserstein_distance(x, y), abs=1e-9)
    # two points each, pairings by hand: {(0,0)->(0,1), (2,0)->(2,1)} beats the crossing one
    assert M.w1_exact([[0, 0], [2, 0]], [[2, 1], [0, 1]]) == pytest.approx(1.0)


def test_w1_exact_refuses_unequal_sizes_and_nan():
    with pytest.raises(ValueError, match="equal shape"):
        M.w1_exact(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        M.w1_exact(np.full((3, 2), np.nan), np.zeros((3, 2)))


def test_grid_mismatch_raises_a_one_line_error():
    with pytest.raises(ValueError, match="q has shape"):
        M.jsd(P, Q[:-1], X)
    with pytest.raises(ValueError, match="increasing"):
        M.value_function(P, P, Q, X[::-1])


# ----------------------------------------------------------------------------- ring

def test_ring_coverage_all_modes_and_one_mode():
    ring = Ring2D()
    result = M.ring_coverage(ring.sample(2500, seed=0), ring.centers, ring.std)
    assert result["modes_covered"] == 8 and len(result["counts"]) == 8
    assert result["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    one = torch.from_numpy(ring.centers[3]) + ring.std * torch.randn(2500, 2,
                                                                     generator=torch.manual_seed(0))
    result = M.ring_coverage(one, ring.centers, ring.std)
    assert result["modes_covered"] == 1 and result["counts"][3] == sum(result["counts"])


def test_ring_coverage_min_count_veegan_style():
    ring = Ring2D()
    x = np.concatenate([np.repeat(ring.centers[:1], 995, 0), ring.centers[1:6]])  # 5 strays
    assert M.ring_coverage(x, ring.centers, ring.std)["modes_covered"] == 1       # needs >= 12.5
    assert M.ring_coverage(x, ring.centers, ring.std, min_count=1)["modes_covered"] == 6
    far = np.array([[0.0, 0.0], [10.0, 10.0]])                                    # not high quality
    assert M.ring_coverage(far, ring.centers, ring.std)["high_quality_fraction"] == 0.0


# ----------------------------------------------------------------------------- digits

@pytest.fixture(scope="module")
def digits() -> InMemoryData:
    return load_mnist("offline", verbose=False)


def test_classifier_shapes_and_shift():
    model = C.MnistClassifier()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert model.features(x).shape == (4, 128) and model(x).shape == (4, 10)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(C.random_shift(x, 0, g), x)
    dot = torch.full((1, 1, 28, 28), -1.0)
    dot[0, 0, 10, 10] = 1.0
    moved = C.random_shift(dot.expand(50, -1, -1, -1), 2, g)
    rows, cols = (moved[:, 0] == 1).nonzero()[:, 1:].T
    assert len(rows) == 50 and rows.sub(10).abs().max() <= 2 and cols.sub(10).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10     # different shifts per image


def test_training_is_seeded_and_leaves_the_global_rng_alone(digits):
    small = InMemoryData(digits.x[:600], digits.y[:600])
    torch.manual_seed(123)
    a = C.train_mnist_classifier(small, epochs=1, seed=0)
    after = torch.rand(1)
    torch.manual_seed(123)
    b = C.train_mnist_classifier(small, epochs=1, seed=0)
    assert torch.equal(torch.rand(1), after)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
    assert a.accuracy == b.accuracy and 0 <= a.accuracy <= 1


def test_get_mnist_classifier_trains_once_then_loads(digits, tmp_path, monkeypatch, capsys):
    small = InMemoryData(digits.x[:300], digits.y[:300], source="300 digits")
    monkeypatch.setattr(C, "load_mnist", lambda *args, **kw: small)
    quick = C.train_mnist_classifier
    monkeypatch.setattr(C, "train_mnist_classifier", lambda data, **kw: quick(data, epochs=1))
    first = C.get_mnist_classifier("offline", tmp_path)
    assert (tmp_path / "mnist_classifier_offline.pt").exists()
    assert "trained" in capsys.readouterr().out
    monkeypatch.setattr(C, "train_mnist_classifier", None)     # a second training would fail
    second = C.get_mnist_classifier("offline", tmp_path)
    assert "loaded" in capsys.readouterr().out and second.accuracy == first.accuracy
    assert not second.training
    x = digits.x[:20]
    assert torch.equal(C.classify(first, x), C.classify(second, x))


class _PixelClassifier(nn.Module):
    """Stand-in classifier whose logits are the first 10 pixels: predictions chosen by hand."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))      # gives the module a device
        self.head = nn.Identity()

    def features(self, x):
        return x.flatten(1)[:, :10]


def _images_of(classes) -> torch.Tensor:
    x = torch.full((len(classes), 1, 28, 28), -1.0)
    x.view(len(classes), -1)[torch.arange(len(classes)), torch.as_tensor(classes)] = 1.0
    return x


def test_digit_metrics_coverage_histogram_and_accuracy():
    classes = [0] * 500 + [1] * 491 + [2] * 9           # digit 2 holds 0.9% < 1%: not covered
    fake = _images_of(classes)
    result = C.digit_metrics(_PixelClassifier(), fake, labels=torch.tensor(classes[::-1]))
    assert result["class_histogram"] == [500, 491, 9] + [0] * 7
    assert result["class_coverage"] == 2
    assert result["class_accuracy"] == pytest.approx(np.mean(np.array(classes) ==
                                                             np.array(classes[::-1])))
    assert C.digit_metrics(_PixelClassifier(), fake, real=fake)["frechet_distance"] == \
        pytest.approx(0.0, abs=1e-6)          # rank-deficient covariances: rounding ~1e-8
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        C.classify(_PixelClassifier(), torch.zeros(3, 784))


def test_gaussian_frechet_distance_closed_form_and_scipy():
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    closed = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum()
    assert M.gaussian_frechet_distance(mu_a, np.diag(var_a), mu_b, np.diag(var_b)) == \
        pytest.approx(closed, abs=1e-12)
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 6, 6))
    cov_a, cov_b = A @ A.T, B @ B.T + np.eye(6)
    by_sqrtm = np.trace(cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real)
    assert M.gaussian_frechet_distance(np.zeros(6), cov_a, np.zeros(6), cov_b) == \
        pytest.approx(by_sqrtm, rel=1e-9)


def test_frechet_distance_on_features():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4000, 5)) * [1, 2, 1, 1, 3]
    b = rng.normal(size=(3000, 5)) + 0.5
    assert M.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert M.frechet_distance(a, b) == pytest.approx(M.frechet_distance(b, a), rel=1e-9)
    closed = 5 * 0.25 + (2 - 1) ** 2 + (3 - 1) ** 2           # means, then (σ_a - σ_b)² per axis
    assert M.frechet_distance(a, b) == pytest.approx(closed, abs=0.15)
    assert M.frechet_distance(torch.from_numpy(a), b) == M.frechet_distance(a, b)


def test_nearest_neighbours_against_brute_force():
    g = torch.Generator().manual_seed(0)
    reference = torch.randint(0, 256, (101, 1, 8, 8), generator=g, dtype=torch.uint8)
    queries = torch.rand(37, 1, 8, 8, generator=g) * 2 - 1
    queries[5] = reference[42].float() / 127.5 - 1                   # an exact copy
    d, i = M.nearest_neighbours(queries, reference, k=3, batch_size=10, reference_chunk=17)
    brute = torch.cdist(queries.double().flatten(1), (reference.double() / 127.5 - 1).flatten(1),
                        compute_mode="donot_use_mm_for_euclid_dist")
    d_true, i_true = brute.topk(3, dim=1, largest=False)
    assert d.shape == i.shape == (37, 3)
    assert torch.equal(i, i_true)
    torch.testing.assert_close(d.double(), d_true, atol=1e-5, rtol=1e-5)
    assert i[5, 0] == 42 and d[5, 0] < 1e-6


@pytest.mark.slow
def test_the_cached_classifier_reads_real_digits(digits):
    data_dir = Path(__file__).resolve().parents[1] / "data"       # the project's cache folder
    classifier = C.get_mnist_classifier("offline", data_dir, verbose=False)
    assert classifier.accuracy >= 0.95
    real = digits.x[digits.y.argsort()][::5]                          # 100 of each digit
    result = C.digit_metrics(classifier, real, labels=digits.y.sort().values[::5], real=digits.x)
    assert result["class_coverage"] == 10 and result["class_accuracy"] >= 0.95
    noise = torch.rand(1000, 1, 28, 28) * 2 - 1
    assert C.digit_metrics(classifier, noise, real=digits.x)["frechet_distance"] > \
        10 * result["frechet_distance"]
