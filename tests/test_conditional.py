"""gankit.lessons.conditional_gan: the conditional GAN of notebook 05 (shapes, labels honoured, EMA, saving)."""
import matplotlib.pyplot as plt
import pytest
import torch

import gankit
from gankit.lessons.conditional_gan import (ProjectionDiscriminator, build_conditional_gan,
                                reference_projection_score,
                                digit_grid, evaluate_labels,
                                parse_digits, render_number)
from gankit.data import InMemoryData
from gankit.callbacks import GeneratorEMA
from gankit.models import MLPGenerator, generate, latent_from_seed


@pytest.fixture
def cfg():
    return gankit.ConditionalMnistConfig.from_params(profile="ci", hidden_G=(16,), hidden_D=(16,))


class RecordingG(torch.nn.Module):
    """A stand-in G that remembers its inputs: x = mean(z) + y, broadcast to an image."""
    latent_dim, num_classes = 3, 10

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))
        self.calls = []

    def forward(self, z, y):
        self.calls.append((z.clone(), y.clone()))
        return (z.mean(1) + y)[:, None, None, None].expand(-1, 1, 28, 28) * self.w


def test_models_have_the_conditional_shapes(cfg):
    G, D = build_conditional_gan(cfg)
    z, y = torch.randn(5, cfg.latent_dim), torch.tensor([0, 1, 2, 3, 9])
    x = G(z, y)
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert D(x, y).shape == (5,)
    assert G.num_classes == 10 and G.latent_dim == cfg.latent_dim


def test_projection_score_depends_on_the_label():
    D = ProjectionDiscriminator(data_shape=(1, 4, 4), hidden=(8,), num_classes=3)
    x = torch.randn(2, 1, 4, 4)
    same = D(x, torch.tensor([0, 0]))
    assert not torch.allclose(same, D(x, torch.tensor([2, 2])))
    # the label term is embed(y)·φ(x): removing the embedding leaves the unconditional score
    with torch.no_grad():
        D.embed.weight.zero_()
    assert torch.allclose(D(x, torch.tensor([0, 0])), D(x, torch.tensor([2, 2])))


def test_grid_rows_are_digits_and_columns_share_z():
    G = RecordingG()
    grid = digit_grid(G, n_styles=4, seed=7)
    assert grid.shape == (40, 1, 28, 28)
    z, y = G.calls[0]
    assert y.tolist() == [d for d in range(10) for _ in range(4)]
    assert torch.equal(z[0], z[4]) and torch.equal(z[3], z[39])   # column j: one z for all rows
    assert not torch.equal(z[0], z[1])
    assert torch.equal(z[:4], latent_from_seed(G, range(7, 11)))


def test_number_uses_one_z_for_all_its_digits():
    G = RecordingG()
    images = render_number(G, "2 0 2 6", seed=3)
    z, y = G.calls[0]
    assert images.shape == (4, 1, 28, 28) and y.tolist() == [2, 0, 2, 6]
    assert torch.equal(z, z[:1].expand(4, -1))


@pytest.mark.parametrize("text, match", [("12a", "'a'"), ("", "empty"), ("3.5", "'.'"),
                                         ("1" * 21, "at most 20"), (7, "string")])
def test_parse_digits_names_bad_input(text, match):
    with pytest.raises(ValueError, match=match):
        parse_digits(text)


def test_parse_digits():
    assert parse_digits(" 90 1") == [9, 0, 1]


def test_evaluation_reports_accuracy_per_digit():
    from gankit.classifier import MnistClassifier
    classifier = MnistClassifier().eval()
    G = MLPGenerator(latent_dim=4, hidden=(8,), num_classes=10)
    m = evaluate_labels(G, classifier, real=torch.randint(0, 256, (50, 1, 28, 28), dtype=torch.uint8),
                        n_per_digit=5)
    assert len(m["per_digit_accuracy"]) == 10
    assert m["class_accuracy"] == pytest.approx(sum(m["per_digit_accuracy"]) / 10)
    assert m["frechet_distance"] >= 0 and sum(m["class_histogram"]) == 50
    with pytest.raises(ValueError, match="n_per_digit"):
        evaluate_labels(G, classifier, n_per_digit=0)


