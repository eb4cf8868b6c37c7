"""`python -m infra ...`: the platform's command line (see `python -m infra --help`)."""

import sys

from infra.cli import main

sys.exit(main())
