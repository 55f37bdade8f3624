import pytest
import torch
from torch import nn

from gankit.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                           count_parameters, sample_latent)


@pytest.mark.parametrize("num_classes", [0, 10])
def test_mlp_shapes(num_classes):
    G = MLPGenerator(latent_dim=8, num_classes=num_classes)
    D = MLPDiscriminator(num_classes=num_classes)
    y = torch.arange(5) % 10 if num_classes else None
    x = G(torch.randn(5, 8), y)
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1                       # tanh output range
    assert D(x, y).shape == (5,)


def test_mlp_toy_generator_is_linear_and_one_dimensional():
    G = MLPGenerator(latent_dim=1, data_shape=(1,), hidden=(8,), out="linear", latent="uniform")
    x = G(sample_latent(G, 7))
    assert x.shape == (7, 1)
    assert not isinstance(G.net[-1], nn.Tanh)


@pytest.mark.parametrize("image_size", [16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_for_every_size(image_size, channels):
    G = DCGANGenerator(latent_dim=10, image_size=image_size, channels=channels, ngf=8)
    D = DCGANDiscriminator(image_size=image_size, channels=channels, ndf=8)
    x = G(torch.randn(2, 10))
    assert x.shape == (2, channels, image_size, image_size)
    assert D(x).shape == (2,)


def test_dcgan_64_matches_the_tutorial_trace():
    G = DCGANGenerator(latent_dim=100, image_size=64, channels=3, ngf=64)
    shapes, h = [], torch.randn(2, 100, 1, 1)
    for layer in G.net:
        h = layer(h)
        if isinstance(layer, nn.ConvTranspose2d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]
    assert count_parameters(G) == 3_576_704                     # the PyTorch DCGAN tutorial's G


def test_conditional_dcgan_uses_the_label():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=4, image_size=16, channels=1, ngf=8, num_classes=3).eval()
    D = DCGANDiscriminator(image_size=16, channels=1, ndf=8, num_classes=3).eval()
    z = torch.randn(1, 4).repeat(3, 1)
    x = G(z, torch.arange(3))
    assert not torch.allclose(x[0], x[1])                       # same z, different digit
    x0 = x[:1].repeat(3, 1, 1, 1)
    assert not torch.allclose(D(x0, torch.arange(3))[0], D(x0, torch.arange(3))[1])
    with pytest.raises(ValueError, match="labels y"):
        G(z)


def test_dcgan_init_is_normal_0_02():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=100, image_size=64, ngf=64)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3


def test_critic_norms():
    layer = DCGANDiscriminator(image_size=32, ndf=8, norm="layer")
    none = DCGANDiscriminator(image_size=32, ndf=8, norm="none")
    for D in (layer, none):
        assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in layer.modules())
    # Without batch norm a sample's score does not depend on the rest of its batch.
    x = torch.randn(4, 3, 32, 32)
    assert torch.allclose(layer(x)[:1], layer(x[:1]), atol=1e-5)


def test_latent_priors():
    g = torch.Generator().manual_seed(0)
    u = sample_latent(MLPGenerator(latent_dim=3, latent="uniform"), 1000, generator=g)
    n = sample_latent(MLPGenerator(latent_dim=3), 1000, generator=g)
    assert u.min() >= 0 and u.max() <= 1
    assert n.min() < 0 and abs(n.std().item() - 1) < 0.1


@pytest.mark.parametrize("make, match", [
    (lambda: DCGANGenerator(image_size=48), "image_size=48 .* 16, 32, 64, 128, 256"),
    (lambda: DCGANDiscriminator(image_size=8), "image_size=8"),
    (lambda: DCGANGenerator(latent_dim=0), "latent_dim=0"),
    (lambda: DCGANGenerator(channels=2.0), "channels=2.0"),
    (lambda: DCGANDiscriminator(norm="instance"), "norm='instance'"),
    (lambda: MLPGenerator(hidden=(128, -1)), r"hidden\[1\]=-1"),
    (lambda: MLPGenerator(out="relu"), "out='relu'"),
    (lambda: MLPGenerator(latent="cauchy"), "latent='cauchy'"),
    (lambda: MLPDiscriminator(dropout=1.5), "dropout=1.5"),
    (lambda: MLPDiscriminator(num_classes=-2), "num_classes=-2"),
])
def test_bad_model_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_generate_samples_in_eval_mode_in_chunks_and_restores_the_mode():
    from gankit.models import generate
    G = DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8, num_classes=3).train()
    z = torch.randn(7, 8)
    x = generate(G, z, y=2, batch_size=3)                  # one label for every row, 3 chunks
    assert G.training and x.shape == (7, 1, 16, 16) and x.device.type == "cpu"
    with torch.no_grad():
        expected = G.eval()(z, torch.full((7,), 2))        # eval: running batch-norm statistics
    torch.testing.assert_close(x, expected)
    G.train()
    torch.testing.assert_close(generate(G, z, y=torch.full((7,), 2)), expected)
