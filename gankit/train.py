"""The one training loop every notebook uses: Algorithm 1 of Goodfellow et al. 2014.

`GANTrainer.train_step` is the algorithm box: k (= n_critic) steps on D, each on a fresh minibatch
of real data and of noise, then one step on G. The same step covers the minimax and
non-saturating losses (Goodfellow et al. 2014), WGAN with weight clipping (Arjovsky et al. 2017,
Algorithm 1: RMSprop, n_critic = 5) and WGAN-GP (Gulrajani et al. 2017, Algorithm 1: Adam,
lambda = 10). Everything else here is bookkeeping: budgets, the history, checkpoints, Ctrl-C.

The loop knows nothing of plots or widgets: a notebook passes callbacks, called as
`callback(trainer)` after every logged step, and reads `trainer.history`.

Under torchrun the same loop runs in every process (gankit/distributed.py): G and D are wrapped
in DistributedDataParallel, each rank trains on its share of every batch of the epoch, and the
ranks agree on every decision to stop. `trainer.G` and `trainer.D` stay the plain models.
"""
from __future__ import annotations

import math
import time
import warnings

import torch
from tqdm.auto import tqdm

from . import distributed
from .device import amp_dtype, autocast
from .history import History
from .losses import check_loss, clip_weights, discriminator_loss, generator_loss, gradient_penalty
from .models import sample_latent
from .validate import check_number, check_count


class NonFiniteLoss(RuntimeError):
    """Raised inside the loop when a loss is NaN or infinite; `fit` turns it into a clean stop."""


def _default_optimizer(loss: str) -> str:
    # WGAN's paper found momentum-based optimisers unstable with weight clipping (Sec. 3).
    return "rmsprop" if loss == "wasserstein" else "adam"


