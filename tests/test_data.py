"""Data loaders: MNIST and faces from every source, on tiny fixtures in each data set's own layout.

Every test runs with the network blocked (socket connect raises), so a passing test also proves
that the path it exercises never downloads; one test repeats the offline loads in a network
namespace (`unshare -rn`) where there is no network at all.
"""
import importlib.util
import os
import shutil
import socket
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torchvision import transforms

from gankit.data import InMemoryData, load_mnist, resolve_data_source
from gankit.faces import load_faces
from gankit.faces import (CELEBA_PAGE, CelebALayoutError, load_image_folder, square_resize)

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
    "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may reach the network, and GANKIT_OFFLINE from the caller's shell stays out."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family == socket.AF_UNIX:
            return real_connect(sock, address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.delenv("GANKIT_OFFLINE", raising=False)


# --- fixtures in each data set's on-disk layout --------------------------------------------------

def write_idx(path, array):
    """An idx file as MNIST ships it: magic (0x08 = ubyte, then the number of dims), sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = struct.pack(">I", (0x08 << 8) | array.ndim)
    header = magic + struct.pack(f">{array.ndim}I", *array.shape)   # big-endian sizes
    path.write_bytes(header + array.tobytes())


def make_mnist(root, n=20):
    """`<root>/MNIST/raw/` with the four unzipped files that torchvision's `_check_exists` needs."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (n, 28, 28)), np.arange(n) % 10
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", x)
        write_idx(raw / f"{split}-labels-idx1-ubyte", y)
    return x, y


def make_celeba(root, n=6):
    """`<root>/celeba/` as the official download unzips: n 178×218 jpgs + list_attr_celeba.txt,
    with the attribute rows in shuffled order so that alignment by file name is tested."""
    rng = np.random.default_rng(1)
    images = root / "celeba" / "img_align_celeba"
    images.mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, n + 1)]
    values = rng.choice([-1, 1], size=(n, 40))
    for name in names:
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(images / name)
    rows = [f"{name} " + " ".join(f"{v:2d}" for v in row) for name, row in zip(names, values)]
    rows = [rows[i] for i in rng.permutation(n)]
    text = "\n".join([str(n), " ".join(CELEBA_ATTRIBUTES)] + rows) + "\n"
    (root / "celeba" / "list_attr_celeba.txt").write_text(text)
    return images, (values > 0).astype(np.uint8)


def make_lfw(root, people=(("Ada_Lovelace", 2), ("Alan_Turing", 1))):
    """`<root>/lfw_home/` as scikit-learn leaves it after a download: the three pairs files and
    `lfw_funneled/<Name>/<Name>_0001.jpg` (250×250), white inside the face box, black outside."""
    home = root / "lfw_home"
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("1\n")
    photo = np.zeros((250, 250, 3), dtype=np.uint8)
    photo[70:195, 62:187] = 255
    for person, count in people:
        (home / "lfw_funneled" / person).mkdir(parents=True)
        for i in range(1, count + 1):
            Image.fromarray(photo).save(home / "lfw_funneled" / person / f"{person}_{i:04d}.jpg",
                                        quality=100)


# --- MNIST ---------------------------------------------------------------------------------------

def test_offline_mnist_is_5000_digits_batched_into_unit_range():
    data = load_mnist("offline", verbose=False)
    assert data.x.shape == (5000, 1, 28, 28) and data.x.dtype == torch.uint8
    assert data.y.dtype == torch.int64 and data.num_classes == 10
    assert torch.bincount(data.y).tolist() == [500] * 10
    assert "offline" in data.source and "5,000" in data.source
    x, y = next(data.batches(batch_size=64, epoch=0, seed=0))
    assert x.dtype == torch.float32 and x.shape == (64, 1, 28, 28) and y.shape == (64,)
    assert x.min() == -1.0 and x.max() == 1.0


