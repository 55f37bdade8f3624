"""`python -m gankit`: see gankit/cli/__init__.py."""
import sys

from gankit.cli import main

if __name__ == "__main__":
    sys.exit(main())
