"""gankit.lessons.gan_1d against the theory it draws: the change of variables, D* (Prop. 1), C(G) (Thm. 1),
the inner loop of Algorithm 1 with G frozen, and the two generator losses' gradients."""
import numpy as np
import pytest
import torch
from scipy import stats

from gankit import GANTrainer, seed_everything
from gankit.lessons.gan_1d import (LOG4, Figure1Recorder, discriminator_curve, generator_density,
                          generator_loss_curves, latent_grid, mode_masses, on_grid,
                          plot_criterion, plot_figure1_panels, plot_generator_losses,
                          plot_snapshot, sampler, train_discriminator)
from gankit.metrics import optimal_discriminator
from gankit.models import MLPDiscriminator, MLPGenerator
from gankit.toy import Gaussian1D, GaussianMixture1D, to_data

from conftest import toy_pair


@pytest.fixture(autouse=True)
def _one_thread():
    """These models are tiny: one thread is faster than several, and far faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def affine_generator(scale, shift, latent):
    """G(z) = shift + scale * z as an MLPGenerator: one hidden unit on the LeakyReLU's linear side."""
    G = MLPGenerator(latent_dim=1, data_shape=(1,), hidden=(1,), out="linear", latent=latent)
    with torch.no_grad():
        first, last = G.net[0], G.net[2]
        first.weight.fill_(1.0), first.bias.fill_(100.0)          # z + 100 > 0: identity
        last.weight.fill_(scale), last.bias.fill_(shift - 100.0 * scale)
    return G


@pytest.mark.parametrize("latent, scale, shift, law", [
    ("normal", 0.5, 1.0, stats.norm(1.0, 0.5)),
    ("normal", -2.0, 0.0, stats.norm(0.0, 2.0)),          # decreasing G: |G'| in the formula
    ("uniform", 3.0, -1.0, stats.uniform(-1.0, 3.0)),
])
def test_generator_density_is_the_change_of_variables(latent, scale, shift, law):
    G = affine_generator(scale, shift, latent)
    x = np.linspace(-8, 8, 3201)
    p_g = generator_density(G, x)
    assert np.trapezoid(p_g, x) == pytest.approx(1.0, abs=2e-3)
    inside = np.abs(x - law.mean()) < 0.9 * law.std() * (1.7 if latent == "uniform" else 3)
    np.testing.assert_allclose(p_g[inside], law.pdf(x[inside]), rtol=0.02, atol=2e-3)


def test_generator_density_keeps_the_mass_of_a_collapsed_generator():
    G = affine_generator(1e-9, 0.3, "uniform")                     # every z -> 0.3
    x = np.linspace(-1, 1, 201)
    p_g = generator_density(G, x)
    assert np.trapezoid(p_g, x) == pytest.approx(1.0, abs=1e-6)
    assert x[p_g.argmax()] == pytest.approx(0.3)


def test_generator_density_refuses_what_it_cannot_do():
    G = MLPGenerator(latent_dim=2, data_shape=(1,), hidden=(4,), out="linear")
    with pytest.raises(ValueError, match="1D latent"):
        generator_density(G, np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="evenly spaced"):
        generator_density(affine_generator(1, 0, "normal"), np.array([0.0, 0.1, 0.5]))


def test_latent_grid_has_segments_of_equal_probability():
    for latent, cdf in (("uniform", lambda z: z), ("normal", stats.norm.cdf)):
        z = latent_grid(affine_generator(1, 0, latent), 100)
        np.testing.assert_allclose(np.diff(cdf(z)), 0.01, atol=1e-6)


def test_on_grid_restores_training_mode_and_d_is_a_probability():
    G, D = toy_pair()
    D.train()
    d = discriminator_curve(D, np.linspace(-3, 3, 7))
    assert D.training and d.shape == (7,) and np.all((d > 0) & (d < 1))
    assert on_grid(G, np.zeros(3)).shape == (3,)


def test_discriminator_converges_to_d_star_with_g_frozen():
    """Prop. 1: for G fixed, the best D is p_data / (p_data + p_g). Here p_g is N(1, 1), p_data N(0, 1):
    D* = 1 / (1 + exp(x - 1/2)) is a logistic curve, so even a small D can reach it."""
    seed_everything(0)
    data, fake = Gaussian1D(0.0, 1.0), Gaussian1D(1.0, 1.0)
    D = MLPDiscriminator(data_shape=(1,), hidden=(16, 16), dropout=0.0)
    values = train_discriminator(D, data.sample, fake.sample, steps=400, batch_size=512, lr=5e-3)
    x = np.linspace(-2, 3, 51)
    d_star = optimal_discriminator(data.pdf(x), fake.pdf(x))
    assert np.max(np.abs(discriminator_curve(D, x) - d_star)) < 0.06
    assert np.mean(values[-50:]) > np.mean(values[:10])               # V went up: D ascends V


