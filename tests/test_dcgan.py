"""Notebook 04's helpers: transposed convolution by hand, the shape trace, build_dcgan, the face
quality measure, the attribute classifier, the exercise checkers, and CelebA as the notebook uses it."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gankit
from gankit.lessons import dcgan_faces as dcgan
from gankit.data import InMemoryData
from gankit.lessons.dcgan_faces import check_conv_transpose_size, check_dcgan_init, check_figure7
from gankit.faces import CelebALayoutError, load_faces
from gankit.models import dcgan_init

from test_data import make_celeba, misshape, no_network  # noqa: F401 (autouse: no network, no GANKIT_OFFLINE)


def test_by_hand_2x2_example_is_the_textbook_sum():
    x, w = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1.0, 10.0], [100.0, 1000.0]])
    # each input pixel stamps pixel × kernel; the four stamps overlap in the centre
    want = torch.tensor([[1.0, 12.0, 20.0], [103.0, 1234.0, 2040.0], [300.0, 3400.0, 4000.0]])
    assert torch.equal(dcgan.conv_transpose2d_by_hand(x, w), want)


@pytest.mark.parametrize("size,k,stride,padding", [(2, 2, 1, 0), (2, 2, 2, 0), (3, 4, 2, 1),
                                                   (4, 3, 3, 1), (1, 4, 1, 0), (5, 4, 2, 1)])
def test_by_hand_equals_conv_transpose2d(size, k, stride, padding):
    g = torch.Generator().manual_seed(size * 10 + k)
    x, w = torch.randn(size, size, generator=g), torch.randn(k, k, generator=g)
    layer = nn.ConvTranspose2d(1, 1, k, stride, padding, bias=False)
    with torch.no_grad():
        layer.weight.copy_(w[None, None])
        want = layer(x[None, None])[0, 0]
    got = dcgan.conv_transpose2d_by_hand(x, w, stride, padding)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-5)
    assert got.shape[0] == dcgan.conv_transpose_output_size(size, k, stride, padding)


@pytest.mark.parametrize("size,k,stride,padding,op", [(3, 4, 2, 1, 1), (4, 3, 2, 1, 1),
                                                      (5, 3, 3, 1, 2), (3, 4, 2, 0, 1)])
def test_by_hand_with_output_padding_equals_conv_transpose2d(size, k, stride, padding, op):
    g = torch.Generator().manual_seed(size + k + op)
    x, w = torch.randn(size, size, generator=g), torch.randn(k, k, generator=g)
    want = F.conv_transpose2d(x[None, None], w[None, None], stride=stride, padding=padding,
                              output_padding=op)[0, 0]
    got = dcgan.conv_transpose2d_by_hand(x, w, stride, padding, op)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-5)
    assert got.shape[0] == dcgan.conv_transpose_output_size(size, k, stride, padding, op)
    with pytest.raises(ValueError, match="output_padding=2"):
        dcgan.conv_transpose2d_by_hand(x, w, 2, 1, 2)


def test_transposed_convolution_is_the_transpose_of_the_convolution_matrix():
    g = torch.Generator().manual_seed(0)
    w, x, y = torch.randn(4, 4, generator=g), torch.randn(8, 8, generator=g), torch.randn(4, 4, generator=g)
    C = dcgan.conv_matrix(w, 8, stride=2, padding=1)                       # 8x8 -> 4x4
    assert C.shape == (16, 64)
    conv = F.conv2d(x[None, None], w[None, None], stride=2, padding=1)[0, 0]
    assert torch.allclose(C @ x.flatten(), conv.flatten(), atol=1e-5)
    up = F.conv_transpose2d(y[None, None], w[None, None], stride=2, padding=1)[0, 0]
    assert torch.allclose(C.T @ y.flatten(), up.flatten(), atol=1e-5)


def test_output_size_formula_matches_pytorch_and_the_dcgan_steps():
    for size in (1, 3, 4, 7):
        for k, s, p in ((4, 1, 0), (4, 2, 1), (3, 2, 1), (5, 3, 2)):
            out = F.conv_transpose2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k),
                                     stride=s, padding=p)
            assert out.shape[-1] == dcgan.conv_transpose_output_size(size, k, s, p)
    assert dcgan.conv_transpose_output_size(1, 4, 1, 0) == 4          # z (1×1) -> 4×4
    assert dcgan.conv_transpose_output_size(16, 4, 2, 1) == 32        # each later layer doubles


def test_predicted_sides_use_the_given_out_size_on_each_transposed_convolution():
    G = gankit.DCGANGenerator(latent_dim=100, image_size=64, channels=3, ngf=64)
    rows = dcgan.predicted_sides(G, torch.zeros(1, 100, 1, 1))
    assert [name for name, _, _ in rows] == [name for name, _ in dcgan.shape_trace(G, torch.zeros(1, 100, 1, 1))]
    predicted = [(args, side, shape[-1]) for name, shape, (args, side) in
                 (r for r in rows if r[2] is not None)]
    assert [args for args, _, _ in predicted] == [(1, 4, 1, 0, 0), (4, 4, 2, 1, 0), (8, 4, 2, 1, 0),
                                                  (16, 4, 2, 1, 0), (32, 4, 2, 1, 0)]   # read from the layers
    assert all(side == measured for _, side, measured in predicted)
    conv_formula = dcgan.predicted_sides(G, torch.zeros(1, 100, 1, 1),
                                         lambda n, k, s, p, op: (n + 2 * p - k) // s + 1)   # a wrong out_size
    wrong = [(r[2][1], r[1][-1]) for r in conv_formula if r[2] is not None]
    assert wrong[0] == (-2, 4) and all(p != m for p, m in wrong)          # shown beside the measured side


def test_shape_trace_of_the_tutorial_generator():
    G = gankit.DCGANGenerator(latent_dim=100, image_size=64, channels=3, ngf=64)
    trace = dcgan.shape_trace(G, torch.zeros(2, 100, 1, 1))
    sides = [shape for name, shape in trace if name in ("input", "ConvTranspose2d")]
    assert sides == [(100, 1, 1), (512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]
    assert trace[-1] == ("Tanh", (3, 64, 64))


def test_build_dcgan_follows_the_config_and_trains(monkeypatch):
    cfg = gankit.FacesConfig.from_params(profile="ci", image_size=16, seed=3)
    G, D, kwargs = dcgan.build_dcgan(cfg, channels=1)
    assert G.config["image_size"] == 16 and G.config["ngf"] == cfg.ngf and D.config["ndf"] == cfg.ndf
    assert G(torch.zeros(2, cfg.latent_dim)).shape == (2, 1, 16, 16)
    assert kwargs["betas"] == (0.5, 0.999) and kwargs["lr"] == cfg.lr and kwargs["seed"] == 3
    data = InMemoryData(torch.randint(0, 256, (32, 1, 16, 16), dtype=torch.uint8))
    trainer = gankit.GANTrainer(G, D, **kwargs, progress=False, log_every=2)
    trainer.fit(data, batch_size=8, steps=4)
    assert trainer.step == 4 and dcgan.images_per_second(trainer, 8) > 0
    with pytest.raises(ValueError, match="channels=0"):
        dcgan.build_dcgan(cfg, channels=0)


def constant_init(module):
    """An init no default could produce: every conv weight 0.5, every batch-norm scale 2."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.constant_(module.weight, 0.5)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.constant_(module.weight, 2.0)


