"""``python -m musiclib {fetch,card,calibrate} ...``: see :mod:`musiclib.tools.cli`."""

import sys

from musiclib.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
