"""Checkers for the notebooks' exercises: the student's function against gankit's reference.

`check` runs both on a few inputs and answers in one line: correct, or the first thing that
differs (an exception, the shape, the sign, a value at a given input) followed by a hint. Each
notebook's exercises call it through a small named checker, e.g.

    check_exponential_icdf(my_icdf)   # ✓ exponential F⁻¹: correct on 4 inputs

The stored notebooks hold working answers; the prompt above each says "try it yourself first".
"""
from __future__ import annotations

import numpy as np
import torch


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=float)


def _show(args) -> str:
    """A short description of one input, for the message."""
    parts = []
    for a in args:
        if isinstance(a, (torch.Tensor, np.ndarray)) and _as_array(a).size > 4:
            parts.append(f"{type(a).__name__} of shape {tuple(a.shape)}")
        else:
            parts.append(np.array2string(_as_array(a), precision=4) if not callable(a) else "a function")
    return "(" + ", ".join(parts) + ")"


def compare(got, want, atol: float = 1e-6, rtol: float = 1e-5) -> str:
    """"" when got matches want, else a short phrase saying how it differs."""
    got_a, want_a = _as_array(got), _as_array(want)
    if got_a.shape != want_a.shape:
        return f"shape {got_a.shape} where {want_a.shape} was expected"
    if np.isnan(got_a).any() and not np.isnan(want_a).any():
        return "contains NaN"
    if np.allclose(got_a, want_a, atol=atol, rtol=rtol, equal_nan=True):
        return ""
    if np.allclose(got_a, -want_a, atol=atol, rtol=rtol) and np.abs(want_a).max() > atol:
        return "has the wrong sign"
    i = np.unravel_index(np.argmax(np.abs(got_a - want_a)), got_a.shape) if got_a.ndim else ()
    where = f" at index {tuple(int(k) for k in i)}" if got_a.ndim else ""
    return f"gives {got_a[i]:.6g}{where} where {want_a[i]:.6g} was expected"


def check(student, reference, inputs, name: str, hint: str = "", atol: float = 1e-6,
          rtol: float = 1e-5, verbose: bool = True) -> bool:
    """Compare `student(*args)` with `reference(*args)` for each tuple `args` in `inputs`.

    Prints one line (✓ or ✗ with what differs and the hint) and returns True when all match.
    """
    message, ok = f"✓ {name}: correct on {len(inputs)} inputs", True
    for args in inputs:
        try:
            got = student(*args)
        except Exception as error:          # the student's code: report it, never crash the notebook
            message, ok = f"✗ {name}: raised {type(error).__name__}: {error} on input {_show(args)}", False
            break
        problem = compare(got, reference(*args), atol, rtol)
        if problem:
            message, ok = f"✗ {name}: on input {_show(args)} it {problem}", False
            break
    if not ok and hint:
        message += f". Hint: {hint}"
    if verbose:
        print(message)
    return ok


# ----------------------------------------------------------------------------- 01 and 02: 1D

def check_exponential_icdf(student) -> bool:
    """01: `student(u, rate)` should be F^-1 of Exp(rate), i.e. x with u = 1 - exp(-rate x)."""
    from .toy import Exponential1D
    inputs = [(np.array([0.1, 0.5, 0.9]), 1.0), (np.array([0.01, 0.25, 0.75, 0.99]), 2.5),
              (np.array(0.5), 0.5), (np.linspace(0.001, 0.999, 7), 4.0)]
    return check(student, lambda u, rate: Exponential1D(rate).icdf(u), inputs,
                 "exponential F⁻¹", hint="solve u = 1 − exp(−rate·x) for x; np.log1p(−u) is "
                 "log(1 − u), accurate for small u")