def test_a_custom_init_builds_g_and_d():
    cfg = gankit.FacesConfig.from_params(profile="ci", image_size=16)
    for model in dcgan.build_dcgan(cfg, channels=1, init=constant_init)[:2]:
        convs = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        norms = [m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        assert convs and norms
        assert all(bool((w == 0.5).all()) for w in convs) and all(bool((w == 2).all()) for w in norms)
    G_default = dcgan.build_dcgan(cfg, channels=1)[0]                     # init=None: DCGAN's
    assert 0.015 < float(G_default.net[0].weight.detach().std()) < 0.025


@pytest.mark.parametrize("cls", [gankit.DCGANGenerator, gankit.DCGANDiscriminator])
def test_a_non_callable_init_is_refused_in_one_line(cls):
    with pytest.raises(ValueError, match=r"^init='normal' is not allowed: pass a function of one module"):
        cls(image_size=16, init="normal")
    with pytest.raises(ValueError, match="init=0.02"):
        dcgan.build_dcgan(gankit.FacesConfig.from_params(profile="ci"), channels=1, init=0.02)


def test_a_custom_init_does_not_change_what_load_generator_rebuilds(tmp_path):
    G = gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8, init=constant_init)
    assert G.config == gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8).config
    gankit.save_generator(G, tmp_path / "g.pt")
    back = gankit.load_generator(tmp_path / "g.pt")
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), back.state_dict().values()))
    assert float(back.net[0].weight.detach()[0, 0, 0, 0]) == 0.5         # the saved weights, not a new init


