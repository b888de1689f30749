"""`reactions`: a thin click layer over the library, one module per audience. Importing the
command modules registers their commands on the group."""

from reactions.cli import admin, data, exports  # noqa: F401 - registers the commands
from reactions.cli.common import cli, main

__all__ = ["cli", "main"]
