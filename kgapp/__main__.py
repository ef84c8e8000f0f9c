"""`python -m kgapp …` is the same as the `kgapp` command."""

from kgapp.cli import main

main()
