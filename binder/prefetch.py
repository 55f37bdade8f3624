"""Binder's postBuild: fetch the course data into data/ while the image is built, so students start
with it (MNIST, LFW faces, the digit classifier). Every step is optional: without a network the
notebooks fall back to the offline data and say so."""
import time

from gankit.classifier import get_mnist_classifier
from gankit.data import load_mnist
from gankit.faces import load_faces


def step(name, fetch):
    start = time.perf_counter()
    try:
        fetch()
        print(f"prefetch: {name} ready in {time.perf_counter() - start:.0f} s")
    except Exception as error:  # a build must not fail for data the notebooks can do without
        print(f"prefetch: {name} skipped ({type(error).__name__}: {error})")


if __name__ == "__main__":
    step("MNIST (torchvision)", lambda: load_mnist("full"))
    step("LFW faces (scikit-learn)", lambda: load_faces("full", image_size=32))
    step("digit classifier", lambda: get_mnist_classifier("auto"))
