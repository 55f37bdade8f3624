"""gankit.lessons.wgan (the ring): the three ring recipes, the tracker's measurements, and the figures (tiny runs)."""
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gankit import WGANConfig
from gankit.lessons.wgan import (RingTracker, critic_on_grid, critic_weights, interpolate_grad_norms,
                         plot_coverage, plot_diagnosis, plot_interpolate_grad_norms,
                         plot_ring_maps, plot_target, plot_weight_histograms, ring_models,
                         ring_recipes, train_ring)
from gankit.toy import Ring2D, to_data


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # networks of a few hundred weights: a second thread only adds waiting (badly so on shared cores)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def ring_and_data():
    ring = Ring2D(std=0.05)
    return ring, to_data(ring, 512, seed=0)


@pytest.fixture(scope="module")
def tiny_runs(ring_and_data):
    ring, data = ring_and_data
    cfg = WGANConfig.from_params(profile="ci")
    return {name: train_ring(name, recipe, ring, data, steps=6, batch_size=32, hidden=8, seed=0,
                             n_maps=2, log_points=3, progress=False)
            for name, recipe in ring_recipes(cfg).items()}


def test_the_recipes_are_the_papers():
    cfg = WGANConfig.from_params(profile="cpu")
    r = ring_recipes(cfg)
    assert r["vanilla"]["loss"] == "non-saturating" and r["vanilla"]["n_critic"] == 1
    assert r["wgan_clip"] == dict(loss="wasserstein", optimizer="rmsprop", lr=5e-5, clip_value=0.01,
                                  n_critic=5)
    gp = r["wgan_gp"]
    assert (gp["loss"], gp["optimizer"], gp["lr"], gp["betas"], gp["lambda_gp"], gp["n_critic"]) == \
        ("wasserstein-gp", "adam", 1e-4, (0.0, 0.9), 10.0, 5)


def test_interpolate_grad_norms_of_a_linear_critic_is_the_weight_norm():
    D = torch.nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))
    x_real, x_fake, eps = torch.randn(5, 2), torch.randn(5, 2), torch.rand(5, 1)
    assert torch.allclose(interpolate_grad_norms(D, x_real, x_fake, eps), torch.full((5,), 5.0))


def test_critic_on_grid_matches_calling_D():
    _, D = ring_models(hidden=8)
    xs, ys, f = critic_on_grid(D, (-1.0, 1.0), n=7)
    assert f.shape == (7, 7) and xs[0] == -1.0 and xs[-1] == 1.0
    with torch.no_grad():        # row i is y = ys[i], column j is x = xs[j]
        assert np.isclose(f[2, 5], D(torch.tensor([[xs[5], ys[2]]])).item(), atol=1e-6)


def test_tracker_on_a_perfect_generator_sees_every_mode(ring_and_data):
    ring, _ = ring_and_data

    class Perfect(torch.nn.Module):          # ignores z and returns samples of the ring itself
        latent_dim = 2

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z):
            return ring.sample(len(z), seed=3) + 0 * self.w

    tracker = RingTracker(ring, n_samples=800, map_steps=[5])
    _, D = ring_models(hidden=8)
    tracker.measure(Perfect(), D, 0)
    tracker.measure(Perfect(), D, 5)
    assert tracker.modes == [8, 8] and tracker.hq[0] > 0.95
    assert [m[0] for m in tracker.maps] == [5]            # a map only at the requested step


def test_runs_share_initial_weights_and_record_what_the_figures_need(tiny_runs):
    first = [run.tracker.maps[0][1] for run in tiny_runs.values()]
    assert all(torch.equal(first[0], x) for x in first[1:])       # the same G at step 0
    for run in tiny_runs.values():
        assert run.summary["steps"] == 6 and not run.summary["stopped_early"]
        # maps at 0, then at the first logged step (every 2) at or past 3 and 6
        assert [m[0] for m in run.tracker.maps] == [0, 4, 6]
        assert run.tracker.steps[-1] == 6 and len(run.tracker.grad_norm) == len(run.tracker.steps)
    clipped = critic_weights(tiny_runs["wgan_clip"].D)
    assert np.abs(clipped).max() <= 0.01 + 1e-7                   # clipping held every weight


