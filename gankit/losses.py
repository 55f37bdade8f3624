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

from .validate import check_choice

LOSSES = ("minimax", "non-saturating", "wasserstein", "wasserstein-gp", "hinge")


def check_loss(loss: str) -> None:
    check_choice("loss", loss, LOSSES)


def discriminator_loss(loss: str, f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """D's loss for one batch; D minimises it.

    minimax / non-saturating:  -[ mean log D(x) + mean log(1 - D(G(z))) ]  =  -V(D, G)  (Eq. 1)
    wasserstein(-gp):          mean f(G(z)) - mean f(x)     (the critic ascends the W1 estimate;
                                                              the penalty is added by the caller)
    hinge:                     mean relu(1 - f(x)) + mean relu(1 + f(G(z)))
    """
    if loss in ("minimax", "non-saturating"):
        return (F.binary_cross_entropy_with_logits(f_real, torch.ones_like(f_real))
                + F.binary_cross_entropy_with_logits(f_fake, torch.zeros_like(f_fake)))
    if loss in ("wasserstein", "wasserstein-gp"):
        return f_fake.mean() - f_real.mean()
    if loss == "hinge":
        return F.relu(1 - f_real).mean() + F.relu(1 + f_fake).mean()
    check_loss(loss)


def generator_loss(loss: str, f_fake: torch.Tensor) -> torch.Tensor:
    """G's loss for one batch of scores on its samples; G minimises it.

    minimax:         mean log(1 - D(G(z)))   (Eq. 1 as written; saturates when D rejects fakes)
    non-saturating:  -mean log D(G(z))       (Section 3: same fixed point, strong early gradients)
    wasserstein(-gp), hinge:  -mean f(G(z))
    """
    if loss == "minimax":
        return -F.softplus(f_fake).mean()
    if loss == "non-saturating":
        return F.binary_cross_entropy_with_logits(f_fake, torch.ones_like(f_fake))
    if loss in ("wasserstein", "wasserstein-gp", "hinge"):
        return -f_fake.mean()
    check_loss(loss)


def gradient_penalty(D, x_real: torch.Tensor, x_fake: torch.Tensor, y=None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP (Eq. 3): E[(||grad_x̂ D(x̂)||_2 - 1)^2] on x̂ = eps·x_real + (1 - eps)·x_fake.

    eps ~ U(0, 1) once per sample; the norm is over all of a sample's dimensions. create_graph
    makes the penalty itself differentiable, so D's optimiser can descend it.
    """
    eps = torch.rand(len(x_real), *[1] * (x_real.dim() - 1), device=x_real.device,
                     generator=generator)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    f_hat = D(x_hat) if y is None else D(x_hat, y)
    (grad,) = torch.autograd.grad(f_hat.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(D, clip_value: float) -> None:
    """WGAN (Algorithm 1, line 7): clamp every critic parameter to [-c, c] after its update."""
    for p in D.parameters():
        p.clamp_(-clip_value, clip_value)
