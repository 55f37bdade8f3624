"""`python -m gankit COMMAND ...`: the instructor's command line.

    python -m gankit run   NOTEBOOK... --profile P [-p NAME VALUE]... --out DIR
    python -m gankit train {dcgan,mnist} --profile P [--data-dir DIR] --out DIR
    python -m gankit edition student --out notebooks/student [--check]

`run` executes notebooks with papermill and writes an index of their metrics (gankit.cli.run);
`train` runs a notebook's training outside Jupyter, also under torchrun (gankit.cli.train);
`edition` writes the student edition of the notebooks, solutions stubbed (gankit.cli.edition).
`python -m gankit COMMAND --help` explains each one.
"""
from __future__ import annotations

import sys

COMMANDS = ("run", "train", "edition")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from gankit.cli.run import main as run_main
        return run_main(rest)
    if command == "train":
        from gankit.cli.train import main as train_main
        return train_main(rest)
    if command == "edition":
        from gankit.cli.edition import main as edition_main
        return edition_main(rest)
    print(f"gankit: unknown command {command!r}: use one of {', '.join(COMMANDS)} "
          "(python -m gankit --help)", file=sys.stderr)
    return 2

