"""``python -m solar.eval ...`` — the ``solar eval`` command, usable before ``python -m solar`` exists."""
import sys

from solar.cli.eval import main

sys.exit(main())
