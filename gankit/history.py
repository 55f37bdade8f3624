"""What a training run leaves behind for plots: averaged losses, D outputs, gradient norms, samples.

Values are summed as tensors every step and turned into Python numbers once per `log_every`
steps, because `.item()` waits for the GPU (GUIDE: diagnostics cost little).
"""
from __future__ import annotations

import math

import torch

from .losses import loss_spec

LOG_KEYS = ("step", "epoch", "seconds", "d_loss", "g_loss", "d_real", "d_fake", "f_real",
            "f_fake", "grad_norm_D", "grad_norm_G", "wasserstein", "gp")


def grad_norm(model: torch.nn.Module) -> float:
    """||∇θ||_2 over all parameters that hold a gradient (0.0 when none does)."""
    norms = [p.grad.detach().float().norm() for p in model.parameters() if p.grad is not None]
    return torch.stack(norms).norm().item() if norms else 0.0


class History:
    """`log` (dict of equal-length lists, one entry per logged step), `snapshots`
    [(step, G(fixed z))], `loss_name`, `stop_reason` ("" when the budget ran out), and `diverged`:
    None, or (what, when) when a NaN/inf stopped the run, e.g. ("D's loss became nan", "at step 7")."""

    def __init__(self, loss_name: str):
        self.spec = loss_spec(loss_name)            # a name, or a LossSpec of one's own
        self.loss_name = self.spec.name
        self.log = {key: [] for key in LOG_KEYS}
        self.snapshots = []
        self.stop_reason = ""
        self.diverged = None
        self._sums, self._count = {}, 0

    def __len__(self) -> int:
        return len(self.log["step"])

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.log.items() if v and not math.isnan(v[-1])}
        return f"History(loss={self.loss_name!r}, records={len(self)}, last={last})"

    def last(self, key: str) -> float:
        return self.log[key][-1] if self.log[key] else math.nan

    def pending(self) -> bool:
        """True when steps were accumulated since the last record."""
        return self._count > 0

    def accumulate(self, out: dict) -> None:
        """Add one step's outputs of `GANTrainer.train_step` to the running sums: the losses and
        what the loss's D-output panel shows (`LossSpec.logs`)."""
        f_real, f_fake = out["f_real"].detach().float(), out["f_fake"].detach().float()
        values = dict(d_loss=out["d_loss"].detach(), g_loss=out["g_loss"].detach())
        shown = dict(d_real=lambda: torch.sigmoid(f_real).mean(),      # D(x) = sigmoid(f)
                     d_fake=lambda: torch.sigmoid(f_fake).mean(),
                     f_real=f_real.mean, f_fake=f_fake.mean,           # raw scores (hinge)
                     wasserstein=lambda: f_real.mean() - f_fake.mean())  # the critic's W1 estimate
        values.update((key, shown[key]()) for key in self.spec.logs)
        if out.get("gp") is not None:
            values["gp"] = out["gp"].detach()
        for key, value in values.items():
            self._sums[key] = self._sums.get(key, 0.0) + value.float()
        self._count += 1

    def flush(self, step: int, epoch: int, seconds: float, G, D) -> None:
        """Append the means since the last flush (one device sync) and the current grad norms."""
        keys = list(self._sums)
        means = (torch.stack([self._sums[k] for k in keys]) / self._count).tolist() if keys else []
        record = dict(zip(keys, means), step=step, epoch=epoch, seconds=seconds,
                      grad_norm_D=grad_norm(D), grad_norm_G=grad_norm(G))
        for key in LOG_KEYS:
            self.log[key].append(float(record.get(key, math.nan)))
        self._sums, self._count = {}, 0

    def pending_sums(self, keys, device) -> torch.Tensor:
        """The running sums of `keys` since the last record, as one tensor (0 where none): NaN or
        inf as soon as one summed value was."""
        zero = torch.zeros((), device=device)
        return torch.stack([self._sums.get(key, zero) for key in keys])

    def rewind(self, step: int) -> None:
        """Forget the records, snapshots and running sums after `step` (the loop rolled back)."""
        keep = sum(s <= step for s in self.log["step"])
        self.log = {key: values[:keep] for key, values in self.log.items()}
        self.snapshots = [(s, x) for s, x in self.snapshots if s <= step]
        self._sums, self._count = {}, 0

    def state_dict(self) -> dict:
        return dict(loss_name=self.loss_name, log=self.log, snapshots=self.snapshots,
                    stop_reason=self.stop_reason, diverged=self.diverged)

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        history = cls(state["loss_name"])
        n = len(state["log"]["step"])          # a key added since the file was written: NaN
        history.log = {key: list(state["log"].get(key, [math.nan] * n)) for key in LOG_KEYS}
        history.snapshots = [(int(step), x) for step, x in state["snapshots"]]
        history.stop_reason = state["stop_reason"]
        history.diverged = state.get("diverged")       # absent in files written before it
        return history
