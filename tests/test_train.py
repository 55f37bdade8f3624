import math

import pytest
import torch

from gankit import GANTrainer, seed_everything
from gankit.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

from conftest import toy_pair, w1_to_target


def test_short_run_measurably_learns(gaussian_data):
    seed_everything(0)
    G, D = toy_pair()
    before = w1_to_target(G)
    trainer = GANTrainer(G, D, lr=5e-3, log_every=20, progress=False)
    history = trainer.fit(gaussian_data, batch_size=64, steps=600)
    after = w1_to_target(G)
    assert before > 2.0                                   # G starts near 0, the target sits at 3
    assert after < 0.25 * before, (before, after)
    assert history.stop_reason == ""
    assert history.log["step"][-1] == 600 == trainer.step
    assert all(len(v) == len(history) for v in history.log.values())
    assert 0 < history.last("d_real") < 1 and 0 < history.last("d_fake") < 1
    assert history.last("grad_norm_G") > 0 and history.last("grad_norm_D") > 0


def test_budgets_in_steps_epochs_and_seconds(gaussian_data):
    G, D = toy_pair()
    trainer = GANTrainer(G, D, n_critic=2, progress=False)
    trainer.fit(gaussian_data, batch_size=256, epochs=2)       # 8 batches an epoch, 2 per G step
    assert trainer.epoch == 2 and trainer.step == 8
    trainer.fit(gaussian_data, batch_size=256, steps=11)        # budgets are totals
    assert trainer.step == 11
    trainer.fit(gaussian_data, batch_size=256, max_seconds=0.3)
    assert trainer.step > 11
    with pytest.raises(ValueError, match="needs a budget"):
        trainer.fit(gaussian_data, batch_size=256)