def test_the_figures_draw(tiny_runs, ring_and_data):
    ring, data = ring_and_data
    runs = list(tiny_runs.values())
    figs = [plot_target(ring, data.x[:100]), plot_ring_maps(runs, ring), plot_coverage(runs),
            plot_weight_histograms({r.name: r.D for r in runs[1:]}, 0.01),
            plot_interpolate_grad_norms(runs),
            plot_diagnosis({"a": runs[0], "b": runs[2]}, "grad_norm_G", "‖∇G‖", "t", log=True),
            plot_diagnosis({"a": runs[0]}, "modes", "modes", "t", max_step=3)]
    for fig in figs:
        assert fig.axes and fig.dpi <= 100
        plt.close(fig)


def test_the_config_checks_its_06_knobs():
    cfg = replace(WGANConfig.from_params(profile="ci", beta1=0.5), lr_D=None)
    assert ring_recipes(cfg)["wgan_gp"]["lr_D"] is None          # the trainer then uses lr for D
    for bad, name in ((dict(beta1=1.0), "beta1"), (dict(ring_std=0), "ring_std"),
                      (dict(ring_steps=0), "ring_steps"), (dict(lr_D=-1e-4), "lr_D")):
        with pytest.raises(ValueError, match=name):
            WGANConfig.from_params(profile="ci", **bad)


# ----------------------------------------------------------- Kantorovich-Rubinstein, section 1 of 06

def test_a_gp_critic_recovers_w1_and_an_untrained_one_does_not():
    from gankit.lessons.wgan import shifted_uniforms, train_gp_critic
    from gankit.metrics import w1_exact
    x_real, x_fake = shifted_uniforms(2.0, n=500, seed=0)
    exact = w1_exact(x_real, x_fake)
    assert exact == pytest.approx(2.0, abs=0.05)                    # every unit of mass moves by d
    _, trained = train_gp_critic(x_real, x_fake, steps=300, seed=0)
    # soft penalty: a critic of slope s earns d·s - λ(s - 1)², largest at s = 1 + d/(2λ)
    assert trained == pytest.approx(2.0 * (1 + 2.0 / 20), rel=0.15)
    _, untrained = train_gp_critic(x_real, x_fake, steps=1, seed=0)
    assert abs(untrained) < 0.5 * exact                             # a check on it would fail


def test_kr_duality_rows_jsd_saturates():
    from gankit.lessons.wgan import kr_duality_1d, plot_kr_duality
    rows = kr_duality_1d([0.5, 1.0, 3.0], n=200, steps=2, seed=0)
    assert [r["distance"] for r in rows] == [0.5, 1.0, 3.0]
    assert rows[0]["jsd"] == pytest.approx(0.5 * np.log(2), abs=2e-3)   # d·log 2 while they overlap
    assert rows[2]["jsd"] == pytest.approx(np.log(2), abs=2e-3)         # log 2 once they do not
    assert rows[2]["w1_exact"] == pytest.approx(3.0, abs=0.1)
    plt.close(plot_kr_duality(rows))


def test_ring_w1_separates_a_collapsed_generator_from_a_good_one():
    from types import SimpleNamespace
    from gankit.lessons.wgan import ring_w1
    ring = Ring2D(std=0.05)
    G_mode0 = lambda n: torch.tensor(ring.centers[:1], dtype=torch.float32).repeat(n, 1)  # noqa: E731
    G_ring = lambda n: ring.sample(n, seed=11)                                           # noqa: E731
    D = torch.nn.Linear(2, 1)
    run = lambda G: SimpleNamespace(G=None, D=D, tracker=SimpleNamespace(samples=lambda _: G(300)))  # noqa: E731
    collapsed, good = ring_w1(run(G_mode0), ring, n=300), ring_w1(run(G_ring), ring, n=300)
    chord = np.linalg.norm(ring.centers - ring.centers[0], axis=1).mean()   # mean distance to a mode
    assert collapsed["exact"] == pytest.approx(chord, rel=0.1)
    assert good["exact"] < 2 * good["floor"] + 0.05 < collapsed["exact"]


def test_wgan_config_knobs_are_validated():
    cfg = WGANConfig.from_params(profile="ci", fast_D_factor=10, ring_std=0.02, lambda_gp=1)
    assert (cfg.fast_D_factor, cfg.ring_std, cfg.lambda_gp) == (10, 0.02, 1)
    with pytest.raises(ValueError, match="fast_D_factor"):
        WGANConfig.from_params(profile="ci", fast_D_factor=0)
    with pytest.raises(ValueError, match="kr_steps"):
        WGANConfig.from_params(profile="ci", kr_steps=0)
