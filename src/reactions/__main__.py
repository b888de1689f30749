"""`python -m reactions` runs the CLI."""

from reactions.cli import main

main()