def check_bisection(student) -> bool:
    """01: `student(cdf, u, lo, hi)` should return the x in [lo, hi] with cdf(x) = u (to 1e-6),
    for an increasing cdf with cdf(lo) < u < cdf(hi): F^-1 where no closed form exists."""
    from scipy import optimize

    from .toy import Exponential1D, Gaussian1D, GaussianMixture1D
    mixture = GaussianMixture1D()
    inputs = [(mixture.cdf, 0.3, -10.0, 10.0), (mixture.cdf, 0.5, -10.0, 10.0),
              (mixture.cdf, 0.97, -10.0, 10.0), (Gaussian1D(1.0, 2.0).cdf, 0.1, -20.0, 20.0),
              (Exponential1D(2.0).cdf, 0.8, 0.0, 10.0)]

    def want(cdf, u, lo, hi):             # scipy's root finder: an independent second answer
        return optimize.brentq(lambda x: cdf(x) - u, lo, hi, xtol=1e-12)
    return check(student, want, inputs, "F⁻¹ by bisection", atol=1e-6, rtol=0,
                 hint="keep lo < x < hi with cdf(lo) < u <= cdf(hi); at each step test the "
                 "midpoint m: if cdf(m) < u then lo = m, else hi = m; stop when hi − lo < 1e-9")


def check_value_function(student) -> bool:
    """02: `student(d_real, d_fake)`, given D's probabilities on m real and m generated samples,
    should return V(D, G) = mean log D(x) + mean log(1 - D(G(z))) (Eq. 1 on a minibatch), e.g.
    as minus the two binary cross-entropies BCE(D(x), 1) + BCE(D(G(z)), 0)."""
    from .losses import discriminator_loss

    def reference(d_real, d_fake):        # gankit's D loss is -V, computed from the logits
        return -discriminator_loss("minimax", torch.logit(d_real), torch.logit(d_fake))
    g = torch.Generator().manual_seed(0)
    inputs = [(torch.tensor([0.9, 0.8]), torch.tensor([0.1, 0.3])),
              (torch.tensor([0.5]), torch.tensor([0.5])),
              (torch.rand(64, generator=g).double() * 0.98 + 0.01,
               torch.rand(64, generator=g).double() * 0.98 + 0.01)]
    return check(student, reference, inputs, "V(D, G)", atol=1e-5,
                 hint="V = mean log D(x) + mean log(1 − D(G(z))); it is −log 4 ≈ −1.386 when "
                 "every D output is ½. F.binary_cross_entropy(d, target) is −mean log of the "
                 "probability given to the target")


def check_optimal_discriminator(student) -> bool:
    """02: `student(p_data, p_g)`, two density arrays on a grid, should return
    D*(x) = p_data / (p_data + p_g) (Prop. 1), and 1/2 where both densities are 0."""
    from .metrics import optimal_discriminator
    x = np.linspace(-4, 4, 9)

    def gauss(mean, std):
        return np.exp(-(x - mean) ** 2 / (2 * std ** 2)) / (std * np.sqrt(2 * np.pi))
    inputs = [(gauss(0, 1), gauss(1, 1)), (gauss(0, 1), gauss(0, 1)),
              (np.array([0.2, 0.0, 0.3]), np.array([0.0, 0.4, 0.1])),
              (np.array([0.0, 0.5]), np.array([0.0, 0.5]))]
    return check(student, optimal_discriminator, inputs, "D*", hint="D* = p_data / (p_data + p_g); "
                 "where both are 0 no sample ever lands, 0/0 is undefined, and the convention is "
                 "½ (np.where)")


