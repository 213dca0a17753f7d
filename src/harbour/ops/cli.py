"""`harbour backup create | verify | restore` (the rules are in ``harbour.ops.backup``)."""

from __future__ import annotations

from pathlib import Path

import typer

from harbour.ops.manifest import BackupError

app = typer.Typer(help="Backups: consistent online snapshots, verified by restoring them; restore drills.",
                  no_args_is_help=True)

PASSPHRASE_HELP = "File holding the passphrase that seals the key ring (at least 12 characters; mode 0600)"


def _settings():
    from harbour.core.config import get_settings

    return get_settings()


def _fail(exc: BackupError, code: int = 2) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@app.command("create")
def create(folder: Path = typer.Argument(..., help="New or empty folder to write the backup into"),
           with_keys: bool = typer.Option(False, "--with-keys", help="Include the key ring, sealed with a passphrase"),
           passphrase_file: Path = typer.Option(None, "--passphrase-file", help=PASSPHRASE_HELP)) -> None:
    """Take a consistent snapshot while Harbour runs: database, statistics store, manifest with checksums."""
    from harbour.ops.backup import create_backup

    try:
        report = create_backup(folder, _settings(), with_keys=with_keys, passphrase_file=passphrase_file)
    except BackupError as exc:
        _fail(exc)
    for line in report.lines:
        typer.echo(line)


@app.command("verify")
def verify(folder: Path = typer.Argument(..., help="The backup folder"),
           passphrase_file: Path = typer.Option(None, "--passphrase-file",
                                                help="Prove the backup's own key ring opens it (instead of "
                                                     "HARBOUR_KEY_FILE)")) -> None:
    """Check every checksum, restore into a scratch database, prove the key ring opens it and the audit chain is
    intact; exit 1 naming what failed."""
    from harbour.ops.backup import verify_backup

    try:
        report = verify_backup(folder, _settings(), passphrase_file=passphrase_file)
    except BackupError as exc:
        _fail(exc, 1)
    for line in report.lines:
        typer.echo(line)
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"backup NOT verified: {len(report.problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("backup verified")


@app.command("restore")
def restore(folder: Path = typer.Argument(..., help="The backup folder"),
            force: bool = typer.Option(False, "--force", help="Replace a target that holds data (and, with "
                                                              "--with-keys, keep a different key file aside)"),
            with_keys: bool = typer.Option(False, "--with-keys", help="Use the backup's own key ring and write it "
                                                                      "to HARBOUR_KEY_FILE"),
            passphrase_file: Path = typer.Option(None, "--passphrase-file", help=PASSPHRASE_HELP),
            keys_only: bool = typer.Option(False, "--keys-only", help="With --with-keys: only put the backup's key "
                                                                      "ring back at HARBOUR_KEY_FILE (a lost key "
                                                                      "file), once it is proven to open the current "
                                                                      "database; the database is not touched")) -> None:
    """Restore into the empty database of HARBOUR_DATABASE_URL, after proving the key ring opens the backup."""
    from harbour.ops.backup import restore_backup

    try:
        report = restore_backup(folder, _settings(), force=force, with_keys=with_keys,
                                passphrase_file=passphrase_file, keys_only=keys_only)
    except BackupError as exc:
        _fail(exc)
    for line in report.lines:
        typer.echo(line)
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo("restored, but the restored database does NOT pass its checks (above)", err=True)
        raise typer.Exit(1)
    typer.echo("key ring restored" if keys_only else "restore complete")