def notebook_solution(name):
    """The worked answer `name` of notebook 04, defined from its exercise cell (without `answer`)."""
    import nbformat
    from pathlib import Path
    nb = nbformat.read(Path(__file__).parents[1] / "notebooks" / "04_dcgan_faces.ipynb", 4)
    source = next(c.source for c in nb.cells if f"def {name}(" in c.source and f"{name} = answer(" in c.source)
    namespace = {"nn": nn}
    exec(source.split(f"{name} = answer(")[0], namespace)
    return namespace[name]


def test_the_worked_init_draws_what_dcgan_init_draws():
    """The stored run is the same with the worked my_init as with dcgan_init: same modules, same
    draws in the same order, so the same weights from the same seed."""
    my_init = notebook_solution("my_init")
    for build in (lambda init: gankit.DCGANGenerator(latent_dim=16, image_size=32, channels=1, ngf=8, init=init),
                  lambda init: gankit.DCGANDiscriminator(image_size=32, channels=1, ndf=8, init=init)):
        torch.manual_seed(7)
        mine = build(my_init)
        after_mine = torch.rand(1)
        torch.manual_seed(7)
        reference = build(dcgan_init)
        assert torch.equal(torch.rand(1), after_mine)                    # the RNG was left alike
        assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(),
                                                     reference.state_dict().values()))


def test_train_faces_builds_with_the_given_init():
    cfg = gankit.FacesConfig.from_params(profile="ci", image_size=16, epochs=1, batch_size=8)
    data = InMemoryData(torch.randint(0, 256, (20, 1, 16, 16), dtype=torch.uint8))
    train, held = dcgan.hold_out(data, fraction=0.2)
    seen = []

    def recording_init(module):
        seen.append(type(module).__name__)
        dcgan_init(module)
    trainer, _ = dcgan.train_faces(cfg, train, held, channels=1, progress=False, init=recording_init)
    assert trainer.step == 2
    assert seen.count("ConvTranspose2d") == 3 and seen.count("Conv2d") == 3       # G's and D's layers


def test_build_dcgan_turns_on_cudnn_benchmark_only_on_cuda(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    cfg = gankit.FacesConfig.from_params(profile="ci")
    dcgan.build_dcgan(cfg, 3)
    assert torch.backends.cudnn.benchmark is (cfg.device == "cuda")


def test_quality_measure_orders_real_fake_and_noise():
    faces = load_faces("offline", image_size=32, verbose=False).x          # (100, 1, 32, 32)

    class Copier(nn.Module):                                              # "G" that returns faces
        latent_dim, latent = 4, "normal"

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, z):
            return gankit.data.to_unit_range(faces[: len(z)]) + 0 * self.w

    q = dcgan.face_quality(Copier(), faces, n=100)
    assert q["real_vs_real"] < q["noise_vs_real"] / 5
    assert q["memorisation_ratio"] == 0.0                                 # exact copies
    untrained = gankit.DCGANGenerator(latent_dim=8, image_size=32, channels=1, ngf=8)
    q_untrained = dcgan.face_quality(untrained, faces, n=100)
    assert q_untrained["fake_vs_real"] > q["real_vs_real"]
    assert q_untrained["memorisation_ratio"] > 0                           # no exact copies
    noise = torch.rand(100, 1, 32, 32) * 2 - 1
    assert dcgan.memorisation_ratio(noise, faces) > 1                     # farther than faces are
    assert dcgan.RandomFeatures()(faces[:3]).shape == (3, 64)


class Fixed(nn.Module):
    """A stand-in "G": z -> f(z), with one parameter so it is a module like any G."""
    latent_dim, latent = 4, "normal"

    def __init__(self, f):
        super().__init__()
        self.f, self.w = f, nn.Parameter(torch.zeros(1))

    def forward(self, z):
        return self.f(z) + 0 * self.w


def test_face_checks_fail_for_collapsed_untrained_and_noise_generators():
    """Notebook 04's self-checks with the cpu thresholds, on the 90 offline training faces."""
    faces = load_faces("offline", image_size=32, verbose=False).x[:90]
    real = gankit.data.to_unit_range(faces).float()
    torch.manual_seed(0)
    generators = {
        "copier": Fixed(lambda z: real[torch.arange(len(z)) % len(real)]),
        "one face": Fixed(lambda z: real[:1].expand(len(z), -1, -1, -1)),          # collapsed
        "mean face": Fixed(lambda z: real.mean(0, keepdim=True).expand(len(z), -1, -1, -1)),
        "noise": Fixed(lambda z: torch.rand(len(z), 1, 32, 32) * 2 - 1),
        "untrained": gankit.DCGANGenerator(latent_dim=64, image_size=32, channels=1, ngf=32)}
    passed = {}
    for name, G in generators.items():
        q = dcgan.face_quality(G, faces, n=2000)
        assert q["n_per_set"] == 45 and 2 * q["n_features"] <= 45      # covariances of full rank
        passed[name] = all(ok for _, _, ok in dcgan.face_checks(q, 0.5, 0.5).values())
    assert passed == {"copier": True, "one face": False, "mean face": False, "noise": False,
                      "untrained": False}


