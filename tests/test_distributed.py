"""The training loop under DistributedDataParallel: 2 CPU processes with the gloo backend.

The two processes get torchrun's environment (RANK, WORLD_SIZE, ...) and nothing else, so
GANTrainer itself must find and join the process group, as it does under torchrun. Each process
runs every scenario below and saves what it saw; the assertions run here, in the parent.
Plus the command line, `python -m gankit train`, in one process.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

import gankit
from gankit import GANTrainer, distributed, seed_everything
from gankit.data import InMemoryData
from gankit.cli.train import main as train_main
from gankit.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

WORLD = 2
BATCH = 16               # per process
N_POINTS = 512           # 256 a process: 16 batches, one epoch in 8 steps with n_critic = 2


def points() -> InMemoryData:
    """2-D points; y = the index of each point, to see which points each rank trained on (the
    unconditional models ignore y)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_POINTS, 2, generator=g) * 0.5 + torch.tensor([2.0, -1.0])
    return InMemoryData(x, torch.arange(N_POINTS), source="points")


def mlp_pair(dropout=0.0):
    seed_everything(0)
    G = MLPGenerator(latent_dim=4, data_shape=(2,), hidden=(16,), out="linear")
    D = MLPDiscriminator(data_shape=(2,), hidden=(16,), dropout=dropout)
    return G, D


class RecordingTrainer(GANTrainer):
    """Remembers the labels (here: indices) of every real batch it trained on."""

    seen = None

    def train_step(self, next_batch):
        self.seen = [] if self.seen is None else self.seen

        def recorded():
            x, y = next_batch()
            self.seen.append(y.clone())
            return x, y
        return super().train_step(recorded)


