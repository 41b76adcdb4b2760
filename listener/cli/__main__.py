"""`python -m listener.cli`: the `listener` command."""

from listener.cli.main import main

main()
