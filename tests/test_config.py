import dataclasses

import pytest

import gankit
from gankit.config import (FacesConfig, Gan1DConfig, InverseCDFConfig, MnistConfig, WGANConfig,
                           resolve_profile)

FAMILIES = (InverseCDFConfig, Gan1DConfig, MnistConfig, FacesConfig, WGANConfig)


def test_auto_profile_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GANKIT_PROFILE", "ci")
    assert resolve_profile("auto") == "ci"
    assert resolve_profile("gpu") == "gpu"                   # an explicit profile wins
    monkeypatch.setenv("GANKIT_PROFILE", "fastest")
    with pytest.raises(ValueError, match="GANKIT_PROFILE='fastest' is not one of"):
        resolve_profile("auto")
    monkeypatch.delenv("GANKIT_PROFILE")
    assert resolve_profile("auto") == ("gpu" if gankit.device.has_accelerator() else "cpu")


@pytest.mark.parametrize("family", FAMILIES)
def test_profiles_are_replacements_of_one_another(family):
    profiles = family.profiles()
    assert set(profiles) == {"ci", "cpu", "gpu"}
    for name, cfg in profiles.items():
        assert cfg.profile == name and isinstance(cfg, family)
    shared = {"epochs", "batch_size", "lr", "max_seconds", "seed", "data_source", "artifacts_dir"}
    assert shared <= {f.name for f in dataclasses.fields(family)}


def test_none_means_the_profile_decides():
    ci = MnistConfig.profiles()["ci"]
    cfg = MnistConfig.from_params(profile="ci", seed=None, epochs=None, batch_size=32)
    assert cfg.epochs == ci.epochs and cfg.batch_size == 32 and cfg.seed == ci.seed


def test_per_notebook_knobs():
    assert Gan1DConfig.from_params(profile="ci", k=3).k == 3
    assert FacesConfig.from_params(profile="ci", image_size=16).image_size == 16
    assert WGANConfig.from_params(profile="ci", n_critic=2).n_critic == 2


def test_describe_prints_the_resolved_configuration():
    text = MnistConfig.from_params(profile="ci").describe()
    assert text.startswith("profile=ci  device=") and "batch_size=" in text
    assert "0x" not in text                                   # no object addresses


@pytest.mark.parametrize("family, params, match", [
    (MnistConfig, dict(profile="fast"), "profile='fast' is not one of 'auto', 'ci', 'cpu', 'gpu'"),
    (MnistConfig, dict(epochs=0), "epochs=0 is not allowed: use a positive integer"),
    (MnistConfig, dict(epochs=2.5), "epochs=2.5"),
    (MnistConfig, dict(batch_size=-8), "batch_size=-8"),
    (MnistConfig, dict(lr=0.0), "lr=0.0 is not allowed: use a positive finite number"),
    (MnistConfig, dict(lr="1e-3"), "lr='1e-3'"),
    (MnistConfig, dict(max_seconds=-5), "max_seconds=-5"),
    (MnistConfig, dict(seed=-1), "seed=-1 is not allowed: use a non-negative integer"),
    (MnistConfig, dict(seed=1.5), "seed=1.5"),
    (MnistConfig, dict(seed=True), "seed=True"),
    (MnistConfig, dict(data_source="internet"), "data_source='internet' is not one of"),
    (MnistConfig, dict(artifacts_dir=3), "artifacts_dir=3"),
    (MnistConfig, dict(epoch=5), "'epoch' is not a parameter of MnistConfig: use one of"),
    (MnistConfig, dict(latent_dim=0), "latent_dim=0"),
    (Gan1DConfig, dict(k=0), "k=0"),
    (FacesConfig, dict(image_size=48), "image_size=48 cannot be made .* 16, 32, 64, 128, 256"),
    (FacesConfig, dict(data_dir="/no/such/folder"), "data_dir='/no/such/folder' is not a folder"),
    (WGANConfig, dict(n_critic=-5), "n_critic=-5"),
    (WGANConfig, dict(clip_value=0), "clip_value=0"),
])
def test_every_bad_parameter_gets_one_clear_line(family, params, match):
    with pytest.raises(ValueError, match=match) as info:
        family.from_params(**{"profile": "ci", **params})
    assert "\n" not in str(info.value)


def test_seed_everything_refuses_bad_seeds():
    with pytest.raises(ValueError, match="seed=-3"):
        gankit.seed_everything(-3)


class _Digits:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


@pytest.mark.parametrize("cls", [gankit.MnistConfig, gankit.ConditionalMnistConfig])
def test_the_gpu_profile_on_the_offline_digits_trains_the_cpu_profile_s_epochs(cls, capsys):
    """Seen on an H200 with the 5,000 offline digits: the gpu profile's 30 epochs (sized for
    60,000 digits) were 1,170 G steps and notebook 03's Fréchet check failed (388 > 200)."""
    cpu_epochs = cls.from_params(profile="cpu").epochs
    gpu = cls.from_params(profile="gpu")
    assert gpu.for_data(_Digits(5_000)).epochs == cpu_epochs > gpu.epochs
    assert "epochs 30 -> " in capsys.readouterr().out
    assert gpu.for_data(_Digits(60_000)) is gpu                        # full MNIST: as profiled
    assert cls.from_params(profile="cpu").for_data(_Digits(5_000)).epochs == cpu_epochs
    mine = cls.from_params(profile="gpu", epochs=3)                    # set by the user: kept
    assert mine.given == ("epochs",) and mine.for_data(_Digits(5_000)).epochs == 3
    assert "given" not in mine.describe()
