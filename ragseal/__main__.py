"""``python -m ragseal``: the same as the ``ragseal`` command."""

from ragseal.api.cli import main

main()