def test_gankit_offline_forces_offline(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    make_mnist(tmp_path)   # even data on disk is ignored: offline means the packaged data
    assert resolve_data_source("auto") == "offline"
    assert resolve_data_source("full") == "offline"
    assert "GANKIT_OFFLINE=1" in capsys.readouterr().out
    data = load_mnist("auto", data_dir=str(tmp_path), verbose=False)
    assert len(data) == 5000 and "offline (GANKIT_OFFLINE=1)" in data.source


def test_offline_sources_touch_no_network():
    # the autouse fixture makes any connect() raise: these loads must not even try
    assert len(load_mnist("offline", verbose=False)) == 5000
    faces = load_faces("offline", image_size=32, verbose=False)
    assert faces.x.shape == (100, 1, 32, 32) and faces.x.dtype == torch.uint8
    assert "25×25 grayscale" in faces.source and "blurry" in faces.source


def test_auto_without_network_in_a_network_namespace(tmp_path):
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -rn (a user + network namespace) is not available here")
    code = ("from gankit.data import load_mnist\nfrom gankit.faces import load_faces\n"
            f"print(load_mnist('auto', data_dir={str(tmp_path)!r}).source)\n"
            f"print(load_faces('auto', data_dir={str(tmp_path)!r}, image_size=16).source)\n")
    env = {k: v for k, v in os.environ.items() if k != "GANKIT_OFFLINE"}
    run = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("MNIST, offline (download failed)") for line in lines), run.stdout
    assert any(line.startswith("Faces, offline (no usable CelebA") for line in lines), run.stdout


def test_full_mnist_reads_torchvision_layout_without_downloading(tmp_path):
    x, y = make_mnist(tmp_path, n=20)
    for source in ("full", "auto"):   # auto takes what is on disk
        data = load_mnist(source, data_dir=str(tmp_path), verbose=False)
        assert data.x.shape == (20, 1, 28, 28) and data.x.dtype == torch.uint8
        assert torch.equal(data.x[:, 0], torch.from_numpy(x.astype(np.uint8)))
        assert data.y.tolist() == y.tolist() and data.source.startswith("MNIST, full")


def fail_download(self):
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://a/, got:\n"
                       "<urlopen error [Errno -2] Name or service not known>\n")


def test_auto_mnist_falls_back_in_one_line_when_download_fails(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fail_download)
    data = load_mnist("auto", data_dir=str(tmp_path))
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "Name or service not known" in printed[0]
    assert "offline" in printed[0] and len(data) == 5000


def test_full_mnist_download_failure_is_one_line_pointing_to_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fail_download)
    with pytest.raises(RuntimeError) as error:
        load_mnist("full", data_dir=str(tmp_path))
    assert "\n" not in str(error.value) and 'data_source="offline"' in str(error.value)


def test_bad_data_source_names_the_choices():
    message = "data_source='onlin' is not one of 'auto', 'full', 'offline'"
    for load in (load_mnist, load_faces):
        with pytest.raises(ValueError) as error:
            load("onlin")
        assert str(error.value) == message


# --- faces ---------------------------------------------------------------------------------------

def test_celeba_loads_like_the_dcgan_tutorial_with_aligned_attributes(tmp_path, monkeypatch):
    images, attributes = make_celeba(tmp_path)
    data = load_faces("full", data_dir=str(tmp_path), image_size=32, verbose=False)
    assert data.x.shape == (6, 3, 32, 32) and data.x.dtype == torch.uint8
    assert data.attribute_names == tuple(CELEBA_ATTRIBUTES)
    assert torch.equal(data.attributes, torch.from_numpy(attributes))   # rows matched by name
    tutorial = transforms.Compose([transforms.Resize(32), transforms.CenterCrop(32),
                                   transforms.PILToTensor()])
    assert torch.equal(data.x[2], tutorial(Image.open(images / "000003.jpg").convert("RGB")))
    assert (tmp_path / "celeba" / "cache_32_6.pt").is_file()

    with monkeypatch.context() as patch:   # the second load comes from the cache: no decoding
        patch.setattr("gankit.faces.decode_images", lambda *a, **k: pytest.fail("decoded"))
        again = load_faces("auto", data_dir=str(tmp_path), image_size=32, verbose=False)
    assert torch.equal(again.x, data.x) and torch.equal(again.attributes, data.attributes)

    first4 = load_faces("full", data_dir=str(tmp_path), image_size=32, max_images=4, verbose=False)
    assert torch.equal(first4.x, data.x[:4]) and torch.equal(first4.attributes, data.attributes[:4])
    assert (tmp_path / "celeba" / "cache_32_4.pt").is_file()