def test_discriminator_goes_to_one_half_when_p_g_equals_p_data():
    seed_everything(0)
    data = Gaussian1D(0.0, 1.0)
    D = MLPDiscriminator(data_shape=(1,), hidden=(16,), dropout=0.0)
    values = train_discriminator(D, data.sample, data.sample, steps=300, batch_size=512, lr=5e-3)
    d = discriminator_curve(D, np.linspace(-2, 2, 41))
    assert np.max(np.abs(d - 0.5)) < 0.06
    assert np.mean(values[-50:]) == pytest.approx(-LOG4, abs=0.01)


def test_recorder_snapshots_training_and_its_numbers_obey_the_theory():
    seed_everything(0)
    target = Gaussian1D(1.0, 0.5)
    G, D = toy_pair()
    recorder = Figure1Recorder(target, every=20, n_lines=8)
    trainer = GANTrainer(G, D, lr=5e-3, log_every=10, progress=False, callbacks=[recorder])
    recorder.record(G, D, 0)
    trainer.fit(to_data(target, 1024), batch_size=64, steps=60)
    assert [s.step for s in recorder.snapshots] == [0, 20, 40, 60]
    for s in recorder.snapshots:
        mass = np.trapezoid(recorder.p_data + s.p_g, recorder.x)         # 2 when nothing is off the grid
        assert s.C == pytest.approx(2 * s.jsd - np.log(2) * mass, abs=1e-9)   # Thm. 1
        assert s.C == pytest.approx(-LOG4 + 2 * s.jsd, abs=1e-3)
        assert s.V <= s.C + 1e-12                                      # C(G) = max over D
        assert 0 <= s.gap <= 1 and s.x_lines.shape == (8,)
    first, last = recorder.snapshots[0], recorder.snapshots[-1]
    assert last.jsd < first.jsd                                        # G moved toward the data
    steps, jsds = recorder.trajectory("jsd")
    assert list(steps) == [0, 20, 40, 60] and jsds[-1] == last.jsd
    G.load_state_dict(first.G_state)                                   # the copies rebuild G
    assert generator_density(G, recorder.x) == pytest.approx(first.p_g)


def test_generator_losses_saturate_as_the_paper_says():
    d = np.array([1e-3, 0.5, 0.9])
    curves = generator_loss_curves(d)
    np.testing.assert_allclose(curves["minimax"]["loss"], np.log1p(-d), rtol=1e-9)
    np.testing.assert_allclose(curves["non-saturating"]["loss"], -np.log(d), rtol=1e-9)
    np.testing.assert_allclose(curves["minimax"]["grad"], -d, rtol=1e-9)             # -> 0
    np.testing.assert_allclose(curves["non-saturating"]["grad"], -(1 - d), rtol=1e-9)  # -> -1


def test_mode_masses_and_sampler():
    mixture = GaussianMixture1D([-2, 2], [0.5, 0.5], [0.25, 0.75])
    np.testing.assert_allclose(mode_masses(mixture.sample(20000, seed=0), mixture.means),
                               [0.25, 0.75], atol=0.01)
    G = affine_generator(0.1, 2.0, "normal")                         # N(2, 0.1²): all right
    x = sampler(G)(1000)
    assert x.shape == (1000, 1) and not x.requires_grad
    assert mode_masses(x, [-2, 2]).tolist() == [0.0, 1.0]


def test_the_pictures_draw():
    seed_everything(0)
    target = GaussianMixture1D()
    G, D = toy_pair()
    recorder = Figure1Recorder(target, n_lines=5)
    for step in (0, 10):
        recorder.record(G, D, step)
    for fig in (plot_figure1_panels(recorder, [0, 1], titles=["(a)", "(b)"]),
                plot_snapshot(recorder, 1), plot_criterion(recorder), plot_generator_losses()):
        assert fig.axes and all(ax.get_title() for ax in fig.axes)


def test_density_check_agrees_for_the_right_p_g_and_not_for_another():
    from gankit.lessons.gan_1d import density_check
    seed_everything(0)
    G, _ = toy_pair(latent="normal")
    other, _ = toy_pair(latent="normal")
    x = np.linspace(-4, 4, 1601)
    right = density_check(G, generator_density(G, x), x, n=100_000)
    wrong = density_check(G, generator_density(other, x), x, n=100_000)
    assert right < 0.02 < wrong


def test_density_ratio_plot_and_the_loss_knob():
    import matplotlib.pyplot as plt
    from gankit import Gan1DConfig
    from gankit.lessons.gan_1d import plot_density_ratio
    x = np.linspace(-4, 4, 401)
    p, q = stats.norm.pdf(x, 0, 1), stats.norm.pdf(x, 1, 1)
    fig = plot_density_ratio(x, p, q, np.log(p / q))
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    assert Gan1DConfig.from_params(profile="ci", loss="minimax").loss == "minimax"
    with pytest.raises(ValueError, match="loss"):
        Gan1DConfig.from_params(profile="ci", loss="wasserstein")