def test_saved_conditional_generator_round_trips(cfg, tmp_path):
    G, _ = build_conditional_gan(cfg)
    G_ema = GeneratorEMA(G).G
    gankit.save_generator(G_ema, tmp_path / "generator.pt")
    G2 = gankit.load_generator(tmp_path / "generator.pt")
    z, y = torch.randn(6, cfg.latent_dim), torch.arange(6)
    assert G2.num_classes == 10 and not G2.training
    assert torch.equal(generate(G_ema, z, y), G2(z, y))


def quadrant_data(n=1024, side=8):
    """4 classes: a bright quadrant (class k = quadrant k) on a dark 8×8 image, as uint8."""
    y = torch.arange(n) % 4
    x = torch.zeros(n, 1, side, side, dtype=torch.uint8)
    h = side // 2
    for k in range(4):
        r, c = divmod(k, 2)
        x[y == k, :, r * h:(r + 1) * h, c * h:(c + 1) * h] = 255
    return InMemoryData(x, y, source="quadrants", num_classes=4)


def brightest_quadrant(x):
    h = x.shape[-1] // 2
    means = torch.stack([x[:, 0, r * h:(r + 1) * h, c * h:(c + 1) * h].mean((1, 2))
                         for r in range(2) for c in range(2)], 1)
    return means.argmax(1)


def test_a_short_run_honours_the_labels():
    """G must learn to put the bright quadrant where y says: 4 classes, chance is 0.25."""
    gankit.seed_everything(0)
    data = quadrant_data()
    G = MLPGenerator(latent_dim=8, data_shape=(1, 8, 8), hidden=(32,), num_classes=4)
    D = ProjectionDiscriminator(data_shape=(1, 8, 8), hidden=(32,), num_classes=4)
    ema = GeneratorEMA(G, 0.9)
    trainer = gankit.GANTrainer(G, D, lr=2e-3, progress=False, log_every=5, callbacks=[ema])
    y = torch.arange(200) % 4
    z = torch.randn(200, 8)
    before = (brightest_quadrant(generate(ema.G, z, y)) == y).float().mean()
    trainer.fit(data, batch_size=64, steps=150)
    after = (brightest_quadrant(generate(ema.G, z, y)) == y).float().mean()
    assert before < 0.5 and after > 0.8, (before, after)


def test_config_profiles_and_bad_values():
    for profile in ("ci", "cpu", "gpu"):
        cfg = gankit.ConditionalMnistConfig.from_params(profile=profile)
        assert cfg.epochs > 0 and 0 < cfg.min_accuracy <= 1
    for name, value in [("min_accuracy", 1.5), ("min_accuracy", "high"), ("n_per_digit", 0),
                        ("ema_decay", 1.0)]:
        with pytest.raises(ValueError, match=name):
            gankit.ConditionalMnistConfig.from_params(profile="ci", **{name: value})


def test_exercise_checkers_accept_the_answer_and_catch_mistakes():
    import torch.nn.functional as F

    from gankit.lessons.conditional_gan import check_label_maps, check_projection_score

    def stub(*args):
        raise NotImplementedError("your code here")
    assert check_label_maps(lambda y, n, h, w: F.one_hot(y, n).float()[:, :, None, None]
                            .expand(-1, -1, h, w)).message == "✓ label maps: correct on 3 inputs"
    assert check_label_maps(stub).status == "not attempted"
    assert check_label_maps(lambda y, n, h, w: torch.zeros(len(y), n, h, w)).message.startswith(
        "✗ label maps: on input ([0 3 9], 10, 4, 4) it gives 0 at index (0, 0, 0, 0) where 1 was expected")
    assert "gives shape (3, 4, 4, 10) where (3, 10, 4, 4)" in check_label_maps(
        lambda y, n, h, w: F.one_hot(y, n).float()[:, None, None, :].expand(-1, h, w, -1)).message
    assert check_projection_score(lambda phi, w, b, embed, y: phi @ w + b + (embed[y] * phi).sum(1))
    assert check_projection_score(stub).status == "not attempted"
    assert check_projection_score(lambda phi, w, b, embed, y: phi @ w + b).message.startswith(
        "✗ projection score: it leaves out the class term embed[y]·φ(x): that is an unconditional D")
    assert check_projection_score(lambda phi, w, b, embed, y: phi @ w + (embed[y] * phi).sum(1)) \
        .message.startswith("✗ projection score: it leaves out the bias b")


