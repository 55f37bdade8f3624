"""The one training loop every notebook uses: Algorithm 1 of Goodfellow et al. 2014.

`GANTrainer.train_step` is the algorithm box: k (= n_critic) steps on D, each on a fresh minibatch
of real data and of noise, then one step on G. The same step covers the minimax and
non-saturating losses (Goodfellow et al. 2014), WGAN with weight clipping (Arjovsky et al. 2017,
Algorithm 1: RMSprop, n_critic = 5) and WGAN-GP (Gulrajani et al. 2017, Algorithm 1: Adam,
lambda = 10). Everything else here is bookkeeping: budgets, the history, checkpoints, Ctrl-C.

The loop knows nothing of plots or widgets: a notebook passes callbacks, called as
`callback(trainer)` after every logged step (or after every step, for a callback whose
`every_step` is True: an average of G, a schedule), and reads `trainer.history`.

An exception anywhere inside a step (Ctrl-C included) leaves every model, optimiser and counter as
far as the step got: D's weights stay trainable (models.frozen), `step` counts G's completed
updates, and the next `fit` goes on from there.

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
from .losses import clip_weights, gradient_penalty, loss_spec
from .models import frozen, generate, sample_latent
from .validate import check_number, check_count


class NonFiniteLoss(RuntimeError):
    """Raised inside the loop when a loss is NaN or infinite; `fit` turns it into a clean stop.
    `what` ("D's loss became nan") and `when` ("between steps 31 and 40") go to history.diverged."""

    def __init__(self, message: str, what: str = "", when: str = ""):
        super().__init__(message)
        self.what, self.when = what, when


class GANTrainer:
    """Trains a generator G against a discriminator (or critic) D.

    Args:
        loss: "minimax", "non-saturating", "wasserstein" (weight clipping), "wasserstein-gp", "hinge"
            (or a `losses.LossSpec` of one's own).
        lr, lr_D: learning rates of G and of D (lr_D defaults to lr).
        betas: Adam's (beta1, beta2); DCGAN uses (0.5, 0.999), WGAN-GP (0.0, 0.9).
        optimizer: "adam" or "rmsprop"; default RMSprop for weight clipping, else Adam.
        n_critic: D steps per G step (Algorithm 1's k).
        clip_value, lambda_gp: WGAN's clip c and WGAN-GP's penalty weight lambda.
        gradient_penalty: None (gankit's), or a function with the signature of
            `gankit.losses.gradient_penalty` (notebook 06 trains with the student's).
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
                 callbacks=(), augment=None, gradient_penalty=None):
        self.spec = loss_spec(loss)             # what the loss is: losses.LossSpec
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
        if gradient_penalty is not None and not callable(gradient_penalty):
            raise ValueError(f"gradient_penalty={gradient_penalty!r} is not callable: pass None or a "
                             "function like gankit.losses.gradient_penalty")
        self.custom_penalty = gradient_penalty             # None: gankit's (notebook 06 passes one)
        self.amp = amp and amp_dtype(self.device) is not None
        self.opt_G, self.opt_D = self._optimizers(optimizer or self.spec.optimizer,
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
        self._good = None                                   # the state at the last finite check

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
        spec, G, D, T = self.spec, self.G, self.D, self.augment    # T: identity or DiffAugment
        for _ in range(self.n_critic):
            x_real, y = next_batch()                       # m examples from p_data
            z = self.sample_z(len(x_real))                 # m noise samples from p_z
            # (1) Update D: ascend log D(x) + log(1 - D(G(z)))   [critic: f(x) - f(G(z)) - λ·GP]
            with self._precision():
                x_fake = G(z, y).detach()                  # detach: D's loss must not reach G
                f_real, f_fake = self.D_step(T(x_real), y), self.D_step(T(x_fake), y)
                d_loss = spec.d_loss(f_real, f_fake)
            gp = self._penalty(x_real, x_fake, y) if spec.penalty else None
            if gp is not None:                             # WGAN-GP: + λ·E[(‖∇D(x̂)‖ − 1)²]
                d_loss = d_loss + self.lambda_gp * gp
            self._descend(self.opt_D, self.scaler_D, d_loss)
            if spec.clip_weights:
                clip_weights(D, self.clip_value)           # keep f K-Lipschitz (WGAN, line 7)
        # (2) Update G: descend log(1 - D(G(z)))   [non-saturating: ascend log D(G(z))]
        z = self.sample_z(len(x_real))
        with frozen(D), self._precision():                 # D is not updated: G needs only ∂D/∂x
            f_gen = D(T(self.G_step(z, y)), y)             # recompute: D has just changed
            g_loss = spec.g_loss(f_gen)
        self._descend(self.opt_G, self.scaler_G, g_loss)
        return dict(d_loss=d_loss, g_loss=g_loss, f_real=f_real, f_fake=f_fake, gp=gp)

    # The machinery beneath the algorithm box: noise, precision, the penalty, one descent.
    # Under torchrun self.G_step and self.D_step are the DDP wrappers that average the gradients
    # of the model being updated; self.G and self.D are the plain models, used where nothing is
    # averaged (G's fakes for D's update, D inside G's update).
    def sample_z(self, n: int) -> torch.Tensor:
        """n draws from p_z, from this trainer's (this rank's) random stream."""
        return sample_latent(self.G, n, self.device, self.rng)

    def _precision(self):
        return autocast(self.device, self.amp)            # bfloat16/float16 on CUDA, else float32

    def _penalty(self, x_real, x_fake, y):
        # in float32: second derivatives under autocast lose too much precision
        penalty = self.custom_penalty or gradient_penalty
        return penalty(self.D_step, x_real.float(), x_fake.float(), y, self.rng)

    def _descend(self, opt, scaler, loss):
        # No `if not torch.isfinite(loss)` here: on a GPU that waits for the device every update.
        # The history's running sums turn NaN or inf with the loss; _check_finite reads them once
        # per log interval and rolls everything back to the last check.
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def _check_finite(self, copy: bool = True) -> None:
        """Once per log interval (where the history waits for the device anyway): if a loss or a
        weight became NaN or inf since the last check, go back to that check's copy of the models,
        optimisers, counters, random streams and callbacks, and raise NonFiniteLoss; else take a
        new copy. Under torchrun the ranks agree (one all-reduce) and stop after the same step."""
        problem = self._non_finite()                       # (what, when) or None
        if problem is None:
            if copy:                                       # not at the end of fit: the next
                self._good = self._local_state(callbacks=True)   # fit takes its own copy
            return
        self._load_local_state(self._good, self._good)
        self.history.rewind(self.step)
        what, when = problem
        raise NonFiniteLoss(f"{what} {when}. The models are back at step {self.step}, the last "
                            f"check before it", what, when)

    def _non_finite(self) -> tuple | None:
        """(what turned NaN or inf, when) since the last check, naming the rank; else None.
        A NaN or inf loss makes the history's running sum of that loss NaN or inf, and a NaN
        that reached the weights after the last loss shows in the weights: no per-update check,
        one wait for the device. The order within the interval is not known, so all are named."""
        sums = self.history.pending_sums(("d_loss", "g_loss"), self.device)
        bad = ~torch.cat([torch.isfinite(sums), _all_finite(self.D), _all_finite(self.G)])
        mask = (bad * torch.tensor([1, 2, 4, 8], device=self.device)).sum()
        # the rank where it began: a bad loss before bad weights, D's loss before G's (D's update
        # comes first in a step), then the lowest rank
        first = torch.where(bad, torch.arange(4, device=self.device), 4).min()
        key = (first * self.world + self.rank) * 16 + mask
        if self.world > 1:
            key = distributed.min_over_ranks(key)
        key = int(key)
        (first, bad_rank), mask = divmod(key // 16, self.world), key % 16
        if first == 4:
            return None
        kinds = (0, 1) if first < 2 else (2, 3)                 # name the losses if any went bad
        names = [("D's loss", "G's loss", "D's weights", "G's weights")[i] for i in kinds
                 if mask & (1 << i)]
        values = {str(sums[i].item()) for i in kinds if i < 2 and mask & (1 << i)
                  and bad_rank == self.rank}
        since = self._good["step"] + 1
        when = f"at step {since}" if since == self.step else f"between steps {since} and {self.step}"
        where = f" on rank {bad_rank} of {self.world}" if self.world > 1 else ""
        value = values.pop() if len(values) == 1 else "non-finite"
        return f"{' and '.join(names)} became {value}", f"{when}{where}"

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
        self.history.stop_reason, self.history.diverged = "", None
        if not self.history.snapshots:
            self.snapshot()
        self._good = self._local_state(callbacks=True)
        bar = tqdm(total=total, initial=min(self.step, total or self.step), desc="training G and D",
                   disable=not self.progress or rank != 0, dynamic_ncols=True)
        start = time.perf_counter()
        try:
            # Ctrl-C and SIGTERM stop after the current step (a second Ctrl-C at once)
            with distributed.StopRequests(escalate=self.world == 1) as self._stop_requests:
                while not self._done(epochs, steps, max_seconds, start):
                    self._record(self.train_step(next_batch), start)
                    bar.update(1)
        except KeyboardInterrupt:
            self._stop(f"interrupted at step {self.step}: models and history so far are kept")
        except NonFiniteLoss as err:
            self._stop_non_finite(err)
        finally:
            bar.close()
            self.seconds += time.perf_counter() - start
        try:
            self._check_finite(copy=False)                 # the updates since the last check
        except NonFiniteLoss as err:
            self._stop_non_finite(err)
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
            if self._stop_requests.requested:             # Ctrl-C or SIGTERM during the step
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

    def _stop_non_finite(self, err) -> None:
        self.history.diverged = (err.what, err.when)
        self._stop(f"stopped: {err}; try a smaller lr or another loss")

    def _stop(self, message: str) -> None:
        self.history.stop_reason = message
        if self.rank == 0:                                 # one warning, not one per process
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    # ------------------------------------------------------------------------- diagnostics
    def _record(self, out: dict, start: float) -> None:
        self.step += 1
        self.history.accumulate(out)
        for callback in self._callbacks(every_step=True):
            callback(self)
        if self.step % self.log_every == 0:
            self._check_finite()
            elapsed = self.seconds + time.perf_counter() - start
            self.history.flush(self.step, self.epoch, elapsed, self.G, self.D)
            for callback in self._callbacks(every_step=False):
                callback(self)
        if self.snapshot_every and self.step % self.snapshot_every == 0:
            self.snapshot()

    def _callbacks(self, every_step: bool) -> list:
        return [c for c in self.callbacks if getattr(c, "every_step", False) == every_step]

    def snapshot(self) -> torch.Tensor:
        """G(fixed z) in eval mode, stored in history.snapshots as (step, samples on the CPU)."""
        x = generate(self.G, self.fixed_z, self.fixed_y)
        self.history.snapshots.append((self.step, x))
        return x

    # -------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue exactly: weights, optimisers, counters, RNG states.

        Under torchrun every rank must call it: it gathers each rank's random streams.
        """
        state = dict(self._local_state(), seconds=self.seconds,
                     history=self.history.state_dict())
        if self.world > 1:   # the weights are the same on every rank; the random streams are not
            state.update(world_size=self.world,
                         rank_rngs=distributed.gather_objects(self._rng_states()))
        return state

    def _local_state(self, callbacks: bool = False) -> dict:
        """This process's models, optimisers, counters and random streams; with `callbacks`, a
        copy (not references) that adds the state of every callback that has one."""
        state = dict(G=self.G.state_dict(), D=self.D.state_dict(),
                     opt_G=self.opt_G.state_dict(), opt_D=self.opt_D.state_dict(),
                     scaler_G=self.scaler_G.state_dict(), scaler_D=self.scaler_D.state_dict(),
                     step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch,
                     **self._rng_states())
        if not callbacks:
            return state
        state["callbacks"] = [c.state_dict() if hasattr(c, "state_dict") else None
                              for c in self.callbacks]
        return _cloned(state)

    def _load_local_state(self, state: dict, rngs: dict) -> None:
        for name in ("G", "D", "opt_G", "opt_D", "scaler_G", "scaler_D"):
            getattr(self, name).load_state_dict(state[name])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        self.rng.set_state(rngs["rng"])
        torch.set_rng_state(rngs["torch_rng"])             # dropout draws from the global RNG
        if "cuda_rng" in rngs and self.device.type == "cuda":
            torch.cuda.set_rng_state(rngs["cuda_rng"], self.device)
        for callback, saved in zip(self.callbacks, state.get("callbacks", ())):
            if saved is not None:
                callback.load_state_dict(saved)
        self._batch_iter = None

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
        self._load_local_state(state, state["rank_rngs"][self.rank] if self.world > 1 else state)
        self.seconds = state["seconds"]
        self.history = History.from_state_dict(state["history"])

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


def _cloned(state):
    """Nested dicts and lists with every tensor cloned: copy.deepcopy, at a third of its cost."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {key: _cloned(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cloned(value) for value in state)
    return state


def _all_finite(model) -> torch.Tensor:
    return torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all().reshape(1)