def misshape(celeba, case):
    images = celeba / "img_align_celeba"
    if case == "empty folder":
        for f in images.glob("*.jpg"):
            f.unlink()
    elif case == "nested one level too deep":
        (images / "img_align_celeba").mkdir()
        for f in images.glob("*.jpg"):
            f.rename(images / "img_align_celeba" / f.name)
    elif case == "jpgs directly in celeba/":
        for f in images.glob("*.jpg"):
            f.rename(celeba / f.name)
        images.rmdir()
    elif case == "still zipped":
        shutil.make_archive(str(celeba / "img_align_celeba"), "zip", celeba, "img_align_celeba")
        shutil.rmtree(images)
    elif case == "a web page saved as the zip":          # Google Drive's quota page
        shutil.rmtree(images)
        (celeba / "img_align_celeba.zip").write_text("<!DOCTYPE html><html><head><title>Google "
                                                     "Drive - Quota exceeded</title></head></html>")
    elif case == "a damaged jpg":
        (images / "000003.jpg").write_bytes((images / "000003.jpg").read_bytes()[:40])
    elif case == "a non-numeric attribute":
        attributes = celeba / "list_attr_celeba.txt"
        lines = attributes.read_text().splitlines()
        lines[3] = lines[3].replace(" 1", " x", 1).replace("-1", " x", 1)
        attributes.write_text("\n".join(lines) + "\n")
    elif case == "attribute file missing":
        (celeba / "list_attr_celeba.txt").unlink()
    elif case == "count differs":
        (images / "000006.jpg").unlink()
    elif case == "file not in attribute list":
        (images / "000006.jpg").rename(images / "999999.jpg")


CASES = {"empty folder": "holds no .jpg files", "nested one level too deep": "one folder too deep",
         "jpgs directly in celeba/": "directly in", "still zipped": "still zipped",
         "attribute file missing": "list_attr_celeba.txt is missing",
         "count differs": "describes '6' images", "file not in attribute list": "999999.jpg",
         "a web page saved as the zip": "is a web page, not a zip: Google Drive's quota"}
DAMAGED = {"a damaged jpg": "000003.jpg is not a readable image",
           "a non-numeric attribute": "list_attr_celeba.txt line 4: 'x' is not 1 or -1"}


def no_lfw(**kwargs):
    raise OSError("<urlopen error [Errno -2] Name or service not known>")


@pytest.mark.parametrize("case", list(CASES))
def test_misshaped_celeba_names_the_expected_layout(tmp_path, monkeypatch, capsys, case):
    make_celeba(tmp_path)
    misshape(tmp_path / "celeba", case)
    with pytest.raises(CelebALayoutError) as error:
        load_faces("full", data_dir=str(tmp_path), image_size=16, verbose=False)
    message = str(error.value)
    for expected in (CASES[case], "img_align_celeba/000001.jpg", "list_attr_celeba.txt",
                     CELEBA_PAGE, "quota exceeded"):
        assert expected in message

    # "auto" prints the same message and falls back (LFW is unreachable: offline faces)
    if importlib.util.find_spec("sklearn") is not None:   # skip sklearn's retry delay
        monkeypatch.setattr("sklearn.datasets.fetch_lfw_people", no_lfw)
    data = load_faces("auto", data_dir=str(tmp_path), image_size=16)
    printed = capsys.readouterr().out
    assert CASES[case] in printed and "Falling back to LFW" in printed
    assert data.x.shape == (100, 1, 16, 16)


