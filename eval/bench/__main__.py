"""Entry point for `python -m eval.bench`."""

import sys

from eval.bench.run import main

sys.exit(main())
