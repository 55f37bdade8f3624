"""Shared fixtures: tiny data sets and models that train in well under a second."""
import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same global random state, whatever ran before it."""
    torch.manual_seed(0)
    yield


@pytest.fixture
def gaussian_data():
    """2,048 points from N(3, 0.5²) as an InMemoryData: a 1D target G must move to."""
    from gankit.data import InMemoryData
    g = torch.Generator().manual_seed(0)
    return InMemoryData(3.0 + 0.5 * torch.randn(2048, 1, generator=g), source="N(3, 0.5²)")


@pytest.fixture
def labelled_images():
    """64 random 1×16×16 uint8 'images' with 4 classes."""
    from gankit.data import InMemoryData
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 16, 16), dtype=torch.uint8, generator=g)
    return InMemoryData(x, torch.arange(64) % 4, source="random", num_classes=4)


def toy_pair(latent="uniform", dropout=0.0, hidden=16):
    from gankit.models import MLPDiscriminator, MLPGenerator
    G = MLPGenerator(latent_dim=1, data_shape=(1,), hidden=(hidden,), out="linear", latent=latent)
    D = MLPDiscriminator(data_shape=(1,), hidden=(hidden,), dropout=dropout)
    return G, D


def w1_to_target(G, n=4000):
    """W1 between G's samples and N(3, 0.5²), via sorted samples against sorted target samples."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        x = G(torch.rand(n, 1, generator=g)).flatten().sort().values
    target = (3.0 + 0.5 * torch.randn(n, generator=g)).sort().values
    return (x - target).abs().mean().item()
