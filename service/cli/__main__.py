"""`python -m service.cli` runs the `jiebang` command."""

from service.cli.main import app

app()