def test_checkpoint_resume_equals_an_uninterrupted_run(gaussian_data, tmp_path):
    """Dropout in D draws from the global RNG: the checkpoint must restore that too."""
    def fresh():
        seed_everything(7)
        G, D = toy_pair(dropout=0.3)
        return GANTrainer(G, D, seed=7, n_critic=2, log_every=5, progress=False)

    straight = fresh()
    straight.fit(gaussian_data, batch_size=100, steps=30)     # 20 batches an epoch: crosses epochs

    first = fresh()
    first.fit(gaussian_data, batch_size=100, steps=13)
    first.save_checkpoint(tmp_path / "ckpt.pt")
    torch.manual_seed(12345)                                  # disturb the global RNG on purpose
    resumed = fresh()
    resumed.load_checkpoint(tmp_path / "ckpt.pt")
    resumed.fit(gaussian_data, batch_size=100, steps=30)

    for a, b in zip(straight.G.parameters(), resumed.G.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(straight.D.parameters(), resumed.D.parameters()):
        assert torch.equal(a, b)
    assert resumed.history.log["g_loss"][-1] == straight.history.log["g_loss"][-1]


def test_ctrl_c_keeps_models_and_history(gaussian_data):
    def interrupt_at_step_40(trainer):
        if trainer.step == 40:
            raise KeyboardInterrupt

    G, D = toy_pair()
    trainer = GANTrainer(G, D, log_every=10, progress=False, callbacks=[interrupt_at_step_40])
    with pytest.warns(RuntimeWarning, match="interrupted at step 40"):
        history = trainer.fit(gaussian_data, batch_size=64, steps=1000)
    assert trainer.step == 40 and history.log["step"] == [10, 20, 30, 40]
    assert history.snapshots[-1][0] == 40                     # a final snapshot was taken
    assert "interrupted" in history.stop_reason
    assert all(torch.isfinite(p).all() for p in G.parameters())
    trainer.callbacks = []
    trainer.fit(gaussian_data, batch_size=64, steps=60)       # and training can go on
    assert trainer.step == 60


def test_non_finite_loss_stops_and_names_the_step(gaussian_data):
    def poison_D_after_step_20(trainer):
        if trainer.step == 20:
            with torch.no_grad():
                trainer.D.net[0].weight.fill_(float("nan"))

    G, D = toy_pair()
    trainer = GANTrainer(G, D, log_every=10, progress=False, callbacks=[poison_D_after_step_20])
    with pytest.warns(RuntimeWarning, match="D's loss and G's loss became nan between steps 21 and 30"):
        history = trainer.fit(gaussian_data, batch_size=64, steps=100)
    assert trainer.step == 20                                 # back at the last check
    assert "back at step 20" in history.stop_reason and "smaller lr" in history.stop_reason
    assert all(torch.isfinite(p).all() for p in G.parameters())   # G never saw the NaN


def test_weight_clipping_keeps_the_critic_in_the_box(gaussian_data):
    G, D = toy_pair()
    trainer = GANTrainer(G, D, loss="wasserstein", lr=5e-5, n_critic=5, clip_value=0.01,
                         progress=False, log_every=5)
    assert isinstance(trainer.opt_D, torch.optim.RMSprop)     # WGAN's Algorithm 1
    history = trainer.fit(gaussian_data, batch_size=64, steps=10)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    assert math.isfinite(history.last("wasserstein")) and math.isnan(history.last("d_real"))


def test_wgan_gp_records_the_penalty(gaussian_data):
    G, D = toy_pair()
    trainer = GANTrainer(G, D, loss="wasserstein-gp", lr=1e-4, betas=(0.0, 0.9), n_critic=5,
                         progress=False, log_every=5)
    history = trainer.fit(gaussian_data, batch_size=64, steps=10)
    assert history.last("gp") >= 0 and math.isfinite(history.last("wasserstein"))


def test_conditional_dcgan_trains_with_labels(labelled_images):
    G = DCGANGenerator(latent_dim=8, image_size=16, channels=1, ngf=8, num_classes=4)
    D = DCGANDiscriminator(image_size=16, channels=1, ndf=8, num_classes=4)
    trainer = GANTrainer(G, D, n_fixed=8, snapshot_every=2, progress=False, log_every=2)
    history = trainer.fit(labelled_images, batch_size=16, steps=4)
    assert trainer.fixed_y.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [s for s, _ in history.snapshots] == [0, 2, 4]
    assert history.snapshots[-1][1].shape == (8, 1, 16, 16)
    assert G.training                                         # snapshots put G back in train mode


def test_mlp_gan_on_images_runs_every_loss(labelled_images):
    for loss in ("minimax", "non-saturating", "hinge", "wasserstein", "wasserstein-gp"):
        G = MLPGenerator(latent_dim=4, data_shape=(1, 16, 16), hidden=(16,))
        D = MLPDiscriminator(data_shape=(1, 16, 16), hidden=(16,))
        history = GANTrainer(G, D, loss=loss, progress=False).fit(
            labelled_images, batch_size=16, steps=2)
        assert math.isfinite(history.last("d_loss")), loss


@pytest.mark.parametrize("kwargs, match", [
    (dict(loss="wgan"), "loss='wgan'"),
    (dict(lr=-1e-3), "lr=-0.001"),
    (dict(lr_D=0), "lr_D=0"),
    (dict(n_critic=0), "n_critic=0"),
    (dict(clip_value=float("nan")), "clip_value=nan"),
    (dict(lambda_gp=-1), "lambda_gp=-1"),
    (dict(optimizer="sgd"), "optimizer='sgd'"),
    (dict(log_every=1.5), "log_every=1.5"),
])
def test_bad_trainer_arguments(kwargs, match):
    G, D = toy_pair()
    with pytest.raises(ValueError, match=match):
        GANTrainer(G, D, **kwargs)


def test_bad_fit_arguments(gaussian_data):
    trainer = GANTrainer(*toy_pair(), progress=False)
    for kwargs, match in [(dict(batch_size=0, steps=1), "batch_size=0"),
                          (dict(batch_size=10_000, steps=1), "batch_size=10000 is larger"),
                          (dict(batch_size=8, epochs=-1), "epochs=-1"),
                          (dict(batch_size=8, max_seconds=0), "max_seconds=0")]:
        with pytest.raises(ValueError, match=match):
            trainer.fit(gaussian_data, **kwargs)


def test_every_step_callbacks_do_not_depend_on_log_every(gaussian_data):
    """The EMA of G and G's lr decay act after every G step: logging more or less often changes
    neither the learning rate nor the average."""
    from gankit.callbacks import GeneratorEMA, GeneratorLRDecay
    runs = []
    for log_every in (1, 7):
        seed_everything(0)
        G, D = toy_pair()
        decay, ema = GeneratorLRDecay(steps=40), GeneratorEMA(G, decay=0.9)
        trainer = GANTrainer(G, D, lr=1e-3, log_every=log_every, progress=False,
                             callbacks=[decay, ema])
        trainer.fit(gaussian_data, batch_size=64, steps=30)
        runs.append((trainer.opt_G.param_groups[0]["lr"], [p.clone() for p in ema.G.parameters()]))
    (lr_1, ema_1), (lr_7, ema_7) = runs
    assert lr_1 == lr_7 == pytest.approx(1e-3 * decay.factor(30)) and lr_1 < 1e-3
    assert all(torch.equal(a, b) for a, b in zip(ema_1, ema_7))
