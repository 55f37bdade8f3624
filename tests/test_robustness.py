"""Nothing trained is lost, nothing of the course is overwritten (issue 17): output folders checked
before training, atomic writes, signals, damaged files, parameters papermill injects."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest
import torch

import gankit
from gankit.cli import train as train_cli
from gankit.config import check_injected_parameters
from gankit.data import InMemoryData
from gankit.io import atomic_write, check_output_dir, load_generator
from gankit.validate import check_not_diverged


def tiny_pair():
    G = gankit.MLPGenerator(latent_dim=4, data_shape=(1, 2, 2), hidden=(8,))
    D = gankit.MLPDiscriminator(data_shape=(1, 2, 2), hidden=(8,))
    return G, D


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- output folders, checked before any training -------------------------------------------------

def test_output_folders_that_cannot_receive_files_are_refused_in_one_line(tmp_path):
    a_file = tmp_path / "generator.pt"
    a_file.write_bytes(b"x")
    for path, expected in [("", "is not allowed"), (a_file, "is a file, not a folder"),
                           (a_file / "run", "cannot be created: .* is a file")]:
        with pytest.raises(ValueError, match=f"artifacts_dir=.*{expected}") as error:
            check_output_dir("artifacts_dir", path)
        assert "\n" not in str(error.value)
    assert check_output_dir("artifacts_dir", tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()                      # checked, not created


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="--out=.* cannot be created: .* is not writable"):
            check_output_dir("--out", tmp_path / "run")
    finally:
        tmp_path.chmod(0o700)


def test_configs_refuse_bad_artifacts_dir_seed_and_batch_before_training(tmp_path):
    (tmp_path / "f").write_text("")
    bad = [(dict(artifacts_dir=""), "artifacts_dir='' is not allowed"),
           (dict(artifacts_dir=str(tmp_path / "f")), "is a file, not a folder"),
           (dict(seed=2**70), r"seed=\d+ is too large: use an integer from 0 to 2\*\*63 - 1"),
           (dict(batch_size=20_000, n_data=10_000), "batch_size=20000 is larger than n_data=10000")]
    for params, message in bad:
        with pytest.raises(ValueError, match=message):
            gankit.Gan1DConfig.from_params(profile="ci", **params)
    assert gankit.Gan1DConfig.from_params(profile="ci", seed=2**63 - 1).seed == 2**63 - 1


def test_notebook_04_refuses_image_sizes_its_self_checks_fail_at_before_training():
    for profile, size in (("ci", 16), ("ci", 64), ("cpu", 128), ("gpu", 256)):
        cfg = gankit.FacesConfig.from_params(profile=profile, image_size=size)
        with pytest.raises(ValueError, match=f"image_size={size} is not one notebook 04 serves "
                                             f"in the {profile} profile: use 32"):
            cfg.check_notebook_image_size()
    for profile, size in (("ci", 32), ("cpu", 32), ("gpu", 64)):
        gankit.FacesConfig.from_params(profile=profile, image_size=size).check_notebook_image_size()


# --- atomic writes -------------------------------------------------------------------------------

def test_a_full_disk_names_the_file_and_the_space_and_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    path.write_text("old")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match=r"could not write .*metrics.json: the disk is full "
                                      r"\(the file needs 2.0 MB\)") as error:
        atomic_write(path, lambda f: f.write(b"x" * 2**21))
    assert error.value.errno == errno.ENOSPC and "\n" not in str(error.value)
    assert path.read_text() == "old" and leftovers(tmp_path) == []


def test_ctrl_c_during_a_write_waits_until_the_file_is_whole(tmp_path):
    G, _ = tiny_pair()

    def interrupted_midway(f):
        os.kill(os.getpid(), signal.SIGINT)                     # arrives while the file is written
        torch.save(dict(format="gankit-generator-1", cls="MLPGenerator", config=G.config,
                        state_dict=G.state_dict()), f)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "generator.pt", interrupted_midway)
    assert load_generator(tmp_path / "generator.pt").latent_dim == 4
    assert leftovers(tmp_path) == []


# --- damaged files -------------------------------------------------------------------------------

def test_damaged_or_pickled_generator_files_get_one_line_and_no_unsafe_advice(tmp_path):
    G, _ = tiny_pair()
    gankit.save_generator(G, tmp_path / "good.pt")
    whole = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(whole[:len(whole) // 2])
    (tmp_path / "random.pt").write_bytes(torch.randint(0, 256, (500,), dtype=torch.uint8).numpy().tobytes())
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.save(G, tmp_path / "model.pt")
    expected = dict(truncated="is damaged", random="is damaged", empty="is empty",
                    model="holds a pickled Python object")
    for name, what in expected.items():
        with pytest.raises(ValueError, match=what) as error:
            load_generator(tmp_path / f"{name}.pt")
        message = str(error.value)
        assert f"{name}.pt" in message and "save_generator" in message and "\n" not in message
        assert "weights_only" not in message and "safe_globals" not in message


def test_a_checkpoint_from_a_trainer_with_another_loss_is_refused_at_load(tmp_path):
    G, D = tiny_pair()
    gankit.GANTrainer(G, D, loss="wasserstein", progress=False).save_checkpoint(tmp_path / "c.pt")
    other = gankit.GANTrainer(G, D, loss="non-saturating", progress=False)
    with pytest.raises(ValueError, match="saved by a trainer with another loss, optimiser of G"):
        other.load_checkpoint(tmp_path / "c.pt")
    gankit.GANTrainer(G, D, loss="wasserstein", progress=False).load_checkpoint(tmp_path / "c.pt")


# --- divergence ----------------------------------------------------------------------------------

def test_a_nan_stop_is_reported_as_divergence_with_the_learning_rate_advice():
    G, D = tiny_pair()
    trainer = gankit.GANTrainer(G, D, lr=2e-3, progress=False, log_every=1)
    with pytest.warns(RuntimeWarning):
        history = trainer.fit(InMemoryData(torch.full((64, 1, 2, 2), float("inf"))),  # D(x) NaN
                              batch_size=8, steps=5)
    with pytest.raises(RuntimeError, match=r"training diverged at step 1 \(D's loss (and G's loss )?became nan\): "
                                           r"lower lr \(now 0.002; e.g. lr=0.0005\)"):
        check_not_diverged(history, 2e-3)
    assert history.diverged[0].startswith("D's loss")
    trainer.fit(InMemoryData(torch.zeros(64, 1, 2, 2)), batch_size=8, steps=8)
    assert trainer.history.diverged is None                     # a later run that went well
    check_not_diverged(trainer.history, 2e-3)


# --- parameters papermill injects ----------------------------------------------------------------

def test_an_injected_name_the_parameters_cell_lacks_is_refused_with_the_closest_one():
    params = 'profile = "auto"\nepochs = None\nlr = None'
    check_injected_parameters(["", params, "# Parameters\nepochs = 5\n", "cfg = ..."])
    check_injected_parameters(["", params, "cfg = ..."])        # plain Jupyter: nothing injected
    with pytest.raises(ValueError, match="parameter 'epocs' is not one of this notebook's "
                                         "parameters: did you mean 'epochs'?"):
        check_injected_parameters(["", params, "# Parameters\nepocs = 5\n", "cfg = ..."])


def test_papermill_with_a_misspelt_parameter_stops_in_the_validation_cell(tmp_path):
    import papermill
    cell = nbformat.v4.new_code_cell('profile = "auto"\nepochs = None')
    cell.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell(
        "import gankit\ncfg = gankit.InverseCDFConfig.from_params(profile='ci', epochs=epochs)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "nb.ipynb")
    papermill.execute_notebook(str(tmp_path / "nb.ipynb"), str(tmp_path / "ok.ipynb"),
                               parameters=dict(epochs=5), progress_bar=False)
    with pytest.raises(papermill.PapermillExecutionError, match="did you mean 'epochs'"):
        papermill.execute_notebook(str(tmp_path / "nb.ipynb"), str(tmp_path / "bad.ipynb"),
                                   parameters=dict(epocs=5), progress_bar=False)


# --- python -m gankit train ----------------------------------------------------------------------

def test_train_refuses_a_bad_out_and_a_batch_larger_than_the_data_with_rc_2(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert train_cli.main(["mnist", "--profile", "ci", "--out", str(tmp_path / "file")]) == 2
    assert "--out=" in capsys.readouterr().err
    code = train_cli.main(["mnist", "--profile", "ci", "--data-source", "offline",
                           "--batch-size", "99999", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "--batch-size=99999 is larger than the 5,000 items" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def start_training(out):
    """`python -m gankit train mnist --profile ci` long enough to be stopped, once it trains."""
    env = dict(os.environ, GANKIT_OFFLINE="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "gankit", "train", "mnist", "--profile", "ci", "--epochs", "1000",
         "--max-seconds", "300", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in process.stdout:                                 # the last line before fit
        if line.startswith("processes:"):
            break
    time.sleep(3)
    return process


def check_run_on_disk(out):
    G = load_generator(out / "generator.pt")
    assert G(torch.randn(2, G.latent_dim)).shape == (2, 1, 28, 28)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_reason"].startswith("interrupted at step")     # kept, not lost
    from PIL import Image
    assert Image.open(out / "samples.png").size[0] > 100
    assert sorted(p.name for p in out.iterdir()) == ["generator.pt", "metrics.json", "samples.png"]


def test_sigterm_stops_one_process_training_cleanly_and_writes_the_files(tmp_path):
    process = start_training(tmp_path / "run")
    process.send_signal(signal.SIGTERM)                         # Slurm's time limit
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    check_run_on_disk(tmp_path / "run")


@pytest.mark.parametrize("gap", [0.2])
def test_two_ctrl_c_in_quick_succession_lose_nothing(tmp_path, gap):
    process = start_training(tmp_path / "run")
    process.send_signal(signal.SIGINT)
    time.sleep(gap)                                             # the files are being written
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    # 0: the second came before the files (it waited for them); 130 or -2: after they were written
    assert process.returncode in (0, 130, -signal.SIGINT), err
    check_run_on_disk(tmp_path / "run")


def test_a_second_signal_once_training_is_over_waits_for_the_files():
    with train_cli.LaterSignalsWait() as signals:
        signals.training_over()
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)                                         # handlers run between bytecodes
        assert signals.held == [signal.SIGINT, signal.SIGTERM]
