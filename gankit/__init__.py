"""gankit: the machinery behind a six-notebook course on Generative Adversarial Networks.

Three tiers (see tests/test_layout.py, which keeps them so):

gankit/ - the core, shared by every notebook and tested against the papers:
    device       CUDA/MPS/CPU choice, seeding, mixed precision
    validate     one-line errors naming the parameter, the value and what is allowed
    config       typed run configurations and the ci / cpu / gpu profiles
    data, faces  MNIST and faces preloaded as tensors, batching by index, data sources
    toy          exact 1D/2D targets with pdf, cdf and inverse cdf
    models       MLP and DCGAN generators and discriminators (conditional too)
    losses       minimax, non-saturating, Wasserstein (clipping, gradient penalty), hinge
    train        the one training loop (Algorithm 1), checkpoints, Ctrl-C and NaN handling
    callbacks    what changes training as it runs: an average of G, a decay of G's learning rate
    history      what the loop records for plots
    metrics      D*, V(D, G), C(G), JSD, W1, ring coverage, Fréchet distance, nearest neighbours
    classifier   an independent digit classifier: class coverage, accuracy, Fréchet features
    latent       lerp, slerp, concept means, attribute directions
    plots        image grids, curves, progress animations
    widgets      the Panel every widget is built on; latent interpolation and arithmetic widgets
    io           save/load generators and checkpoints, metrics.json, artifacts folders
    distributed  torchrun + DistributedDataParallel: process group, per-rank seeds, stopping together
    exercises    check / compare: a student's function against a reference, in one line
gankit/lessons/ - one module per notebook (inverse_cdf, gan_1d, mnist_mlp_gan, dcgan_faces,
    conditional_gan, wgan): its recipe, figures, widgets and exercise checkers
gankit/cli/ - `python -m gankit run` (notebooks under papermill) and `python -m gankit train`
"""
from .callbacks import GeneratorEMA, GeneratorLRDecay, final_generator
from .config import (ConditionalMnistConfig, FacesConfig, Gan1DConfig, InverseCDFConfig,
                     MnistConfig, RunConfig, WGANConfig, resolve_profile)
from .device import get_device, seed_everything
from .history import History
from .io import (artifacts_path, load_checkpoint, load_generator, save_checkpoint,
                 save_generator, write_metrics)
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                     count_parameters, sample_latent)
from .train import GANTrainer

__version__ = "0.1.0"