def synthetic_celeba_data(n=400):
    """Faces whose 'Smiling' attribute is simply 'the image is bright': learnable in a few steps."""
    g = torch.Generator().manual_seed(0)
    bright = torch.rand(n, generator=g) < 0.5
    x = (torch.rand(n, 3, 16, 16, generator=g) * 100 + bright[:, None, None, None] * 120).to(torch.uint8)
    attrs = torch.stack([bright, ~bright], 1).to(torch.uint8)
    return InMemoryData(x, attributes=attrs, attribute_names=("Smiling", "Male"))


def test_attribute_classifier_learns_and_labels_samples():
    data = synthetic_celeba_data()
    clf = dcgan.train_attribute_classifier(data, names=("Smiling",), steps=25)
    assert clf.accuracy["Smiling"] > 0.9
    G = gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=3, ngf=8)
    z, has = dcgan.label_samples(G, clf, "Smiling", n=50)
    assert z.shape == (50, 8) and has.shape == (50,) and has.dtype == torch.bool
    with pytest.raises(ValueError, match="need CelebA"):
        dcgan.train_attribute_classifier(InMemoryData(data.x), names=("Smiling",))
    with pytest.raises(ValueError, match="Bald"):
        dcgan.train_attribute_classifier(data, names=("Bald",))


def test_celeba_folder_feeds_the_notebook_with_attributes(tmp_path):
    make_celeba(tmp_path, n=8)
    cfg = gankit.FacesConfig.from_params(profile="ci", data_source="full", data_dir=str(tmp_path))
    data = dcgan.load_notebook_faces(cfg, verbose=False)                  # data_dir holds celeba/
    assert data.x.shape == (8, 3, 32, 32) and data.source.startswith("CelebA")
    assert "Smiling" in data.attribute_names and data.attributes.shape == (8, 40)
    direct = dcgan.load_notebook_faces(gankit.FacesConfig.from_params(
        profile="ci", data_dir=str(tmp_path / "celeba")), verbose=False)  # data_dir is CelebA
    assert torch.equal(direct.x, data.x) and torch.equal(direct.attributes, data.attributes)
    G, D, _ = dcgan.build_dcgan(cfg, data.x.shape[1])
    assert D(gankit.data.to_unit_range(data.x)).shape == (8,)
    misshape(tmp_path / "celeba", "nested one level too deep")
    with pytest.raises(CelebALayoutError, match="one folder too deep.*quota exceeded"):
        dcgan.load_notebook_faces(cfg, verbose=False)


def test_any_face_folder_through_data_dir(tmp_path):
    make_celeba(tmp_path, n=3)
    folder = tmp_path / "celeba" / "img_align_celeba"                    # just jpgs, no attributes
    data = dcgan.load_notebook_faces(gankit.FacesConfig.from_params(profile="ci", data_dir=str(folder)))
    assert data.x.shape == (3, 3, 32, 32) and data.attributes is None