@pytest.mark.parametrize("case", list(DAMAGED))
def test_damaged_celeba_files_are_named_and_auto_falls_back(tmp_path, monkeypatch, capsys, case):
    make_celeba(tmp_path)
    misshape(tmp_path / "celeba", case)
    with pytest.raises(CelebALayoutError, match=DAMAGED[case]) as error:
        load_faces("full", data_dir=str(tmp_path), image_size=16, verbose=False)
    assert "\n" not in str(error.value)
    if importlib.util.find_spec("sklearn") is not None:
        monkeypatch.setattr("sklearn.datasets.fetch_lfw_people", no_lfw)
    data = load_faces("auto", data_dir=str(tmp_path), image_size=16)
    printed = capsys.readouterr().out
    assert DAMAGED[case].split(" line")[0] in printed and "Falling back to LFW" in printed
    assert data.x.shape == (100, 1, 16, 16)


def test_lfw_through_scikit_learn_crops_the_face_box(tmp_path):
    pytest.importorskip("sklearn")
    make_lfw(tmp_path)
    data = load_faces("full", data_dir=str(tmp_path), image_size=32, verbose=False)
    assert data.x.shape == (3, 3, 32, 32) and data.x.dtype == torch.uint8
    assert data.x.float().mean() > 240   # only the white face box is kept, none of the black
    assert data.source.startswith("LFW: 3 funneled photos of 2 people")
    assert len(load_faces("auto", data_dir=str(tmp_path), image_size=16, max_images=2,
                          verbose=False)) == 2


def test_square_resize_keeps_the_centre():
    wide = torch.zeros(2, 3, 10, 20, dtype=torch.uint8)
    wide[..., 5:15] = 255                            # the centre 10×10 square is white
    out = square_resize(wide, 16)
    assert out.shape == (2, 3, 16, 16) and bool((out == 255).all())
    unit = square_resize(torch.full((1, 1, 25, 25), 0.5), 32)   # [0, 1] floats -> uint8
    assert unit.dtype == torch.uint8 and bool((unit == 128).all())


@pytest.mark.parametrize("size", [48, 0, 512, 64.0, "64", True])
def test_image_size_must_be_an_allowed_power_of_two(tmp_path, size):
    for load in (lambda: load_faces("offline", image_size=size),
                 lambda: load_image_folder(tmp_path, image_size=size)):
        with pytest.raises(ValueError) as error:
            load()
        message = str(error.value)
        assert message.startswith(f"image_size={size!r}") and "16, 32, 64, 128, 256" in message
        assert "\n" not in message


def test_image_folder_flat_and_one_level_deep(tmp_path):
    folder = tmp_path / "mine"
    (folder / "sub" / "deeper").mkdir(parents=True)
    Image.new("RGB", (40, 30), "red").save(folder / "a.png")
    Image.new("L", (30, 40), 128).save(folder / "b.jpg")          # grayscale becomes RGB
    Image.new("RGB", (32, 32), "blue").save(folder / "sub" / "c.JPG")
    Image.new("RGB", (32, 32)).save(folder / "sub" / "deeper" / "d.png")   # two levels: ignored
    (folder / "notes.txt").write_text("not an image")
    data = load_image_folder(folder, image_size=16)
    assert data.x.shape == (3, 3, 16, 16) and data.x.dtype == torch.uint8
    assert data.x[0, 0].float().mean() > 240                       # a.png is red
    assert len(load_image_folder(folder, image_size=16, max_images=2)) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no .jpg or .png images"):
        load_image_folder(tmp_path / "empty", image_size=16)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere", image_size=16)


def test_max_images_must_be_positive():
    with pytest.raises(ValueError, match=r"^max_images=0 is not allowed"):
        load_faces("offline", max_images=0)


# --- batching across processes -------------------------------------------------------------------

def test_batches_of_two_ranks_are_disjoint_and_cover_each_epoch():
    data = InMemoryData(torch.arange(12.0).unsqueeze(1), torch.arange(12))
    orders = []
    for epoch in (0, 1):
        seen = []
        for rank in (0, 1):
            for x, y in data.batches(batch_size=3, epoch=epoch, seed=7, rank=rank, world_size=2):
                assert torch.equal(x[:, 0].long(), y)            # labels travel with their items
                seen.append(y)
        seen = torch.cat(seen)
        assert sorted(seen.tolist()) == list(range(12))         # disjoint and complete
        orders.append(seen)
    assert not torch.equal(orders[0], orders[1])                # a new permutation each epoch
