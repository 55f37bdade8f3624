"""The GAN objectives, written from the discriminator's raw scores f = D(x) before any sigmoid.

Papers: Goodfellow et al. 2014 (Eq. 1, the minimax value V(D, G), and the non-saturating
generator loss of Section 3); Arjovsky, Chintala & Bottou 2017 (WGAN, weight clipping);
Gulrajani et al. 2017 (WGAN-GP, Eq. 3); Lim & Ye 2017 / Miyato et al. 2018 (hinge).

Every loss here is something to *minimise*. With D(x) = sigmoid(f):
    log D(x)      = -softplus(-f)
    log(1 - D(x)) = -softplus(f)
which is how `F.binary_cross_entropy_with_logits` computes them without overflow.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from dataclasses import dataclass
from typing import Callable

from .validate import check_choice


# ------------------------------------------------------------------------------- the formulas
def _bce_discriminator(f_real, f_fake):
    """-[ mean log D(x) + mean log(1 - D(G(z))) ]  =  -V(D, G)   (Goodfellow et al. 2014, Eq. 1)"""
    return (F.binary_cross_entropy_with_logits(f_real, torch.ones_like(f_real))
            + F.binary_cross_entropy_with_logits(f_fake, torch.zeros_like(f_fake)))


def _minimax_generator(f_fake):
    """mean log(1 - D(G(z)))   (Eq. 1 as written; saturates when D rejects the fakes)"""
    return -F.softplus(f_fake).mean()


def _non_saturating_generator(f_fake):
    """-mean log D(G(z))   (Section 3: the same fixed point, strong gradients early on)"""
    return F.binary_cross_entropy_with_logits(f_fake, torch.ones_like(f_fake))


def _critic(f_real, f_fake):
    """mean f(G(z)) - mean f(x): the critic ascends the W1 estimate (WGAN-GP's penalty is added
    by the caller)"""
    return f_fake.mean() - f_real.mean()


def _hinge_discriminator(f_real, f_fake):
    """mean relu(1 - f(x)) + mean relu(1 + f(G(z)))   (Lim & Ye 2017)"""
    return F.relu(1 - f_real).mean() + F.relu(1 + f_fake).mean()


def _score_generator(f_fake):
    """-mean f(G(z))   (WGAN, WGAN-GP and hinge alike)"""
    return -f_fake.mean()


# ------------------------------------------------------------------------ the one definition
@dataclass(frozen=True)
class LossSpec:
    """One loss family, read by the loop (train), the history, and the plots: no module tests the
    loss by its name."""
    name: str
    d_loss: Callable              # (f_real, f_fake) -> D's loss, to minimise
    g_loss: Callable              # f_fake -> G's loss, to minimise
    probabilities: bool           # D(x) = sigmoid(f) is a probability of "real"
    wasserstein: bool             # f is a critic: mean f(x) - mean f(G(z)) estimates W1
    logs: tuple                   # the history keys of the D-output panel
    clip_weights: bool = False    # WGAN: clamp the critic's weights after each of its steps
    penalty: bool = False         # WGAN-GP: add lambda * gradient_penalty to the critic's loss
    optimizer: str = "adam"       # WGAN with clipping: RMSprop (its Sec. 3 found momentum unstable)


PROBABILITY_LOGS = ("d_real", "d_fake")          # mean D(x), mean D(G(z))
SPECS = {spec.name: spec for spec in (
    LossSpec("minimax", _bce_discriminator, _minimax_generator, True, False, PROBABILITY_LOGS),
    LossSpec("non-saturating", _bce_discriminator, _non_saturating_generator, True, False,
             PROBABILITY_LOGS),
    LossSpec("wasserstein", _critic, _score_generator, False, True, ("wasserstein",),
             clip_weights=True, optimizer="rmsprop"),
    LossSpec("wasserstein-gp", _critic, _score_generator, False, True, ("wasserstein",),
             penalty=True),
    # hinge's raw scores: D is trained to push f(x) above +1 and f(G(z)) below -1
    LossSpec("hinge", _hinge_discriminator, _score_generator, False, False, ("f_real", "f_fake")),
)}
LOSSES = tuple(SPECS)


def loss_spec(loss) -> LossSpec:
    """The LossSpec of `loss` (a name or a LossSpec); an unknown name is refused in one line."""
    if isinstance(loss, LossSpec):
        return loss
    check_choice("loss", loss, LOSSES)
    return SPECS[loss]


def check_loss(loss: str) -> None:
    loss_spec(loss)


def discriminator_loss(loss: str, f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """D's loss for one batch; D minimises it.

    minimax / non-saturating:  -[ mean log D(x) + mean log(1 - D(G(z))) ]  =  -V(D, G)  (Eq. 1)
    wasserstein(-gp):          mean f(G(z)) - mean f(x)     (the critic ascends the W1 estimate;
                                                              the penalty is added by the caller)
    hinge:                     mean relu(1 - f(x)) + mean relu(1 + f(G(z)))
    """
    return loss_spec(loss).d_loss(f_real, f_fake)


def generator_loss(loss: str, f_fake: torch.Tensor) -> torch.Tensor:
    """G's loss for one batch of scores on its samples; G minimises it.

    minimax:         mean log(1 - D(G(z)))   (Eq. 1 as written; saturates when D rejects fakes)
    non-saturating:  -mean log D(G(z))       (Section 3: same fixed point, strong early gradients)
    wasserstein(-gp), hinge:  -mean f(G(z))
    """
    return loss_spec(loss).g_loss(f_fake)


def interpolate(x_real: torch.Tensor, x_fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x̂ = eps·x_real + (1 - eps)·x_fake, one eps per sample (WGAN-GP, Algorithm 1, line 6)."""
    return eps * x_real + (1 - eps) * x_fake


def input_grad_norms(D, x_hat: torch.Tensor, y=None, create_graph: bool = False) -> torch.Tensor:
    """||grad_x D(x)||_2 at each row of x_hat, the norm over all of a sample's dimensions: (N,).

    With create_graph the norms stay differentiable in D's weights (the penalty is a loss); without
    it they are a measurement."""
    x_hat = x_hat.detach().requires_grad_(True)
    f_hat = D(x_hat) if y is None else D(x_hat, y)
    (grad,) = torch.autograd.grad(f_hat.sum(), x_hat, create_graph=create_graph)
    return grad.flatten(1).norm(dim=1)


def gradient_penalty(D, x_real: torch.Tensor, x_fake: torch.Tensor, y=None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP (Eq. 3): E[(||grad_x̂ D(x̂)||_2 - 1)^2] on x̂ = eps·x_real + (1 - eps)·x_fake.

    eps ~ U(0, 1) once per sample; the norm is over all of a sample's dimensions. create_graph
    makes the penalty itself differentiable, so D's optimiser can descend it.
    """
    eps = torch.rand(len(x_real), *[1] * (x_real.dim() - 1), device=x_real.device,
                     generator=generator)
    norms = input_grad_norms(D, interpolate(x_real, x_fake, eps), y, create_graph=True)
    return ((norms - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(D, clip_value: float) -> None:
    """WGAN (Algorithm 1, line 7): clamp every critic parameter to [-c, c] after its update."""
    for p in D.parameters():
        p.clamp_(-clip_value, clip_value)
