"""`harbour link ...` and `harbour pprl ...`: offline record linkage and privacy-preserving encodings.

Errors are one clear line on stderr (exit 2), never a traceback, and never quote personal data.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from harbour.core.i18n import _

link_app = typer.Typer(help="Offline person linkage: canonical person CSVs and privacy-preserving encodings.",
                       no_args_is_help=True)
pprl_app = typer.Typer(help="Privacy-preserving linkage: keyed Bloom-filter encodings (CLKs) of person records.",
                       no_args_is_help=True)

MAX_PROBLEMS_SHOWN = 20


def _fail(message: str, problems: list[str] | None = None) -> None:
    typer.echo(_("error: %(problem)s", problem=message), err=True)
    for line in (problems or [])[:MAX_PROBLEMS_SHOWN]:
        typer.echo(f"  {line}", err=True)
    if problems and len(problems) > MAX_PROBLEMS_SHOWN:
        typer.echo(_("  ... and %(n)s more", n=len(problems) - MAX_PROBLEMS_SHOWN), err=True)
    raise typer.Exit(2)


def _load_model(path: Path | None):
    from harbour.sharing.linkage import LinkageModel, default_model

    if path is None:
        return default_model()
    if not path.is_file():
        _fail(_("no such model file: %(path)s", path=path))
    try:
        return LinkageModel.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(_("%(path)s: %(problem)s", path=path, problem=str(exc)))


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        _fail(_("--threshold must be between 0 and 1 (exclusive)"))


@link_app.command("csv")
def link_csv_cmd(
        input_csv: Path = typer.Argument(..., help="Canonical person CSV (record_id,agency,given_name,...)"),
        out: Path = typer.Option(..., "--out", help="Where to write record_id,entity_id,agency"),
        model: Path = typer.Option(None, "--model", help="A model JSON from `harbour link train` "
                                                         "(default: the model shipped with Harbour)"),
        threshold: float = typer.Option(0.95, help="Match probability at or above which records are linked")) -> None:
    """Link a canonical person CSV and write one entity id per record (record ids are unique per agency,
    so the agency is the third column)."""
    from harbour.sharing.linkage import LinkageInputError, link_csv

    _check_threshold(threshold)
    linkage_model = _load_model(model)
    try:
        summary = link_csv(input_csv, out, model=linkage_model, threshold=threshold)
    except LinkageInputError as exc:
        _fail(str(exc), exc.problems)
    except OSError as exc:
        _fail(_("cannot write %(path)s: %(reason)s", path=out, reason=exc.strerror or exc))
    typer.echo(_("%(records)s records -> %(entities)s entities (%(cross)s spanning several agencies), "
                 "%(pairs)s linked pairs; written to %(out)s",
                 records=summary["records"], entities=summary["entities"], cross=summary["cross_agency_entities"],
                 pairs=summary["pairs"], out=out))


@link_app.command("train")
def link_train_cmd(
        input_csv: Path = typer.Argument(..., help="Canonical person CSV to learn from (no labels needed)"),
        out: Path = typer.Option(..., "--out", help="Where to write the model JSON"),
        seed: int = typer.Option(42, help="Seed of the random sampling (reproducible u probabilities)")) -> None:
    """Train a linkage model without labels (u by random sampling, m by EM) and save it, versioned."""
    from harbour.sharing.linkage import LinkageInputError, read_canonical_csv, train

    try:
        frame = read_canonical_csv(input_csv)
        trained = train(frame, seed=seed)
    except LinkageInputError as exc:
        _fail(str(exc), exc.problems)
    try:
        out.write_text(trained.to_json(), encoding="utf-8")
    except OSError as exc:
        _fail(_("cannot write %(path)s: %(reason)s", path=out, reason=exc.strerror or exc))
    typer.echo(_("model %(version)s trained on %(n)s records; written to %(out)s", version=trained.version,
                 n=trained.trained_on, out=out))


def _read_document(path: Path) -> dict:
    from harbour.sharing.pprl import validate_document

    if not path.is_file():
        _fail(_("no such file: %(path)s", path=path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        _fail(_("%(path)s is not a JSON document", path=path))
    problems = validate_document(doc)
    if problems:
        _fail(_("%(path)s is not a valid encoding document", path=path), problems)
    return doc


@link_app.command("pprl")
def link_pprl_cmd(
        doc_a: Path = typer.Argument(..., help="Encodings from the first agency (harbour pprl encode)"),
        doc_b: Path = typer.Argument(..., help="Encodings from the second agency"),
        out: Path = typer.Option(..., "--out", help="Where to write record_id_a,record_id_b,score"),
        threshold: float = typer.Option(None, help="Sørensen-Dice similarity at or above which encodings match "
                                                   "(default: the schema's threshold)")) -> None:
    """Link two agencies' encodings without seeing names (anonlink: Dice similarity, greedy one-to-one)."""
    import csv

    from harbour.sharing.pprl import PprlError, match

    if threshold is not None:
        _check_threshold(threshold)
    a, b = _read_document(doc_a), _read_document(doc_b)
    try:
        pairs = match(a, b, threshold=threshold)
    except PprlError as exc:
        _fail(str(exc))
    try:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id_a", "record_id_b", "score"])
            for p in pairs:
                writer.writerow([p.record_id_a, p.record_id_b, f"{p.score:.4f}"])
    except OSError as exc:
        _fail(_("cannot write %(path)s: %(reason)s", path=out, reason=exc.strerror or exc))
    typer.echo(_("%(n)s matched pairs between %(a)s and %(b)s records; written to %(out)s", n=len(pairs),
                 a=len(a["records"]), b=len(b["records"]), out=out))


@pprl_app.command("encode")
def pprl_encode_cmd(
        input_csv: Path = typer.Argument(..., help="Canonical person CSV (one agency's records)"),
        secret_file: Path = typer.Option(..., "--secret-file", help="File holding the secret shared only among "
                                                                     "the agencies (at least 16 bytes)"),
        out: Path = typer.Option(..., "--out", help="Where to write the encodings JSON"),
        agency: str = typer.Option(None, help="Agency code written in the document (default: the CSV's agency "
                                              "column, which must then hold one agency)")) -> None:
    """Encode person records as keyed Bloom filters (CLKs); the output holds no names."""
    from harbour.sharing.linkage import LinkageInputError, read_canonical_csv
    from harbour.sharing.pprl import PprlError, encode_rows, read_secret

    try:
        secret = read_secret(secret_file)
        frame = read_canonical_csv(input_csv)
        if agency is None:
            agencies = sorted(set(frame["agency"].str.strip()) - {""})
            if len(agencies) != 1:
                _fail(_("the CSV holds %(n)s agencies; name the one to encode with --agency", n=len(agencies)))
            agency = agencies[0]
        else:
            frame = frame[frame["agency"].str.strip() == agency]
            if frame.empty:
                _fail(_("the CSV holds no records of agency %(agency)s", agency=agency))
        doc = encode_rows(frame, secret, agency=agency)
    except (LinkageInputError, PprlError) as exc:
        _fail(str(exc), getattr(exc, "problems", None))
    try:
        out.write_text(json.dumps(doc), encoding="utf-8")
    except OSError as exc:
        _fail(_("cannot write %(path)s: %(reason)s", path=out, reason=exc.strerror or exc))
    typer.echo(_("%(n)s records of %(agency)s encoded; written to %(out)s", n=len(doc["records"]), agency=agency,
                 out=out))
