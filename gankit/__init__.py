"""gankit: the machinery behind a six-notebook course on Generative Adversarial Networks.

Modules, each one concern (read them beside the notebooks):
    device   - CUDA/MPS/CPU choice, seeding, mixed precision
    config   - typed run configurations and the ci / cpu / gpu profiles
    data     - data sets preloaded as tensors (MNIST), batching by index, data sources
    faces    - CelebA, LFW, scikit-image's offline faces, any folder of images
    toy      - exact 1D/2D targets with pdf, cdf and inverse cdf
    models   - MLP and DCGAN generators and discriminators (conditional too)
    losses   - minimax, non-saturating, Wasserstein (clipping, gradient penalty), hinge
    train    - the one training loop (Algorithm 1), checkpoints, Ctrl-C and NaN handling
    history  - what the loop records for plots
    metrics  - D*, V(D, G), C(G), JSD, W1, ring coverage, Fréchet distance, nearest neighbours
    classifier - an independent digit classifier: class coverage, accuracy, Fréchet features
    plots    - image grids, curves, progress animations
    io       - save/load generators and checkpoints, metrics.json, artifacts folders
    distributed - torchrun + DistributedDataParallel: process group, per-rank seeds, stopping together
    launch   - `python -m gankit train`: a notebook's training outside Jupyter, under torchrun too
    dcgan    - notebook 04: transposed convolution by hand, build_dcgan, face quality, attributes
    face_widgets - notebook 04: moving faces along a CelebA attribute direction
"""
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
