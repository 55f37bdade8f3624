import json
import math

import pytest
import torch

import gankit
from gankit.io import artifacts_path, write_metrics
from gankit.models import DCGANGenerator, MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("make", [
    lambda: MLPGenerator(latent_dim=8, hidden=(16,)),
    lambda: MLPGenerator(latent_dim=1, data_shape=(1,), hidden=(8,), out="linear", latent="uniform"),
    lambda: MLPGenerator(latent_dim=8, hidden=(16,), num_classes=10),
    lambda: DCGANGenerator(latent_dim=8, image_size=32, channels=1, ngf=8, num_classes=10),
])
def test_load_generator_round_trip(make, tmp_path):
    G = make().train()
    z = gankit.sample_latent(G, 5)
    y = torch.arange(5) if G.num_classes else None
    gankit.save_generator(G, tmp_path / "generator.pt")
    loaded = gankit.load_generator(tmp_path / "generator.pt")
    assert not loaded.training
    assert loaded.latent_dim == G.latent_dim and loaded.num_classes == G.num_classes
    assert loaded.latent == G.latent
    with torch.no_grad():
        assert torch.allclose(loaded(z, y), G.eval()(z, y))
    assert gankit.io.same_weights(loaded, G)


def test_same_weights_is_bit_for_bit_and_name_for_name():
    """The notebooks' round-trip check: on a GPU the reloaded G's samples differ from the trained
    G's in the last bits (seen on an H200), so the notebooks compare the weights themselves."""
    G = MLPGenerator(latent_dim=8, hidden=(16,))
    twin = MLPGenerator(latent_dim=8, hidden=(16,))
    twin.load_state_dict(G.state_dict())
    assert gankit.io.same_weights(G, twin)
    with torch.no_grad():
        twin.net[0].bias[3] += 1e-7                        # one weight, one last bit
    assert not gankit.io.same_weights(G, twin)
    assert not gankit.io.same_weights(G, MLPGenerator(latent_dim=8, hidden=(16, 16)))


def test_load_generator_refuses_other_files(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a gankit generator file"):
        gankit.load_generator(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="no gankit generator file at"):
        gankit.load_generator(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="saves gankit generators"):
        gankit.save_generator(MLPDiscriminator(), tmp_path / "d.pt")


def test_a_forged_class_name_is_not_loaded(tmp_path):
    G = MLPGenerator(latent_dim=2, hidden=(4,))
    torch.save(dict(format="gankit-generator-1", cls="MLPDiscriminator", config={},
                    state_dict=G.state_dict()), tmp_path / "forged.pt")
    with pytest.raises(ValueError, match="not a gankit generator"):
        gankit.load_generator(tmp_path / "forged.pt")


def test_metrics_json_is_valid_json(tmp_path):
    path = write_metrics(tmp_path / "run", {"fd": float("nan"), "acc": torch.tensor(0.5),
                                            "modes": [8, 7], "nested": {"inf": math.inf}})
    data = json.loads(path.read_text())
    assert data == {"fd": None, "acc": 0.5, "modes": [8, 7], "nested": {"inf": None}}


def test_artifacts_path(tmp_path, monkeypatch):
    assert artifacts_path("x", tmp_path / "mine") == tmp_path / "mine"
    (tmp_path / "gankit").mkdir()
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")                 # notebooks run from notebooks/
    assert artifacts_path("03_mnist") == tmp_path / "artifacts" / "03_mnist"
    assert (tmp_path / "artifacts" / "03_mnist").is_dir()
