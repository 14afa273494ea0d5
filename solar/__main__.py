"""`python -m solar <command> ...` — the command-line interface (commands live in solar/cli/)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