# ------------------------------------------------------------------ the exercise checkers
def test_check_conv_transpose_size(capsys):
    def verdict(student):                     # (passed, the line the student reads)
        result = check_conv_transpose_size(student)
        return bool(result), capsys.readouterr().out + repr(result)

    assert verdict(lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op)[0]
    for wrong, says in (((lambda n, k, s, p, op: (n - 1) * s - p + k + op), "2·padding"),
                        ((lambda n, k, s, p, op: (n - 1) * s - 2 * p + k), "output_padding"),
                        ((lambda n, k, s, p, op: (n + 2 * p - k) // s + 1), "✗")):   # conv's
        passed, line = verdict(wrong)
        assert not passed and says in line, line


def test_check_dcgan_init():
    assert check_dcgan_init(dcgan_init).message == \
        "✓ DCGAN init: conv weights, batch-norm scales and shifts of G and D look right"

    def stub(module):
        raise NotImplementedError("your code here")
    assert check_dcgan_init(stub).status == "not attempted"
    assert check_dcgan_init(lambda m: None).message.startswith(
        "✗ DCGAN init: it changed no weight: initialise in place (nn.init.normal_). Hint:")

    def conv_only(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
    assert check_dcgan_init(conv_only).message.startswith(                 # batch norm left as it was
        "✗ DCGAN init: G batch norm scale std is 0.29")

    def std_02(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.2)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    assert check_dcgan_init(std_02).message.startswith("✗ DCGAN init: G conv std is 0.19")


def test_check_dcgan_init_leaves_the_global_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check_dcgan_init(dcgan_init)
    assert torch.equal(torch.rand(3), expected)


def test_check_figure7():
    assert check_figure7(lambda z, a, b, c: z[a].mean(0) - z[b].mean(0) + z[c].mean(0)).message == \
        "✓ Figure-7 arithmetic: correct on 4 inputs"
    assert check_figure7(lambda z, a, b, c: ...).status == "not attempted"
    assert check_figure7(lambda z, a, b, c: z[a[0]] - z[b[0]] + z[c[0]]).message.startswith(
        "✗ Figure-7 arithmetic: it uses one exemplar per concept")
    assert "gives shape (1, 5) where (5,) was expected" in check_figure7(
        lambda z, a, b, c: (z[a] - z[b] + z[c]).mean(0)[None]).message


def test_the_arithmetic_widget_centres_on_the_given_combine_fn(monkeypatch):
    """Notebook 04 hands the student's combine to the widget: G draws its result in the centre."""
    import gankit.widgets as gw
    G = gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8)
    drawn = []

    def recording_generate(G, z, *args):
        drawn.append(z.clone())
        return gankit.models.generate(G, z, *args)
    monkeypatch.setattr(gw, "generate", recording_generate)
    calls = []

    def far_away(z, a, b, c):
        calls.append((a, b, c))
        return torch.full((z.shape[1],), 3.0)
    default = gw.arithmetic_widget(G, n_samples=9, noise=0.1, n_neighbours=8)
    centre_default = drawn[-1][3]                                         # rows: A, B, C, then the centre
    mine = gw.arithmetic_widget(G, n_samples=9, noise=0.1, n_neighbours=8, combine_fn=far_away)
    assert calls == [([0, 1, 2], [3, 4, 5], [6, 7, 8])]
    assert torch.equal(drawn[-1][3], torch.full((8,), 3.0)) and not torch.equal(centre_default, drawn[-1][3])
    assert (drawn[-1][4:] - 3.0).abs().max() <= 0.1                      # the neighbours are around it
    assert mine.png != default.png
    same = gw.arithmetic_widget(G, n_samples=9, noise=0.1, n_neighbours=8, combine_fn=dcgan.reference_combine)
    assert same.png == default.png                                        # a correct answer: the same picture
    with pytest.raises(ValueError, match=r"combine_fn gave shape \(1, 8\)"):
        gankit.latent.vector_arithmetic(default.z, [0], [1], [2], combine_fn=lambda z, a, b, c: z[a])


def test_hold_out_splits_disjointly_and_keeps_attributes():
    data = synthetic_celeba_data(50)
    train, held = dcgan.hold_out(data, fraction=0.2, seed=1)
    assert len(train) == 40 and held.shape == (10, 3, 16, 16)
    assert train.attributes.shape == (40, 2) and train.attribute_names == data.attribute_names
    rows = {tuple(x.flatten().tolist()) for x in data.x}
    seen = {tuple(x.flatten().tolist()) for x in train.x} | {tuple(x.flatten().tolist()) for x in held}
    assert seen == rows                                                   # nothing lost, none twice
    with pytest.raises(ValueError, match="fraction=1"):
        dcgan.hold_out(data, fraction=1)


def test_memorisation_tracker_records_d_on_seen_and_unseen_faces():
    data = InMemoryData(torch.randint(0, 256, (40, 1, 16, 16), dtype=torch.uint8))
    train, held = dcgan.hold_out(data, fraction=0.25)
    G = gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8)
    D = gankit.DCGANDiscriminator(image_size=16, channels=1, ndf=8)
    tracker = dcgan.MemorisationTracker(train.x, held)
    trainer = gankit.GANTrainer(G, D, progress=False, log_every=1, callbacks=[tracker])
    trainer.fit(train, batch_size=10, steps=3)
    assert tracker.steps == [1, 2, 3] and len(tracker.d_train) == len(tracker.d_held) == 3
    assert all(0 < v < 1 for v in tracker.d_train + tracker.d_held)
    assert len(tracker.plot().axes[0].lines) == 2
