"""`python -m infra ...`: the platform's command line (see `python -m infra --help`)."""

import sys

try:
    from infra.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C before a command took over (imports, argument parsing)
    sys.stderr.write("interrupted: before the command started; nothing was changed. Resume: re-run the command.\n")
    code = 130
sys.exit(code)
