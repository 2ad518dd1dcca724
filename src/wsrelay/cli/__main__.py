"""``python -m wsrelay.cli``: the ``wsrelay`` command."""

import sys

try:
    from wsrelay.cli.main import entry
except KeyboardInterrupt:  # Ctrl-C during the imports: the same exits as `entry` gives
    sys.exit(0 if sys.argv[1:2] == ["serve"] else 130)

sys.exit(entry())
