"""Ctrl-C anywhere in a step, and a loss that turns NaN: what `fit` leaves behind must be a state
the next `fit` can train from (README: "nothing is lost ... the next cells run on them")."""
import dataclasses
import math
import os
import signal

import pytest
import torch

from gankit import GANTrainer, seed_everything
from gankit.callbacks import GeneratorEMA
from gankit.losses import SPECS

from conftest import toy_pair, w1_to_target

AT_STEP = 20            # G steps done when the interrupt lands: it lands in the 21st step


class Trap:
    """Raises KeyboardInterrupt once, at one stage of step AT_STEP + 1, and counts the G updates
    that really ran (trainer.step must equal that count afterwards)."""

    def __init__(self, trainer, stage, how="raise"):
        self.trainer, self.stage, self.how = trainer, stage, how
        self.fired, self.g_updates, self.g_calls = False, 0, 0
        G, D = trainer.G, trainer.D
        G.register_forward_hook(self._on_G_forward)
        D.register_forward_hook(lambda *_: self._maybe("D forward"))
        D.net[0].weight.register_hook(lambda grad: self._maybe("D backward"))  # only D's update
        G.net[0].weight.register_hook(lambda grad: self._maybe("G backward"))  # only G's update
        self._wrap_step(trainer.opt_D, "D optimiser step", count=False)
        self._wrap_step(trainer.opt_G, None, count=True)

    def _on_G_forward(self, *_):
        # within a step G runs twice: the fakes for D's update, then G's own update
        if self.trainer.step == AT_STEP:
            self.g_calls += 1
            self._maybe("G forward for D" if self.g_calls == 1 else "G forward for G")

    def _wrap_step(self, opt, stage, count):
        real_step = opt.step

        def step(*args, **kwargs):
            if stage:
                self._maybe(stage)
            out = real_step(*args, **kwargs)
            self.g_updates += count
            return out
        opt.step = step

    def _maybe(self, stage):
        if stage != self.stage or self.fired or self.trainer.step != AT_STEP:
            return
        self.fired = True
        if self.how == "signal":                  # a real Ctrl-C: SIGINT to this process
            os.kill(os.getpid(), signal.SIGINT)
            return
        raise KeyboardInterrupt


STAGES = ("G forward for D", "D forward", "D backward", "D optimiser step", "G forward for G",
          "G backward")


@pytest.mark.parametrize("stage, how", [(stage, "raise") for stage in STAGES]
                         + [("D backward", "signal"), ("G forward for G", "signal")])
def test_ctrl_c_anywhere_in_a_step_then_fit_goes_on(stage, how, gaussian_data):
    seed_everything(0)
    G, D = toy_pair()
    start = w1_to_target(G)
    trainer = GANTrainer(G, D, lr=5e-3, log_every=10, progress=False)
    trap = Trap(trainer, stage, how)
    with pytest.warns(RuntimeWarning, match="interrupted at step"):
        history = trainer.fit(gaussian_data, batch_size=64, steps=300)
    assert trap.fired
    # a raised KeyboardInterrupt cuts the step; a real Ctrl-C lets it finish, then stops
    stopped_at = AT_STEP + (how == "signal")
    assert trainer.step == trap.g_updates == stopped_at       # counts G's completed updates
    assert all(p.requires_grad for p in [*G.parameters(), *D.parameters()]), "D left frozen"
    assert G.training and D.training
    assert history.log["step"][-1] == stopped_at and history.snapshots[-1][0] == stopped_at
    at_interrupt = w1_to_target(G)

    history = trainer.fit(gaussian_data, batch_size=64, steps=300)   # and the run goes on
    assert history.stop_reason == "" and trainer.step == trap.g_updates == 300
    after = w1_to_target(G)
    assert after < 0.25 * start and after < at_interrupt, (start, at_interrupt, after)


def _nan_at(step_number, who):
    """The non-saturating loss, except that `who`'s loss is NaN during step `step_number`."""
    spec, trainer = SPECS["non-saturating"], {}

    def poisoned(loss):
        def f(*scores):
            value = loss(*scores)
            return value * math.nan if trainer["t"].step + 1 == step_number else value
        return f
    field = "d_loss" if who == "D" else "g_loss"
    return dataclasses.replace(spec, **{field: poisoned(getattr(spec, field))}), trainer


@pytest.mark.parametrize("who", ["D", "G"])
def test_a_nan_loss_rolls_back_to_the_last_check_and_names_the_step(who, gaussian_data):
    spec, box = _nan_at(37, who)
    G, D = toy_pair()
    ema = GeneratorEMA(G, decay=0.9)
    trainer = box["t"] = GANTrainer(G, D, loss=spec, log_every=10, progress=False,
                                    callbacks=[ema])
    with pytest.warns(RuntimeWarning) as warned:
        history = trainer.fit(gaussian_data, batch_size=64, steps=100)
    message = str(warned[0].message)
    # the step is named to within the log interval: the NaN shows in the history's running sum
    assert "loss became nan between steps 31 and 40" in message and f"{who}'s loss" in message
    assert "back at step 30" in message and "smaller lr" in message
    assert trainer.step == 30 and history.log["step"][-1] == 30
    assert all(s <= 30 for s, _ in history.snapshots)
    for model in (G, D, ema.G):
        assert all(torch.isfinite(p).all() for p in model.parameters())
    for opt in (trainer.opt_G, trainer.opt_D):
        assert all(torch.isfinite(t).all() for state in opt.state.values()
                   for t in state.values())
    with pytest.warns(RuntimeWarning, match="between steps 31 and 40"):     # step 37 comes again: NaN again
        trainer.fit(gaussian_data, batch_size=64, steps=45)
    assert trainer.step == 30


def test_nan_weights_after_the_last_loss_are_caught_too(gaussian_data):
    """A NaN that reaches G's weights in the very last update (no loss after it to show it)."""
    class PoisonAtTheEnd:
        every_step = True

        def __call__(self, trainer):
            if trainer.step == 25:
                with torch.no_grad():
                    trainer.G.net[0].weight.fill_(math.inf)

    G, D = toy_pair()
    trainer = GANTrainer(G, D, log_every=10, progress=False, callbacks=[PoisonAtTheEnd()])
    with pytest.warns(RuntimeWarning, match="G's weights became non-finite between steps 21 and 25"):
        trainer.fit(gaussian_data, batch_size=64, steps=25)
    assert trainer.step == 20
    assert all(torch.isfinite(p).all() for p in G.parameters())


def test_a_second_ctrl_c_stops_at_once(gaussian_data):
    """The first Ctrl-C asks for a stop after the step; a second one, in the same step, raises
    KeyboardInterrupt there (a step that hangs can still be stopped) and fit still stops cleanly."""
    seed_everything(0)
    G, D = toy_pair()
    trainer = GANTrainer(G, D, lr=5e-3, log_every=10, progress=False)
    sent = []

    def twice(*_):
        if trainer.step == AT_STEP and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
    G.register_forward_hook(twice)
    with pytest.warns(RuntimeWarning, match=f"interrupted at step {AT_STEP}"):
        trainer.fit(gaussian_data, batch_size=64, steps=300)
    assert trainer.step == AT_STEP
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler    # restored after fit
    assert all(p.requires_grad for p in D.parameters())