# ------------------------------------------------------------------------------ 06: WGAN
def _critic_scores(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(16, generator=g) + 1.0, torch.randn(16, generator=g) - 1.0


def check_critic_loss(critic_loss) -> bool:
    """06: critic_loss(f_real, f_fake) -> the loss the critic descends (WGAN, Algorithm 1)."""
    from .losses import discriminator_loss
    inputs = [(torch.tensor([2.0, 1.0, 0.5]), torch.tensor([-1.0, 0.0, 0.5])),
              _critic_scores(0), (torch.tensor([0.3]), torch.tensor([0.3]))]
    return check(critic_loss, lambda f_real, f_fake: discriminator_loss("wasserstein", f_real, f_fake),
                 inputs, "critic loss",
                 hint="the critic descends mean f(G(z)) − mean f(x): raw scores, no log, no sigmoid")


def _toy_critic(seed: int, data_shape=(2,)):
    """A small MLP critic whose weights and biases reach well beyond ±0.5."""
    from .models import MLPDiscriminator
    D = MLPDiscriminator(data_shape=data_shape, hidden=(8, 8), dropout=0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in D.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return D


def check_weight_clipping(clip_weights) -> bool:
    """06: clip_weights(D, c) clamps every parameter of D to [-c, c] in place (WGAN, Alg. 1 line 7)."""
    from .losses import clip_weights as reference

    def clipped(fn, c):
        D = _toy_critic(seed=6)
        fn(D, c)
        return torch.cat([p.detach().flatten() for p in D.parameters()])   # all weights and biases

    inputs = [(0.01,), (0.5,), (2.0,)]
    return check(lambda c: clipped(clip_weights, c), lambda c: clipped(reference, c), inputs,
                 "weight clipping", hint="clamp every parameter (weights and biases) to [-c, c] in "
                 "place, e.g. p.clamp_(-c, c) for p in D.parameters() under torch.no_grad()")


def _penalty_inputs():
    g = torch.Generator().manual_seed(7)
    points = (_toy_critic(1), torch.randn(32, 2, generator=g), torch.randn(32, 2, generator=g), 0)
    images = (_toy_critic(2, (1, 4, 4)), torch.randn(16, 1, 4, 4, generator=g),
              torch.randn(16, 1, 4, 4, generator=g), 1)
    return [points, images]


def check_gradient_penalty(gradient_penalty) -> bool:
    """06: gradient_penalty(D, x_real, x_fake, eps) -> E[(||grad D(x̂)||₂ − 1)²] (WGAN-GP, Eq. 3),
    with x̂ = eps·x_real + (1 − eps)·x_fake; eps has shape (N, 1, ...), one number per sample.
    Checked against `gankit.losses.gradient_penalty` with the same eps, in value and in its
    gradient with respect to D's weights (which the critic's optimiser needs)."""
    from .losses import gradient_penalty as reference

    def eps_for(x, seed):                 # drawn exactly as gankit draws it
        return torch.rand(len(x), *[1] * (x.dim() - 1), generator=torch.Generator().manual_seed(seed))

    def student(D, x_real, x_fake, seed):
        return gradient_penalty(D, x_real, x_fake, eps_for(x_real, seed))

    def want(D, x_real, x_fake, seed):
        return reference(D, x_real, x_fake, generator=torch.Generator().manual_seed(seed))

    def weight_grad(fn):
        def run(D, x_real, x_fake, seed):
            penalty = fn(D, x_real, x_fake, seed)
            if not (isinstance(penalty, torch.Tensor) and penalty.requires_grad):
                return torch.tensor([float("nan")])
            return torch.autograd.grad(penalty, D.net[0].weight)[0]
        return run

    name = "gradient penalty"
    hint = ("x̂ = eps·x_real + (1 − eps)·x_fake with requires_grad; torch.autograd.grad(D(x̂).sum(), "
            "x̂, create_graph=True); the norm over all of a sample's values (flatten(1)); mean of "
            "(norm − 1)²")
    inputs = _penalty_inputs()
    if not check(student, want, inputs, name, verbose=False):
        return check(student, want, inputs, name, hint)          # prints what differs
    if not check(weight_grad(student), weight_grad(want), inputs, name, verbose=False, atol=1e-5):
        print(f"✗ {name}: the value is right, but the critic's optimiser cannot descend it: its "
              f"gradient with respect to D's weights is missing or wrong. Hint: pass "
              f"create_graph=True to torch.autograd.grad")
        return False
    print(f"✓ {name}: correct on {len(inputs)} inputs (value and gradient with respect to D's weights)")
    return True


# ------------------------------------------------------------------------------ 04: DCGAN faces
def check_conv_transpose_size(student) -> bool:
    """04: `student(size, kernel, stride, padding)` -> the side of nn.ConvTranspose2d's output."""
    from .dcgan import conv_transpose_output_size
    inputs = [(1, 4, 1, 0), (4, 4, 2, 1), (16, 4, 2, 1), (2, 2, 1, 0), (5, 3, 2, 1), (7, 5, 3, 2)]
    return check(student, conv_transpose_output_size, inputs, "transposed-convolution output size",
                 hint="the kernel stamps start `stride` apart, so the full output spans "
                      "(size − 1)·stride + kernel; then subtract 2·padding (one per side)")


def _init_statistics(init) -> np.ndarray:
    """Apply `init` to a DCGAN pair whose weights were first scrambled; return 8 statistics:
    (mean, std) of conv weights, of batch-norm scales and of batch-norm shifts, per network."""
    from torch import nn

    from .models import DCGANDiscriminator, DCGANGenerator
    torch.manual_seed(0)
    models = (DCGANGenerator(latent_dim=64, image_size=32, ngf=64),
              DCGANDiscriminator(image_size=32, ndf=64))
    stats = []
    for model in models:
        with torch.no_grad():
            for p in model.parameters():            # far from DCGAN's values: a no-op init fails
                p.uniform_(0.5, 1.5)
        model.apply(init)
        convs = torch.cat([m.weight.flatten() for m in model.modules()
                           if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        scale = torch.cat([m.weight for m in bns])
        shift = torch.cat([m.bias for m in bns])
        stats += [convs.mean(), convs.std(), scale.mean(), scale.std()]
        stats += [shift.abs().max()] if model is models[0] else []
    return np.array([float(s.detach()) for s in stats])


def check_dcgan_init(student) -> bool:
    """04: `student(module)`, applied with model.apply, should give DCGAN's initialisation:
    conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), batch-norm shifts 0."""
    from .models import dcgan_init
    names = ("G conv mean", "G conv std", "G batch norm scale mean", "G batch norm scale std",
             "G batch norm shift", "D conv mean", "D conv std", "D batch norm scale mean",
             "D batch norm scale std")
    try:
        got = _init_statistics(student)
    except Exception as error:
        print(f"✗ DCGAN init: raised {type(error).__name__}: {error}")
        return False
    want = _init_statistics(dcgan_init)
    for name, g, w in zip(names, got, want):
        if abs(g - w) > 0.004:                     # sampling noise of these statistics is < 0.001
            print(f"✗ DCGAN init: {name} is {g:.4f} where about {w:.4f} was expected. Hint: "
                  f"conv weights N(0, 0.02); batch norm: weight N(1, 0.02), bias 0 (use "
                  f"isinstance on nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)")
            return False
    print(f"✓ DCGAN init: conv weights, batch-norm scales and shifts of G and D look right")
    return True


def check_figure7(student) -> bool:
    """04: `student(z, a, b, c)` -> mean(z[a]) − mean(z[b]) + mean(z[c]), shape (d,)
    (DCGAN, Fig. 7: average three exemplars per concept, then combine)."""
    g = torch.Generator().manual_seed(4)
    z = torch.randn(12, 5, generator=g)
    inputs = [(z, [0, 1, 2], [3, 4, 5], [6, 7, 8]), (z, [9, 2, 4], [1, 11, 0], [5, 3, 10]),
              (z, [0], [1], [2]), (torch.randn(36, 100, generator=g), [3, 8, 20], [1, 2, 30], [4, 5, 6])]

    def want(z, a, b, c):
        return z[a].mean(0) - z[b].mean(0) + z[c].mean(0)
    return check(student, want, inputs, "Figure-7 arithmetic", atol=1e-5,
                 hint="average each concept's rows first (z[a].mean(0), shape (d,)), then "
                      "combine the three means: A − B + C")


# ------------------------------------------------------------------------ 05: conditional GAN
def check_label_maps(student) -> bool:
    """05: label_maps(y, num_classes, height, width) -> (N, num_classes, H, W): map y[i] of image i
    is all ones, every other map all zeros (the one-hot code of y spread over the image, which a
    convolutional D reads beside the pixels: the seed chapter's conditional DCGAN)."""
    from .models import label_maps

    def reference(y, num_classes, height, width):
        return label_maps(torch.zeros(len(y), 0, height, width), y, num_classes)

    inputs = [(torch.tensor([0, 3, 9]), 10, 4, 4), (torch.tensor([2]), 3, 2, 5),
              (torch.tensor([1, 1, 0, 4]), 5, 28, 28)]
    return check(student, reference, inputs, "label maps",
                 hint="F.one_hot(y, num_classes) gives (N, num_classes); make it float, add two "
                 "axes [:, :, None, None] and .expand(-1, -1, height, width)")


def check_projection_score(student) -> bool:
    """05: projection_score(phi, w, b, embed, y) -> D(x, y) = φ(x)·w + b + embed[y]·φ(x), one score
    per sample (Miyato & Koyama 2018), given the features phi (N, K), w (K,), b (a number) and the
    class embeddings embed (num_classes, K)."""
    def reference(phi, w, b, embed, y):
        return phi @ w + b + (embed[y] * phi).sum(1)

    g = torch.Generator().manual_seed(5)
    inputs = [(torch.randn(4, 3, generator=g), torch.randn(3, generator=g), 0.5,
               torch.randn(10, 3, generator=g), torch.tensor([0, 9, 9, 2])),
              (torch.randn(2, 6, generator=g), torch.randn(6, generator=g), -1.0,
               torch.randn(3, 6, generator=g), torch.tensor([2, 1]))]
    return check(student, reference, inputs, "projection score",
                 hint="embed[y] picks each sample's class vector, (N, K); multiply it by phi and "
                 "sum over K, then add the unconditional score phi @ w + b")


# ------------------------------------------------------------------------------ 03: MNIST MLP GAN
def check_slerp(student) -> bool:
    """03: `student(z0, z1, t)` -> the spherical interpolation of two vectors (d,) at a number t:
    sin((1 − t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1, Ω the angle between z0 and z1."""
    from .latent import slerp
    g = torch.Generator().manual_seed(3)
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    inputs = [(e1, e2, 0.5), (e1, e2, 0.25), (torch.randn(100, generator=g), torch.randn(100, generator=g), 0.3),
              (torch.tensor([3.0, 0.0, 0.0]), torch.tensor([1.0, 1.0, 0.0]), 0.8),
              (torch.randn(100, generator=g), torch.randn(100, generator=g), 1.0)]
    return check(student, slerp, inputs, "slerp", atol=1e-5,
                 hint="Ω = arccos(z0·z1 / (|z0| |z1|)) (clamp the cosine to [−1, 1]); the weights "
                      "multiply z0 and z1 themselves, not their unit vectors")


def check_generator_loss(student) -> bool:
    """03: `student(logits)` -> the non-saturating G loss −mean log D(G(z)) from D's raw scores
    (logits) on G's samples, D = sigmoid(logit); it must stay finite for very negative logits."""
    from .losses import generator_loss
    inputs = [(torch.tensor([0.0, 0.0]),), (torch.tensor([2.0, -1.0, 0.5]),),
              (torch.linspace(-5, 5, 11),), (torch.tensor([-30.0, -120.0, 3.0]),)]
    return check(student, lambda f: generator_loss("non-saturating", f), inputs,
                 "non-saturating G loss", atol=1e-4,
                 hint="−log sigmoid(f) = softplus(−f): F.softplus(-f).mean() (or BCE with logits "
                      "against ones) stays finite where log(sigmoid(f)) underflows to log 0")
