"""``python -m wsrelay.cli``: the ``wsrelay`` command."""

import sys

from wsrelay.cli.main import entry

sys.exit(entry())
