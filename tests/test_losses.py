import math

import pytest
import torch

import numpy as np

from gankit import GANTrainer
from gankit.losses import (LOSSES, SPECS, clip_weights, discriminator_loss, generator_loss,
                           gradient_penalty, input_grad_norms, interpolate, loss_spec)
from gankit.plots import plot_losses

from conftest import toy_pair


def test_discriminator_loss_is_minus_the_value_function():
    f_real, f_fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0])
    d_real, d_fake = torch.sigmoid(f_real), torch.sigmoid(f_fake)
    V = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()        # Eq. 1 on a batch
    for loss in ("minimax", "non-saturating"):
        assert torch.allclose(discriminator_loss(loss, f_real, f_fake), -V)


def test_at_the_equilibrium_the_loss_is_log_4():
    f = torch.zeros(10)                                               # D = 1/2 everywhere
    assert discriminator_loss("minimax", f, f).item() == pytest.approx(math.log(4))


def test_generator_losses_by_hand():
    f = torch.tensor([-2.0, 1.0])
    d = torch.sigmoid(f)
    assert torch.allclose(generator_loss("minimax", f), torch.log(1 - d).mean())
    assert torch.allclose(generator_loss("non-saturating", f), -torch.log(d).mean())
    assert torch.allclose(generator_loss("wasserstein", f), -f.mean())


def test_losses_move_the_right_way():
    """D's loss falls as it scores real higher and fake lower; G's falls as fakes score higher."""
    lo, hi = torch.tensor([-2.0]), torch.tensor([2.0])
    for loss in ("minimax", "non-saturating", "wasserstein", "wasserstein-gp", "hinge"):
        assert discriminator_loss(loss, hi, lo) < discriminator_loss(loss, lo, hi), loss
        assert generator_loss(loss, hi) < generator_loss(loss, lo), loss


def test_minimax_saturates_where_non_saturating_does_not():
    """When D confidently rejects fakes (logit -8), minimax gives G almost no gradient."""
    grads = {}
    for loss in ("minimax", "non-saturating"):
        f = torch.tensor([-8.0], requires_grad=True)
        generator_loss(loss, f).backward()
        grads[loss] = f.grad.abs().item()
    assert grads["minimax"] == pytest.approx(torch.sigmoid(torch.tensor(-8.0)).item(), rel=1e-4)
    assert grads["non-saturating"] > 0.99
    assert grads["non-saturating"] / grads["minimax"] > 1000


def test_wasserstein_critic_loss_is_the_negative_w1_estimate():
    f_real, f_fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert discriminator_loss("wasserstein", f_real, f_fake).item() == pytest.approx(-3.0)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="loss='wgan' is not one of"):
        discriminator_loss("wgan", torch.zeros(1), torch.zeros(1))


def test_gradient_penalty_of_a_linear_critic():
    """f(x) = w·x has gradient w everywhere, so the penalty is (||w|| - 1)² exactly."""
    w = torch.tensor([3.0, 4.0])                                     # ||w|| = 5
    D = lambda x: x @ w                                              # noqa: E731
    gp = gradient_penalty(D, torch.randn(8, 2), torch.randn(8, 2))
    assert gp.item() == pytest.approx(16.0)


def test_gradient_penalty_on_interpolates_by_hand():
    """f(x) = ||x||²/2 has gradient x, so the penalty is mean (||x̂|| - 1)² at x̂ = eps·x + (1-eps)·x̃."""
    x_real, x_fake = torch.randn(6, 3, 2, 2), torch.randn(6, 3, 2, 2)
    D = lambda x: 0.5 * (x ** 2).flatten(1).sum(1)                   # noqa: E731
    gp = gradient_penalty(D, x_real, x_fake, generator=torch.Generator().manual_seed(5))
    eps = torch.rand(6, 1, 1, 1, generator=torch.Generator().manual_seed(5))
    x_hat = eps * x_real + (1 - eps) * x_fake
    expected = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert torch.allclose(gp, expected)


def test_gradient_penalty_is_differentiable_in_the_critic():
    layer = torch.nn.Linear(2, 1)
    gp = gradient_penalty(lambda x: layer(x).squeeze(1), torch.randn(4, 2), torch.randn(4, 2))
    gp.backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_clip_weights():
    layer = torch.nn.Linear(10, 10)
    torch.nn.init.normal_(layer.weight, std=1.0)
    clip_weights(layer, 0.01)
    assert layer.weight.abs().max() <= 0.01 and layer.bias.abs().max() <= 0.01


# ------------------------------------------------------------------ one definition per loss
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_trains_logs_its_panel_and_draws_it(name, gaussian_data):
    """Each LossSpec, through the loop, the history and the plot: its D-output keys are logged
    (finite) and drawn, the others stay NaN; the step clips or penalises exactly when it says."""
    spec = loss_spec(name)
    G, D = toy_pair()
    trainer = GANTrainer(G, D, loss=name, lr=1e-3, n_critic=2, log_every=5, progress=False)
    history = trainer.fit(gaussian_data, batch_size=64, steps=20)
    panel_keys = ("d_real", "d_fake", "f_real", "f_fake", "wasserstein")
    for key in panel_keys:
        assert all(map(math.isfinite, history.log[key])) == (key in spec.logs), key
    assert all(map(math.isfinite, history.log["gp"])) == spec.penalty
    assert isinstance(trainer.opt_D, torch.optim.RMSprop) == (spec.optimizer == "rmsprop")
    clipped = max(p.abs().max().item() for p in D.parameters()) <= trainer.clip_value
    assert clipped == spec.clip_weights
    fig = plot_losses(history)
    drawn = [line.get_ydata() for line in fig.axes[1].get_lines() if len(line.get_ydata()) > 2]
    for key in spec.logs:
        assert any(np.allclose(y, history.log[key]) for y in drawn), key
    if spec.probabilities:                    # D(x) = sigmoid(f) is a probability
        assert all(0 < v < 1 for v in history.log["d_real"])


def test_the_spec_flags_match_the_formulas():
    f_real, f_fake = torch.tensor([0.3, 2.0]), torch.tensor([-1.5, 0.4])
    for spec in SPECS.values():
        assert spec.d_loss(f_real, f_fake) == discriminator_loss(spec.name, f_real, f_fake)
        if spec.wasserstein:                  # the critic's loss is minus its W1 estimate
            assert spec.d_loss(f_real, f_fake) == pytest.approx(-(f_real.mean() - f_fake.mean()))
        if spec.probabilities:                # at D = 1/2 everywhere: log 4 (Eq. 1)
            assert spec.d_loss(torch.zeros(3), torch.zeros(3)) == pytest.approx(math.log(4))
    assert loss_spec(SPECS["hinge"]) is SPECS["hinge"]
    with pytest.raises(ValueError, match="loss='hing' is not one of"):
        loss_spec("hing")


def test_input_grad_norms_and_interpolate_are_the_penalty_s_parts():
    D = torch.nn.Linear(3, 1)
    x_real, x_fake = torch.randn(5, 3), torch.randn(5, 3)
    eps = torch.rand(5, 1)
    x_hat = interpolate(x_real, x_fake, eps)
    assert torch.allclose(x_hat, x_fake + eps * (x_real - x_fake), atol=1e-6)
    norms = input_grad_norms(lambda x: D(x).flatten(), x_hat)
    assert torch.allclose(norms, D.weight.norm().expand(5))     # a linear f: ‖w‖ everywhere