class CombinedBatchTrainer(GANTrainer):
    """One process doing what 2 ranks do together: its z is rank 0's draws then rank 1's."""

    def __init__(self, *args, seed=0, **kwargs):
        super().__init__(*args, seed=seed, **kwargs)
        self.rank_rngs = [torch.Generator().manual_seed(distributed.rank_seed(seed, r))
                          for r in range(WORLD)]

    def sample_z(self, n):
        return torch.cat([gankit.sample_latent(self.G, n // WORLD, self.device, rng)
                          for rng in self.rank_rngs])


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# --------------------------------------------------------------------------- the 2 processes
def worker(rank, port, tmp):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GANKIT_OFFLINE="1")
    torch.set_num_threads(1)
    here = Path(tmp) / f"cwd{rank}"                      # a folder of its own: who wrote what?
    here.mkdir()
    os.chdir(here)
    out = {}

    # 1. disjoint shares, equal models, the same result as one process on the combined batch
    trainer = RecordingTrainer(*mlp_pair(), seed=3, n_critic=2, lr=1e-3, log_every=4,
                               progress=False)
    trainer.fit(points(), batch_size=BATCH, steps=10)    # crosses into the second epoch
    out["plain"] = dict(G=state(trainer.G), D=state(trainer.D), seen=trainer.seen,
                        step=trainer.step, epoch=trainer.epoch)

    # 2. every loss, WGAN-GP's double backward with n_critic = 5, a conditional DCGAN with
    #    batch norm (its running statistics must agree too)
    for loss in ("wasserstein-gp", "wasserstein", "hinge"):
        trainer = GANTrainer(*mlp_pair(), loss=loss, n_critic=5, lr=1e-3, progress=False)
        trainer.fit(points(), batch_size=BATCH, steps=2)
        out[loss] = dict(G=state(trainer.G), D=state(trainer.D))
    seed_everything(0)
    G = DCGANGenerator(latent_dim=4, image_size=16, channels=1, ngf=4, num_classes=2)
    D = DCGANDiscriminator(image_size=16, channels=1, ndf=4, num_classes=2)
    images = InMemoryData(torch.randint(0, 256, (64, 1, 16, 16), dtype=torch.uint8,
                                        generator=torch.Generator().manual_seed(rank)),
                          torch.arange(64) % 2, num_classes=2)   # different on purpose
    trainer = GANTrainer(G, D, progress=False)
    trainer.fit(images, batch_size=8, steps=3)
    out["dcgan"] = dict(G=state(trainer.G), D=state(trainer.D))

    # 3. a NaN on rank 1 only: both ranks stop at the same step, with the same reason
    def poison_on_rank_1(t):
        if t.step == 4 and rank == 1:
            with torch.no_grad():
                t.D.net[0].weight.fill_(float("nan"))
    trainer = GANTrainer(*mlp_pair(), log_every=1, progress=False, callbacks=[poison_on_rank_1])
    trainer.fit(points(), batch_size=BATCH, steps=20)
    out["nan"] = dict(step=trainer.step, reason=trainer.history.stop_reason)

    # 4. Ctrl-C that reaches rank 1 only
    def ctrl_c_on_rank_1(t):
        if t.step == 3 and rank == 1:
            os.kill(os.getpid(), signal.SIGINT)
    trainer = GANTrainer(*mlp_pair(), log_every=1, progress=False, callbacks=[ctrl_c_on_rank_1])
    trainer.fit(points(), batch_size=BATCH, steps=20)
    out["ctrl_c"] = dict(step=trainer.step, reason=trainer.history.stop_reason)

    # 5. checkpoint and resume == uninterrupted, with dropout (each rank's RNG is restored)
    def fresh():
        return GANTrainer(*mlp_pair(dropout=0.3), seed=5, n_critic=2, progress=False)
    straight = fresh()
    straight.fit(points(), batch_size=BATCH, steps=12)
    first = fresh()
    first.fit(points(), batch_size=BATCH, steps=5)
    first.save_checkpoint(Path(tmp) / "ckpt.pt")
    torch.manual_seed(999)
    resumed = fresh()
    resumed.load_checkpoint(Path(tmp) / "ckpt.pt")
    resumed.fit(points(), batch_size=BATCH, steps=12)
    out["resume_equal"] = all(torch.equal(a, b) for a, b in
                              zip([*straight.G.parameters(), *straight.D.parameters()],
                                  [*resumed.G.parameters(), *resumed.D.parameters()]))
    resumed.save_checkpoint("ckpt.pt")                   # relative: lands in this rank's folder

    # 6. the command line under the process group: only rank 0 writes
    out["cli"] = train_main(["mnist", "--profile", "ci", "--epochs", "1", "--max-seconds", "1",
                             "--batch-size", "32", "--out", "out"])
    torch.save(out, Path(tmp) / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Run `worker` on 2 processes once; [rank 0's results, rank 1's results], and the folder."""
    tmp = tmp_path_factory.mktemp("ddp")
    context = mp.start_processes(worker, args=(free_port(), str(tmp)), nprocs=WORLD, join=False,
                                 start_method="spawn")
    deadline = time.monotonic() + 120                    # a deadlock fails the test, not CI
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("the 2 training processes did not finish within 120 s (deadlock?)")
    return [torch.load(tmp / f"rank{r}.pt", weights_only=False) for r in range(WORLD)], tmp


def assert_same(a: dict, b: dict, atol=0.0):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), rtol=0, atol=atol), key


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_ranks_train_on_disjoint_shares_of_every_epoch(ranks):
    (r0, r1), _ = ranks
    seen0, seen1 = r0["plain"]["seen"], r1["plain"]["seen"]
    assert len(seen0) == len(seen1) == 20                 # 10 steps x n_critic 2, each rank
    first_epoch = [set(torch.cat(s[:16]).tolist()) for s in (seen0, seen1)]
    assert not first_epoch[0] & first_epoch[1]            # disjoint ...
    assert first_epoch[0] | first_epoch[1] == set(range(N_POINTS))   # ... and together: all
    assert r0["plain"]["epoch"] == r1["plain"]["epoch"] == 1


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_models_stay_identical_on_every_rank(ranks):
    (r0, r1), _ = ranks
    for case in ("plain", "wasserstein-gp", "wasserstein", "hinge", "dcgan"):
        for net in ("G", "D"):
            assert_same(r0[case][net], r1[case][net])     # parameters and batch-norm buffers
    before = mlp_pair()[1].state_dict()
    assert not torch.equal(before["net.0.weight"], r0["plain"]["D"]["net.0.weight"])  # it trained


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_two_ranks_equal_one_process_on_the_combined_batch(ranks):
    (r0, _), _ = ranks
    trainer = CombinedBatchTrainer(*mlp_pair(), seed=3, n_critic=2, lr=1e-3, log_every=4,
                                   progress=False)
    trainer.fit(points(), batch_size=WORLD * BATCH, steps=10)   # its batches = the ranks' union
    assert_same(state(trainer.G), r0["plain"]["G"], atol=1e-5)
    assert_same(state(trainer.D), r0["plain"]["D"], atol=1e-5)
    far = CombinedBatchTrainer(*mlp_pair(), seed=4, n_critic=2, lr=1e-3, progress=False)
    far.fit(points(), batch_size=WORLD * BATCH, steps=10)       # other z: the test can fail
    assert not torch.allclose(state(far.G)["net.0.weight"], r0["plain"]["G"]["net.0.weight"],
                              atol=1e-5)


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_nan_on_one_rank_stops_both_at_the_same_step(ranks):
    (r0, r1), _ = ranks
    assert r0["nan"]["step"] == r1["nan"]["step"] == 4
    assert "D's loss and G's loss became non-finite at step 5 on rank 1 of 2" in r0["nan"]["reason"]
    assert "D's loss and G's loss became nan at step 5 on rank 1 of 2" in r1["nan"]["reason"]


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_ctrl_c_on_one_rank_stops_both_after_the_same_step(ranks):
    (r0, r1), _ = ranks
    assert r0["ctrl_c"]["step"] == r1["ctrl_c"]["step"] == 3
    assert r0["ctrl_c"]["reason"].startswith("interrupted at step 3")


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_resume_equals_an_uninterrupted_run_and_needs_the_same_world_size(ranks):
    (r0, r1), tmp = ranks
    assert r0["resume_equal"] and r1["resume_equal"]
    trainer = GANTrainer(*mlp_pair(dropout=0.3), seed=5, n_critic=2, progress=False)
    with pytest.raises(ValueError, match=r"written by 2 process\(es\) and cannot resume in 1"):
        trainer.load_checkpoint(tmp / "ckpt.pt")
    assert trainer.step == 0                                    # refused before loading anything


@pytest.mark.slow        # the 2 processes are started once for these 7 tests
def test_only_rank_0_writes_files(ranks):
    (r0, r1), tmp = ranks
    assert r0["cli"] == r1["cli"] == 0
    assert sorted(p.name for p in (tmp / "cwd0" / "out").iterdir()) == [
        "generator.pt", "metrics.json", "samples.png"]
    assert (tmp / "cwd0" / "ckpt.pt").is_file()
    assert list((tmp / "cwd1").iterdir()) == []                 # no checkpoint, no out/
    metrics = json.loads((tmp / "cwd0" / "out" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] > 0
    G = gankit.load_generator(tmp / "cwd0" / "out" / "generator.pt")
    assert G(torch.randn(3, G.latent_dim)).shape == (3, 1, 28, 28)


# --------------------------------------------------------------------------- the command line
def test_cli_trains_mnist_in_one_process(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    code = train_main(["mnist", "--profile", "ci", "--max-seconds", "1", "--batch-size", "32",
                       "--seed", "1", "--out", str(tmp_path / "run")])
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["world_size"] == 1 and metrics["steps"] > 0 and metrics["config"]["seed"] == 1
    assert "offline" in metrics["data"]
    G = gankit.load_generator(tmp_path / "run" / "generator.pt")
    assert G.latent_dim == 100
    assert "wrote generator.pt" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["gan", "--out", "x"], "argument model: invalid choice: 'gan'"),
    (["mnist"], "the following arguments are required: --out"),
    (["mnist", "--out", "x", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["mnist", "--out", "x", "--epochs", "0"], "epochs=0"),
    (["mnist", "--out", "x", "--profile", "fast"], "argument --profile: invalid choice: 'fast'"),
    (["dcgan", "--out", "x", "--data-dir", "/no/such/folder"], "data_dir='/no/such/folder'"),
    (["mnist", "--out", ""], "--out='' is not allowed: use a folder path"),
    (["mnist", "--out", "/dev/null"], "--out='/dev/null' is a file, not a folder"),
    (["mnist", "--out", "x", "--seed", str(2**70)], "seed=1180591620717411303424 is too large"),
])
def test_cli_bad_arguments_say_one_line_and_exit_2(argv, match, capsys):
    assert train_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and "--help" in err, err


def test_cli_help_reads_like_a_man_page(capsys):
    assert train_main(["--help"]) == 0
    text = capsys.readouterr().out
    for part in ("torchrun --standalone --nproc_per_node=4", "srun torchrun", "generator.pt",
                 "--batch-size is per process", "exit status", "--data-source"):
        assert part in text, part


def test_python_m_gankit_train_exits_2_on_a_bad_argument(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gankit", "train", "mnist"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("python -m gankit train: the following arguments are required: --out "
                           "(see python -m gankit train --help)\n")
