"""``python -m solar.eval ...`` = ``python -m solar eval ...``."""
import sys

from solar.cli.eval import main

sys.exit(main())
