"""Notebook 06's exercise checkers: right answers pass and train, a stub is "not attempted", the
usual mistakes get their own line."""
import pytest
import torch

from gankit import GANTrainer, losses
from gankit.data import InMemoryData
from gankit.lessons import wgan
from gankit.lessons.wgan import check_critic_loss, check_gradient_penalty, check_weight_clipping
from gankit.models import MLPDiscriminator, MLPGenerator


def stub(*args):
    raise NotImplementedError("your code here")


def test_critic_loss():
    assert check_critic_loss(lambda f_real, f_fake: f_fake.mean() - f_real.mean()).message == \
        "✓ critic loss: correct on 3 inputs"
    assert check_critic_loss(stub).status == "not attempted"
    assert check_critic_loss(lambda f_real, f_fake: f_real.mean() - f_fake.mean()).message.startswith(
        "✗ critic loss: this is the critic's W₁ estimate, mean f(x) − mean f(G(z)): the critic ascends it")
    assert check_critic_loss(lambda r, f: losses.discriminator_loss("minimax", r, f)).message.startswith(
        "✗ critic loss: this is a GAN discriminator's loss (log sigmoid)")


def clip_all(D, c):
    with torch.no_grad():
        for p in D.parameters():
            p.clamp_(-c, c)


def test_weight_clipping():
    assert check_weight_clipping(clip_all).message == "✓ weight clipping: correct on 3 inputs"
    assert check_weight_clipping(stub).status == "not attempted"
    assert check_weight_clipping(wgan._clip_weights_only).message.startswith(
        "✗ weight clipping: it clips the weights but not the biases. Hint:")

    def not_in_place(D, c):
        for p in D.parameters():
            p = p.clamp(-c, c)                  # a new tensor: the critic keeps its weights
    assert check_weight_clipping(not_in_place).message.startswith(
        "✗ weight clipping: it changed no parameter: clamp in place (p.clamp_)")


def penalty(D, x_real, x_fake, eps, create_graph=True, flatten=True, minus_one=True):
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=create_graph)
    norm = grad.flatten(1).norm(dim=1) if flatten else grad.norm(dim=-1)
    return ((norm - 1) ** 2).mean() if minus_one else (norm ** 2).mean()


def test_gradient_penalty():
    assert check_gradient_penalty(penalty).message == ("✓ gradient penalty: correct on 2 inputs "
                                                       "(value and gradient with respect to D's weights)")
    assert check_gradient_penalty(stub).status == "not attempted"
    message = check_gradient_penalty(lambda *a: penalty(*a, create_graph=False)).message
    assert message.startswith("✗ gradient penalty: the value is right, but the critic's optimiser "
                              "cannot descend it") and message.endswith("create_graph=True to torch.autograd.grad")
    assert check_gradient_penalty(lambda *a: penalty(*a, flatten=False)).message.startswith(
        "✗ gradient penalty: the norm runs over the last axis only")
    assert check_gradient_penalty(lambda *a: penalty(*a, minus_one=False)).message.startswith(
        "✗ gradient penalty: on input")
    # the example: relu(norm - 1)² differs only a little in value, so it is named instead
    assert check_gradient_penalty(wgan._one_sided_penalty).message.startswith(
        "✗ gradient penalty: this penalty is one-sided, relu(‖∇‖ − 1)²: WGAN-GP's is two-sided")


def ring_trainer(**extra):
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=2, data_shape=(2,), hidden=(16,), out="linear")
    D = MLPDiscriminator(data_shape=(2,), hidden=(16,), dropout=0)
    return GANTrainer(G, D, loss="wasserstein-gp", lr=1e-3, betas=(0.0, 0.9), n_critic=2, seed=0,
                      progress=False, log_every=5, **extra)


def test_the_student_s_penalty_is_what_trains_the_critic():
    data = InMemoryData(torch.randn(256, 2, generator=torch.Generator().manual_seed(1)) + 3.0)
    gankit_run = ring_trainer().fit(data, batch_size=64, steps=10)
    same = ring_trainer(gradient_penalty=wgan.trainer_penalty(penalty)).fit(data, batch_size=64, steps=10)
    assert len(same.log["gp"]) == 2 and same.log["gp"] == pytest.approx(gankit_run.log["gp"], rel=1e-5)
    calls = []

    def counted(D, x_real, x_fake, eps):
        calls.append(tuple(eps.shape))
        return penalty(D, x_real, x_fake, eps)
    ring_trainer(gradient_penalty=wgan.trainer_penalty(counted)).fit(data, batch_size=64, steps=10)
    assert calls == [(64, 1)] * 20                                     # every critic step, n_critic = 2
    with pytest.raises(ValueError, match="gradient_penalty=3 is not callable"):
        ring_trainer(gradient_penalty=3)