def test_label_checks_pass_real_digits_and_fail_collapsed_untrained_and_label_blind(tmp_path):
    """Notebook 05's section-4 checks at the cpu thresholds, with the real digit classifier."""
    from gankit.classifier import get_mnist_classifier
    from gankit.data import default_data_dir, load_mnist
    from gankit.lessons.conditional_gan import evaluate_labels, label_checks
    data = load_mnist("offline", verbose=False)
    found = (default_data_dir() / "mnist_classifier_offline.pt").exists()
    classifier = get_mnist_classifier("offline", data_dir=None if found else tmp_path, verbose=False)
    real = data.x.float() / 127.5 - 1
    by_digit = [real[data.y == d] for d in range(10)]

    class Fixed(torch.nn.Module):
        latent_dim, num_classes = 8, 10

        def __init__(self, f):
            super().__init__()
            self.f, self.w = f, torch.nn.Parameter(torch.zeros(1))

        def forward(self, z, y):
            return self.f(z, y) + 0 * self.w

    def honest(z, y):                      # a real digit of the class asked for
        return torch.stack([by_digit[d][k % len(by_digit[d])] for k, d in enumerate(y.tolist())])
    generators = {"honest": Fixed(honest),
                  "one digit": Fixed(lambda z, y: real[:1].expand(len(z), -1, -1, -1)),
                  "label-blind": Fixed(lambda z, y: real[torch.randperm(len(real))[:len(z)]]),
                  "untrained": MLPGenerator(latent_dim=8, hidden=(64,), num_classes=10)}
    cpu = gankit.ConditionalMnistConfig.from_params(profile="cpu")
    passed = {name: all(ok for _, _, ok in label_checks(
                  evaluate_labels(G, classifier, n_per_digit=50), cpu.min_accuracy,
                  cpu.min_accuracy - 0.1).values()) for name, G in generators.items()}
    assert passed == {"honest": True, "one digit": False, "label-blind": False, "untrained": False}


def test_label_input_chooses_how_d_sees_y():
    one_hot = gankit.ConditionalMnistConfig.from_params(profile="ci", label_input="one-hot")
    G, D = build_conditional_gan(one_hot)
    assert isinstance(D, gankit.MLPDiscriminator) and D.num_classes == 10
    x, y = torch.zeros(3, 1, 28, 28), torch.tensor([0, 4, 9])
    assert D(x, y).shape == (3,) and not torch.equal(D(x, y), D(x, (y + 1) % 10))
    assert isinstance(build_conditional_gan(gankit.ConditionalMnistConfig.from_params(profile="ci"))[1],
                      ProjectionDiscriminator)
    with pytest.raises(ValueError, match="label_input='onehot'"):
        gankit.ConditionalMnistConfig.from_params(profile="ci", label_input="onehot")


