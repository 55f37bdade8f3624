"""DiffAugment (gankit.augment) and its hook in GANTrainer."""
import pytest
import torch
from torch import nn

from gankit import GANTrainer
from gankit.augment import DiffAugment, color, cutout, diff_augment, translation
from gankit.data import InMemoryData
from gankit.models import DCGANDiscriminator, DCGANGenerator


def images(n=6, c=3, side=16, seed=0):
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_shapes_and_gradients_reach_the_input(policy):
    x = images().requires_grad_(True)
    y = diff_augment(x, policy, torch.Generator().manual_seed(1))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not torch.allclose(y, x)                                   # it did something
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0              # differentiable in x


def test_empty_policy_is_the_identity_and_bad_policies_are_refused():
    x = images()
    assert diff_augment(x, "") is x
    with pytest.raises(ValueError, match="policy='colour'.*color, translation, cutout"):
        diff_augment(x, "colour")


def test_deterministic_with_a_generator():
    x = images()
    a = diff_augment(x, generator=torch.Generator().manual_seed(3))
    b = diff_augment(x, generator=torch.Generator().manual_seed(3))
    c = diff_augment(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    first, again = DiffAugment(seed=5)(x), DiffAugment(seed=5)(x)
    assert torch.equal(first, again)


def test_translation_shifts_whole_images_and_fills_with_zero():
    x = torch.arange(64.0).reshape(1, 1, 8, 8).expand(200, 1, 8, 8)
    y = translation(x, generator=torch.Generator().manual_seed(0))    # up to 1 pixel per axis
    for img in y[:, 0]:
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if torch.equal(img, _shifted(x[0, 0], dy, dx))]
        assert len(matches) == 1
    assert (y == 0).any() and (y != 0).any()


def _shifted(img, dy, dx):
    out = torch.zeros_like(img)
    h, w = img.shape
    src = img[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    out[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)] = src
    return out


def test_cutout_zeroes_at_most_a_quarter_and_color_draws_per_image():
    x = torch.ones(300, 1, 16, 16)
    holes = (cutout(x, generator=torch.Generator().manual_seed(0)) == 0).float().mean((1, 2, 3))
    assert holes.max() == 0.25 and holes.min() > 0                    # an 8x8 square, cropped
    shifts = color(torch.zeros(300, 1, 4, 4), generator=torch.Generator().manual_seed(0))
    per_image = shifts.mean((1, 2, 3))
    assert per_image.min() < -0.4 and per_image.max() > 0.4           # brightness U(-0.5, 0.5)


class Recording(nn.Module):
    """Marks every batch it passes through, so the test can see which inputs D received."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x.requires_grad)
        return x + 0.0


def test_trainer_applies_augment_to_real_and_fake_in_both_updates():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8)
    D = DCGANDiscriminator(image_size=16, channels=1, ndf=8)
    data = InMemoryData(torch.randint(0, 256, (32, 1, 16, 16), dtype=torch.uint8))
    record = Recording()
    trainer = GANTrainer(G, D, augment=record, progress=False, amp=False)
    trainer.fit(data, batch_size=8, steps=1)
    # D's update: real (no grad), fake (detached); G's update: fake with a gradient path to G
    assert record.seen == [False, False, True]
    with pytest.raises(ValueError, match="augment='color' is not callable"):
        GANTrainer(G, D, augment="color")


def test_generator_gradient_flows_through_diffaugment():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8)
    D = DCGANDiscriminator(image_size=16, channels=1, ndf=8)
    score = D(DiffAugment(seed=0)(G(torch.randn(4, 8)))).mean()
    score.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()
               if p.requires_grad and p.dim() > 1)