class GANTrainer:
    """Trains a generator G against a discriminator (or critic) D.

    Args:
        loss: "minimax", "non-saturating", "wasserstein" (weight clipping), "wasserstein-gp", "hinge".
        lr, lr_D: learning rates of G and of D (lr_D defaults to lr).
        betas: Adam's (beta1, beta2); DCGAN uses (0.5, 0.999), WGAN-GP (0.0, 0.9).
        optimizer: "adam" or "rmsprop"; default RMSprop for weight clipping, else Adam.
        n_critic: D steps per G step (Algorithm 1's k).
        clip_value, lambda_gp: WGAN's clip c and WGAN-GP's penalty weight lambda.
        seed: fixes z, the data order and the fixed z of the snapshots.
        amp: mixed precision on CUDA (ignored elsewhere).
        log_every: G steps between history records (each record is one GPU sync).
        snapshot_every: G steps between samples of the fixed z (None: only first and last).
        n_fixed: how many fixed z the snapshots use.
        augment: None, or a function applied to every image batch D sees, real and fake, in D's
            and in G's update (DiffAugment, Zhao et al. 2020: `gankit.augment.DiffAugment`).

    Under torchrun (or any initialised process group) each rank's z and dropout are seeded with
    `distributed.rank_seed(seed, rank)`, `batch_size` is per process (an optimiser step sees
    world size x batch_size images), callbacks run on every rank, the history holds this rank's
    own losses, and checkpoints are saved and loaded by every rank (rank 0 writes the file).
    """

    def __init__(self, G, D, *, loss="non-saturating", lr=2e-4, lr_D=None, betas=(0.5, 0.999),
                 optimizer=None, n_critic=1, clip_value=0.01, lambda_gp=10.0, seed=0, device=None,
                 amp=True, log_every=50, snapshot_every=None, n_fixed=64, progress=True,
                 callbacks=(), augment=None):
        check_loss(loss)
        for name, value in dict(lr=lr, lr_D=lr if lr_D is None else lr_D,
                                clip_value=clip_value).items():
            check_number(name, value)
        check_number("lambda_gp", lambda_gp, allow_zero=True)
        for name, value in dict(n_critic=n_critic, log_every=log_every, n_fixed=n_fixed).items():
            check_count(name, value)
        if snapshot_every is not None:
            check_count("snapshot_every", snapshot_every)
        distributed.init_from_env(device)                   # torchrun: join the process group
        self.rank, self.world = distributed.rank_and_world()
        self.device = distributed.training_device(device)
        self.G, self.D = G.to(self.device), D.to(self.device)
        # The modules the step calls: G and D themselves, or their DDP wrappers under torchrun.
        self.G_step, self.D_step = self.G, self.D
        if self.world > 1:
            self.G_step = distributed.wrap(self.G, self.device)
            self.D_step = distributed.wrap(self.D, self.device)
            torch.manual_seed(distributed.rank_seed(seed, self.rank))   # dropout masks differ per rank
        self.loss, self.n_critic = loss, n_critic
        self.clip_value, self.lambda_gp = clip_value, lambda_gp
        self.seed, self.log_every, self.snapshot_every = seed, log_every, snapshot_every
        self.progress, self.callbacks = progress, list(callbacks)
        if augment is not None and not callable(augment):
            raise ValueError(f"augment={augment!r} is not callable: pass None or a function of "
                             "an image batch, e.g. gankit.augment.DiffAugment()")
        self.augment = augment or (lambda x: x)            # T in D(T(x)); identity by default
        self.amp = amp and amp_dtype(self.device) is not None
        self.opt_G, self.opt_D = self._optimizers(optimizer or _default_optimizer(loss),
                                                  lr, lr_D or lr, betas)
        # float16 needs loss scaling; bfloat16 and float32 do not (the scaler is then a no-op).
        use_scaler = self.amp and amp_dtype(self.device) == torch.float16
        self.scaler_G = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.scaler_D = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.rng = torch.Generator(self.device).manual_seed(                # z and the penalty's eps
            distributed.rank_seed(seed, self.rank))
        fixed = torch.Generator(self.device).manual_seed(seed + 10_007)
        self.fixed_z = sample_latent(G, n_fixed, self.device, fixed)
        num_classes = getattr(G, "num_classes", 0)
        self.fixed_y = (torch.arange(n_fixed, device=self.device) % num_classes
                        if num_classes else None)
        self.history = History(loss)
        self.step = self.epoch = self.batch_in_epoch = 0
        self.seconds = 0.0
        self._batch_iter = None
        self._stop_requests = None                          # distributed.StopRequests during fit

    def _optimizers(self, name, lr_G, lr_D, betas):
        if name == "adam":
            return (torch.optim.Adam(self.G.parameters(), lr=lr_G, betas=betas),
                    torch.optim.Adam(self.D.parameters(), lr=lr_D, betas=betas))
        if name == "rmsprop":
            return (torch.optim.RMSprop(self.G.parameters(), lr=lr_G),
                    torch.optim.RMSprop(self.D.parameters(), lr=lr_D))
        raise ValueError(f"optimizer={name!r} is not one of 'adam', 'rmsprop'")

    # ------------------------------------------------------------------------- Algorithm 1
    def train_step(self, next_batch):
        """One iteration of Algorithm 1: n_critic updates of D, then one update of G."""
        G, D = self.G_step, self.D_step    # DDP wrappers under torchrun; self.G / self.D where
                                           # no gradient is averaged (G's fakes for D, D for G)
        for _ in range(self.n_critic):
            x_real, y = next_batch()                       # m examples from p_data
            z = self.sample_z(len(x_real))                 # m noise samples from p_z
            # (1) Update D: ascend log D(x) + log(1 - D(G(z)))   [critic: f(x) - f(G(z)) - λ·GP]
            with autocast(self.device, self.amp):
                x_fake = self.G(z, y).detach()             # detach: D's loss must not reach G
                f_real, f_fake = D(self.augment(x_real), y), D(self.augment(x_fake), y)
                d_loss = discriminator_loss(self.loss, f_real, f_fake)
            gp = None
            if self.loss == "wasserstein-gp":              # float32: second derivatives under AMP
                gp = gradient_penalty(D, x_real.float(), x_fake.float(), y, self.rng)
                d_loss = d_loss + self.lambda_gp * gp
            self._descend(self.opt_D, self.scaler_D, d_loss, "D")
            if self.loss == "wasserstein":
                clip_weights(D, self.clip_value)           # keep f K-Lipschitz (WGAN, line 7)
        # (2) Update G: descend log(1 - D(G(z)))   [non-saturating: ascend log D(G(z))]
        z = self.sample_z(len(x_real))
        D_plain = self.D                                   # not D's DDP wrapper: D is not updated
        D_plain.requires_grad_(False)                      # saves D's weight gradients; G needs only ∂/∂x
        with autocast(self.device, self.amp):
            f_gen = D_plain(self.augment(G(z, y)), y)      # recompute: D has just changed
            g_loss = generator_loss(self.loss, f_gen)
        D_plain.requires_grad_(True)
        self._descend(self.opt_G, self.scaler_G, g_loss, "G")
        return dict(d_loss=d_loss, g_loss=g_loss, f_real=f_real, f_fake=f_fake, gp=gp)

    def sample_z(self, n: int) -> torch.Tensor:
        """n draws from p_z, from this trainer's (this rank's) random stream."""
        return sample_latent(self.G, n, self.device, self.rng)

    def _descend(self, opt, scaler, loss, who):
        # Checked before backward, so a NaN never reaches the weights. On CUDA this is a sync,
        # but the GradScaler (float16) already syncs once a step; on the CPU it costs nothing.
        if self.world > 1:
            self._check_finite_on_every_rank(loss, who)
        elif not torch.isfinite(loss):
            raise NonFiniteLoss(f"{who}'s loss became {loss.item()} at step {self.step + 1}")
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def _check_finite_on_every_rank(self, loss, who):
        """All ranks raise NonFiniteLoss together: a rank that stopped alone would leave the others
        waiting forever in the gradient all-reduce of the backward pass that follows."""
        bad = distributed.first_rank(~torch.isfinite(loss.detach()))
        if bad is not None:
            value = loss.item() if bad == self.rank else "non-finite"
            raise NonFiniteLoss(f"{who}'s loss became {value} at step {self.step + 1} "
                                f"on rank {bad} of {self.world}")

    # ------------------------------------------------------------------------------- budget
    def fit(self, data, *, batch_size, epochs=None, steps=None, max_seconds=None) -> History:
        """Train until `epochs` (total passes over the data by D) or `steps` (total G steps)
        are reached, or `max_seconds` of this call have passed, whichever comes first.

        Budgets are totals, so a trainer restored from a checkpoint finishes the planned run.
        Ctrl-C, or a NaN/inf loss, stops cleanly: models and history so far are kept.
        """
        check_count("batch_size", batch_size)
        for name, value in dict(epochs=epochs, steps=steps).items():
            if value is not None:
                check_count(name, value)
        if max_seconds is not None:
            check_number("max_seconds", max_seconds)
        if epochs is None and steps is None and max_seconds is None:
            raise ValueError("fit needs a budget: pass epochs=, steps= or max_seconds=")
        rank, world = self.rank, self.world
        per_epoch = data.batches_per_epoch(batch_size, world)
        if per_epoch == 0:
            raise ValueError(f"batch_size={batch_size} is larger than the {len(data) // world} "
                             f"items per process: use batch_size <= {len(data) // world}")
        total = _total_steps(epochs, steps, per_epoch, self.n_critic)
        next_batch = self._batch_source(data, batch_size, per_epoch, rank, world)
        self.history.stop_reason = ""
        if not self.history.snapshots:
            self.snapshot()
        bar = tqdm(total=total, initial=min(self.step, total or self.step), desc="training G and D",
                   disable=not self.progress or rank != 0, dynamic_ncols=True)
        start = time.perf_counter()
        try:
            with distributed.StopRequests(enabled=self.world > 1) as self._stop_requests:
                while not self._done(epochs, steps, max_seconds, start):
                    self._record(self.train_step(next_batch), start)
                    bar.update(1)
        except KeyboardInterrupt:
            self._stop(f"interrupted at step {self.step}: models and history so far are kept")
        except NonFiniteLoss as err:
            self._stop(f"stopped: {err}. The models keep their last finite weights; "
                       "try a smaller lr or another loss")
        finally:
            bar.close()
            self.seconds += time.perf_counter() - start
        if self.world > 1:                                 # the same G (and D) on every rank
            distributed.broadcast_buffers(self.G, self.D)
        if self.history.pending():                          # the last, partial log interval
            self.history.flush(self.step, self.epoch, self.seconds, self.G, self.D)
        if self.history.snapshots[-1][0] != self.step:
            self.snapshot()
        return self.history

    def _done(self, epochs, steps, max_seconds, start) -> bool:
        done = ((steps is not None and self.step >= steps)
                or (epochs is not None and self.epoch >= epochs)
                or (max_seconds is not None and time.perf_counter() - start >= max_seconds))
        if self.world == 1:
            if self._stop_requests.requested:             # SIGTERM: stop after this step
                raise KeyboardInterrupt
            return done
        # Clocks differ between ranks, and Ctrl-C reaches them at different moments: one small
        # all-reduce a step makes every rank stop after the same step.
        done, interrupted = distributed.any_rank([done, self._stop_requests.requested], self.device)
        if interrupted:
            raise KeyboardInterrupt
        return done

    def _batch_source(self, data, batch_size, per_epoch, rank, world):
        """A function returning the next (x, y) batch, tracking (epoch, batch) for exact resumes."""
        data = data.to(self.device) if data.device != self.device else data
        self._batch_iter = None

        def next_batch():
            if self._batch_iter is None:
                self._batch_iter = data.batches(batch_size, self.epoch, self.seed,
                                                self.batch_in_epoch, rank, world)
            x, y = next(self._batch_iter)
            self.batch_in_epoch += 1
            if self.batch_in_epoch == per_epoch:           # the epoch ends with its last batch
                self.epoch, self.batch_in_epoch, self._batch_iter = self.epoch + 1, 0, None
            return x, y
        return next_batch

    def _stop(self, message: str) -> None:
        self.history.stop_reason = message
        if self.rank == 0:                                 # one warning, not one per process
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    # ------------------------------------------------------------------------- diagnostics
    def _record(self, out: dict, start: float) -> None:
        self.step += 1
        self.history.accumulate(out, self.loss)
        if self.step % self.log_every == 0:
            elapsed = self.seconds + time.perf_counter() - start
            self.history.flush(self.step, self.epoch, elapsed, self.G, self.D)
            for callback in self.callbacks:
                callback(self)
        if self.snapshot_every and self.step % self.snapshot_every == 0:
            self.snapshot()

    @torch.no_grad()
    def snapshot(self) -> torch.Tensor:
        """G(fixed z) in eval mode, stored in history.snapshots as (step, samples on the CPU)."""
        G = self.G
        G.eval()
        x = G(self.fixed_z, self.fixed_y).float().cpu()
        G.train()
        self.history.snapshots.append((self.step, x))
        return x

    # -------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue exactly: weights, optimisers, counters, RNG states.

        Under torchrun every rank must call it: it gathers each rank's random streams.
        """
        state = dict(G=self.G.state_dict(), D=self.D.state_dict(),
                     opt_G=self.opt_G.state_dict(), opt_D=self.opt_D.state_dict(),
                     scaler_G=self.scaler_G.state_dict(), scaler_D=self.scaler_D.state_dict(),
                     step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch,
                     seconds=self.seconds, history=self.history.state_dict(),
                     **self._rng_states())
        if self.world > 1:   # the weights are the same on every rank; the random streams are not
            state.update(world_size=self.world,
                         rank_rngs=distributed.gather_objects(self._rng_states()))
        return state

    def _rng_states(self) -> dict:
        states = dict(rng=self.rng.get_state(), torch_rng=torch.get_rng_state())
        if self.device.type == "cuda":
            states["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return states

    def load_state_dict(self, state: dict) -> None:
        saved_world = state.get("world_size", 1)
        if saved_world != self.world:
            # each rank's share of the data and its random streams depend on the number of ranks
            raise ValueError(f"this checkpoint was written by {saved_world} process(es) and cannot "
                             f"resume in {self.world}: resume it with {saved_world} in all "
                             f"(torchrun --nproc_per_node=...), or train afresh")
        for name in ("G", "D", "opt_G", "opt_D", "scaler_G", "scaler_D"):
            getattr(self, name).load_state_dict(state[name])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch, self.seconds = state["batch_in_epoch"], state["seconds"]
        rngs = state["rank_rngs"][self.rank] if self.world > 1 else state
        self.rng.set_state(rngs["rng"])
        torch.set_rng_state(rngs["torch_rng"])             # dropout draws from the global RNG
        if "cuda_rng" in rngs and self.device.type == "cuda":
            torch.cuda.set_rng_state(rngs["cuda_rng"], self.device)
        self.history = History.from_state_dict(state["history"])
        self._batch_iter = None

    def save_checkpoint(self, path) -> None:
        """Save on every rank's call (rank 0 writes); the file exists for all when it returns."""
        from .io import save_checkpoint
        save_checkpoint(self, path)
        distributed.barrier()

    def load_checkpoint(self, path) -> None:
        from .io import load_checkpoint
        load_checkpoint(self, path)


def _total_steps(epochs, steps, per_epoch, n_critic):
    """The G-step count the progress bar aims at (None when only time limits the run)."""
    candidates = [s for s in (steps, epochs and math.ceil(epochs * per_epoch / n_critic)) if s]
    return min(candidates) if candidates else None
