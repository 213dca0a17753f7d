"""`harbour directory ...` commands."""

import typer

app = typer.Typer(help="Service-provider directory (Open Referral HSDS).", no_args_is_help=True)
