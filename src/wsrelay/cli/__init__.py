"""The ``wsrelay`` command line: the dispatcher (`wsrelay.cli.main`) and what every subcommand shares."""
