"""Notebook 06's exercise checkers: right answers pass, the usual mistakes get a useful line."""
import torch

from gankit.lessons.wgan import check_critic_loss, check_gradient_penalty, check_weight_clipping


def test_critic_loss(capsys):
    assert check_critic_loss(lambda f_real, f_fake: f_fake.mean() - f_real.mean())
    assert capsys.readouterr().out.startswith("✓ critic loss")
    assert not check_critic_loss(lambda f_real, f_fake: f_real.mean() - f_fake.mean())
    assert "wrong sign" in capsys.readouterr().out
    assert not check_critic_loss(lambda f_real, f_fake: -torch.log(torch.sigmoid(f_real)).mean())
    assert "no log, no sigmoid" in capsys.readouterr().out


def clip_all(D, c):
    with torch.no_grad():
        for p in D.parameters():
            p.clamp_(-c, c)


def clip_weights_only(D, c):
    with torch.no_grad():
        for name, p in D.named_parameters():
            if name.endswith("weight"):
                p.clamp_(-c, c)


def test_weight_clipping(capsys):
    assert check_weight_clipping(clip_all)
    assert capsys.readouterr().out.startswith("✓ weight clipping")
    assert not check_weight_clipping(clip_weights_only)           # the biases escape
    assert "weights and biases" in capsys.readouterr().out
    assert not check_weight_clipping(lambda D, c: None)            # forgot to clip
    assert "✗ weight clipping" in capsys.readouterr().out


def penalty(D, x_real, x_fake, eps, create_graph=True, flatten=True, minus_one=True):
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=create_graph)
    norm = grad.flatten(1).norm(dim=1) if flatten else grad.norm(dim=-1)
    return ((norm - 1) ** 2).mean() if minus_one else (norm ** 2).mean()


def test_gradient_penalty(capsys):
    assert check_gradient_penalty(penalty)
    assert capsys.readouterr().out.startswith("✓ gradient penalty: correct on 2 inputs")
    assert not check_gradient_penalty(lambda *a: penalty(*a, create_graph=False))
    out = capsys.readouterr().out
    assert "the value is right" in out and "create_graph=True" in out and out.count("\n") == 1
    assert not check_gradient_penalty(lambda *a: penalty(*a, flatten=False))   # images: norm per row
    assert "✗ gradient penalty" in capsys.readouterr().out
    assert not check_gradient_penalty(lambda *a: penalty(*a, minus_one=False))
    assert "✗ gradient penalty" in capsys.readouterr().out
