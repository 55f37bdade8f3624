"""Notebook 03's helpers: the recipe from MnistConfig, the EMA callback, the checks, the exercises."""
import pytest
import torch
import torch.nn.functional as F

import gankit
from gankit.lessons import mnist_mlp_gan as mnist
from gankit.data import InMemoryData, load_mnist
from gankit.lessons.mnist_mlp_gan import check_generator_loss, check_slerp
from gankit.latent import slerp


def ci_config(**params):
    return gankit.MnistConfig.from_params(profile="ci", data_source="offline", **params)


def test_build_mnist_gan_follows_the_config():
    G, D, kwargs = mnist.build_mnist_gan(ci_config(hidden_G=[32, 64], hidden_D=(48,), lr=1e-3,
                                                   ema_decay=0.9))
    assert G.config["hidden"] == (32, 64) and D.config["hidden"] == (48,)
    assert kwargs["lr"] == 1e-3 and kwargs["betas"] == (0.5, 0.999)
    (ema,) = kwargs["callbacks"]
    assert isinstance(ema, mnist.GeneratorEMA) and ema.decay == 0.9 and ema.G is not G
    assert mnist.build_mnist_gan(ci_config(ema_decay=0.0))[2]["callbacks"] == []


@pytest.mark.parametrize("name, value", [("hidden_G", (0, 4)), ("hidden_D", ()), ("dropout", 1.0),
                                         ("ema_decay", 1.0), ("loss", "wasserstein"), ("beta1", -0.1)])
def test_mnist_config_refuses_bad_recipe_knobs(name, value):
    with pytest.raises(ValueError, match=f"{name}="):
        ci_config(**{name: value})


def test_generator_ema_is_the_closed_form_running_mean():
    G = gankit.MLPGenerator(latent_dim=4, hidden=(8,))
    ema = mnist.GeneratorEMA(G, decay=0.9)
    assert ema.every_step                           # called every G step, whatever log_every
    start = [p.clone() for p in G.parameters()]

    def step_G():
        with torch.no_grad():
            for p in G.parameters():
                p.add_(1.0)

    class Trainer:                                  # what the callback reads from GANTrainer
        step, device = 1000, torch.device("cpu")   # late: warm-up 0.991 > decay
    Trainer.G = G
    ema(Trainer())                                  # the first update copies G (AveragedModel)
    step_G()
    ema(Trainer())                                  # G = start + 1: the average moves 1 - 0.9
    for e, s in zip(ema.G.parameters(), start):
        assert torch.allclose(e, s + 0.1)
    Trainer.step = 2                                # early: d = (1 + 2) / (10 + 2) = 0.25
    step_G()
    ema(Trainer())                                  # G = start + 2
    for e, s in zip(ema.G.parameters(), start):
        assert torch.allclose(e, s + 0.1 + (1 - 0.25) * (2 - 0.1))
    assert not ema.G.training and not any(p.requires_grad for p in ema.G.parameters())
    with pytest.raises(ValueError, match="ema_decay=1.5"):
        mnist.GeneratorEMA(G, 1.5)


def test_a_short_run_of_the_recipe_learns_dark_backgrounds():
    data = load_mnist("offline", verbose=False)
    cfg = ci_config(hidden_G=(64, 128), hidden_D=(128, 64))
    gankit.seed_everything(0)
    G, D, kwargs = mnist.build_mnist_gan(cfg)
    before = gankit.models.generate_from_seed(G, 256).mean()
    trainer = gankit.GANTrainer(G, D, progress=False, **kwargs)
    trainer.fit(data, batch_size=64, steps=150)
    after, averaged = gankit.models.generate_from_seed(G, 256).mean(), gankit.models.generate_from_seed(mnist.final_generator(trainer), 256).mean()
    real = data.x.float().div(127.5).sub(1).mean()   # about -0.74: MNIST is mostly background
    assert abs(before - real) > 0.5 and abs(after - real) < 0.25
    assert abs(averaged - real) < abs(before - real) - 0.2      # the average follows, with a lag
    assert mnist.final_generator(trainer) is kwargs["callbacks"][0].G


def test_pick_concepts_takes_thick_and_thin_exemplars(monkeypatch):
    class Ink(torch.nn.Module):                     # a "generator" whose image k has ink ∝ z[k, 0]
        latent_dim = 1
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))
        def forward(self, z):
            return (z[:, :, None, None] * self.w).expand(-1, 1, 28, 28) * 2 - 1
    z = torch.linspace(0, 1, 12)[:, None]
    digits = torch.tensor([7, 1, 7, 1, 7, 1, 7, 1, 7, 1, 7, 7])
    monkeypatch.setattr(mnist, "classify", lambda clf, images: digits)
    a, b, c = mnist.pick_concepts(Ink(), z, None, per_concept=2)
    assert a == [11, 10] and b == [0, 2] and c == [1, 3]
    with pytest.raises(ValueError, match="only 0 samples of digit 3"):
        mnist.pick_concepts(Ink(), z, None, a_digit=3)