def test_projection_d_scores_with_its_score_fn():
    """Notebook 05 builds D with the student's projection_score: D's output is what that function
    computes from φ(x) and D's own weights, gradients reach those weights through it, and
    build_conditional_gan passes it on (the one-hot D has no projection to hand it to)."""
    seen = []

    def doubled(phi, w, b, embed, y):
        seen.append((phi.shape, w.shape, b.shape, embed.shape, y.tolist()))
        return 2 * (phi @ w + b) - (embed[y] * phi).sum(1)
    D = ProjectionDiscriminator(data_shape=(1, 4, 4), hidden=(8, 6), num_classes=3, score_fn=doubled)
    x, y = torch.randn(5, 1, 4, 4), torch.tensor([0, 2, 1, 1, 0])
    out = D(x, y)
    assert seen == [((5, 6), (6,), (), (3, 6), [0, 2, 1, 1, 0])]
    phi = D.phi(x.flatten(1))
    want = 2 * (phi @ D.score.weight[0] + D.score.bias[0]) - (D.embed.weight[y] * phi).sum(1)
    assert torch.allclose(out, want)
    out.sum().backward()
    assert D.embed.weight.grad is not None and D.score.weight.grad.abs().sum() > 0
    cfg = gankit.ConditionalMnistConfig.from_params(profile="ci", hidden_D=(16,))
    assert build_conditional_gan(cfg, score_fn=doubled)[1].score_fn is doubled
    assert build_conditional_gan(cfg)[1].score_fn is reference_projection_score


def test_default_score_equals_the_linear_and_embedding_forward():
    """reference_projection_score on D's weights is the old forward, score(φ) + (embed(y)·φ).sum(1)."""
    torch.manual_seed(3)
    D = ProjectionDiscriminator(hidden=(64, 32))
    with torch.no_grad():                                   # random weights, not only the initial ones
        for p in D.parameters():
            p.normal_(0, 0.3)
    x, y = torch.rand(16, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (16,))
    phi = D.phi(x.flatten(1))
    old = D.score(phi).squeeze(1) + (D.embed(y) * phi).sum(1)
    assert torch.allclose(D(x, y), old, rtol=1e-6, atol=1e-6 * old.abs().max().item())


@pytest.mark.parametrize("bad", [None, 3, "projection"])
def test_a_score_fn_that_is_not_a_function_is_refused(bad):
    with pytest.raises(ValueError, match=r"^score_fn=.* is not callable: pass a function") as error:
        ProjectionDiscriminator(score_fn=bad)
    assert "\n" not in str(error.value)


def test_label_channels_figure_shows_what_a_conditional_dcgan_reads():
    """Notebook 05 draws torch.cat([x, label_maps(y, 10, 28, 28)], 1): one row per digit, the image
    then 10 maps, the map of each row's label framed."""
    from gankit.lessons.conditional_gan import plot_label_channels, reference_label_maps
    y = torch.tensor([3, 7])
    d_input = torch.cat([torch.rand(2, 1, 28, 28) * 2 - 1, reference_label_maps(y, 10, 28, 28)], 1)
    fig = plot_label_channels(d_input, y)
    grid = [ax for ax in fig.axes if ax.images]                # the colorbar's axes hold no image
    assert len(grid) == 22 and grid[0].get_title() == "x" and grid[4].get_title() == "map 3"
    assert [ax.get_ylabel() for ax in (grid[0], grid[11])] == ["y = 3", "y = 7"]
    framed = [i for i, ax in enumerate(grid) if ax.spines["top"].get_linewidth() > 2]
    assert framed == [1 + 3, 11 + 1 + 7]
    assert (grid[4].images[0].get_array() == 1).all() and (grid[5].images[0].get_array() == 0).all()
    assert (grid[0].images[0].get_array() == d_input[0, 0].numpy()).all()
    plt.close(fig)


def test_notebook_05_uses_both_answers_below_their_exercises():
    """Issue 14: the checked label_maps draws the label-channel figure and the checked
    projection_score is D's score, each in a code cell after its exercise (and D is built once)."""
    from pathlib import Path

    import nbformat
    path = Path(__file__).resolve().parents[1] / "notebooks" / "05_conditional_gan.ipynb"
    code = [c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code"]

    def first(text):
        return next(i for i, source in enumerate(code) if text in source)
    built = [i for i, source in enumerate(code) if "build_conditional_gan(" in source]
    assert built == [first("build_conditional_gan(cfg, score_fn=projection_score)")]
    assert first("projection_score = answer(") < built[0] < first("gankit.GANTrainer(G, D")
    assert first("label_maps = answer(") < first("label_maps(y, 10, 28, 28)") \
        == first("plot_label_channels(") < built[0]
