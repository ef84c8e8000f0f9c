"""`python -m kgapp …` is the same as the `kgapp` command."""

from .cli import main

main()
