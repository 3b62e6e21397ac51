"""``python -m livingmeta.cli``: the same as the ``livingmeta`` command."""

import sys

from livingmeta.cli import main

if __name__ == "__main__":
    sys.exit(main())