def test_nearest_neighbour_figure_and_evaluation_run():
    real = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8)
    fig = mnist.plot_nearest_neighbours(real[:5].float() / 127.5 - 1, real, n=5)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts == ["0.0"] * 5                     # each sample is its own nearest neighbour
    from gankit.classifier import MnistClassifier
    m = mnist.evaluate_digits(gankit.MLPGenerator(hidden=(8,)), MnistClassifier().eval(), real, n=50)
    assert 1 <= m["class_coverage"] <= 10 and m["frechet_distance"] > 0


def test_exercise_checkers_accept_the_answer_and_reject_common_mistakes():
    def stub(*args):
        raise NotImplementedError("your code here")
    assert check_slerp(slerp).message == "✓ slerp: correct on 6 inputs"
    assert check_slerp(stub).status == "not attempted"
    assert check_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1).message.startswith(
        "✗ slerp: this is lerp, (1 − t)·z0 + t·z1: a straight line, not the arc. Hint:")
    assert check_slerp(lambda z0, z1, t: slerp(z0 / z0.norm(), z1 / z1.norm(), t)).message.startswith(
        "✗ slerp: it interpolates the unit vectors")
    assert check_generator_loss(lambda f: F.softplus(-f).mean()).message == \
        "✓ non-saturating G loss: correct on 4 inputs"
    assert check_generator_loss(stub).status == "not attempted"
    assert check_generator_loss(lambda f: -torch.log(torch.sigmoid(f)).mean()).message.startswith(
        "✗ non-saturating G loss: log(sigmoid(f)) underflows to log 0 = −inf where D is sure (f = −120)")
    assert check_generator_loss(lambda f: -F.softplus(f).mean()).message.startswith(
        "✗ non-saturating G loss: this is the minimax loss, mean log(1 − D(G(z))), not the "
        "non-saturating one")


def test_the_students_generator_loss_is_what_trains_G():
    """Exercise 1's answer is used: G's step calls it on D's logits, once per G step, and a
    different function trains a different G (D's loss is untouched)."""
    calls = []

    def student(f_fake):
        calls.append(tuple(f_fake.shape))
        return F.softplus(-f_fake).mean()

    def train(loss):
        torch.manual_seed(0)
        G, D = gankit.MLPGenerator(latent_dim=8, hidden=(16,)), gankit.MLPDiscriminator(hidden=(16,))
        data = InMemoryData(torch.rand(64, 1, 28, 28) * 2 - 1)
        trainer = gankit.GANTrainer(G, D, loss=loss, progress=False, log_every=1)
        trainer.fit(data, batch_size=16, steps=3)
        return torch.cat([p.flatten() for p in G.parameters()])

    spec = mnist.loss_with_generator_loss(student)
    assert spec.d_loss is gankit.losses.loss_spec("non-saturating").d_loss and spec.name == "non-saturating"
    mine = train(spec)
    assert calls == [(16,)] * 3
    assert torch.allclose(mine, train("non-saturating"), atol=1e-6)      # the same loss, the same G
    minimax = train(mnist.loss_with_generator_loss(lambda f: -F.softplus(f).mean()))
    assert not torch.allclose(mine, minimax, atol=1e-6)
    with pytest.raises(ValueError, match="g_loss=3 is not callable"):
        mnist.loss_with_generator_loss(3)


class Fixed(torch.nn.Module):
    """A stand-in generator: z -> f(z), with one parameter like any G."""
    latent_dim = 100

    def __init__(self, f):
        super().__init__()
        self.f, self.w = f, torch.nn.Parameter(torch.zeros(1))

    def forward(self, z):
        return self.f(z) + 0 * self.w


def test_digit_checks_pass_real_digits_and_fail_collapsed_untrained_and_unbalanced(tmp_path):
    """Notebook 03's section-5 checks at the cpu thresholds, with the real digit classifier."""
    from gankit.classifier import default_data_dir, get_mnist_classifier
    data = load_mnist("offline", verbose=False)
    found = (default_data_dir() / "mnist_classifier_offline.pt").exists()
    classifier = get_mnist_classifier("offline", data_dir=None if found else tmp_path, verbose=False)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    real = data.x[order[:1000]].float() / 127.5 - 1                 # the set is sorted by digit
    labels = data.y[order[:1000]]
    keep = (labels != 3) | (torch.arange(1000) % 4 == 0)            # a quarter of the 3s: 4x fewer
    generators = {
        "real digits": Fixed(lambda z: real[torch.arange(len(z)) % len(real)]),
        "one digit": Fixed(lambda z: real[:1].expand(len(z), -1, -1, -1)),            # collapsed
        "untrained": gankit.MLPGenerator(hidden=(256, 512)),
        "few 3s": Fixed(lambda z: real[keep][torch.arange(len(z)) % int(keep.sum())])}
    thresholds = {k: mnist.THRESHOLDS["cpu"][k] for k in ("classes", "balance", "frechet")}
    checks = {name: mnist.digit_checks(mnist.evaluate_digits(G, classifier, data.x[order[1000:]], n=1000),
                                       **thresholds) for name, G in generators.items()}
    print({name: {k: round(v[0], 3) for k, v in c.items()} for name, c in checks.items()})
    passed = {name: all(ok for _, _, ok in c.values()) for name, c in checks.items()}
    assert passed == {"real digits": True, "one digit": False, "untrained": False, "few 3s": False}
