"""French typography and agreement (issue 13): what the French catalogue and the templates write.

* A no-break space (U+00A0, or the narrow U+202F) comes before « : », « ; », « ! » and « ? », and inside
  guillemets, in every French message: never a plain space and never none.  Not punctuation: a URL's
  ``://``, a time like 08:30 or ``HH:MM``, an HTTP header quoted as is (``Content-Type:``), code such as
  ``word:word`` or a query string's ``?``.
* A template that puts « : » or « ; » after something it prints (a translated label, a value) writes it
  with ``colon()`` / ``punct(";")``, which add that space in French.
* Status words agree with what they describe: a case or a chat is « Fermé », a hit (une concordance) is
  « Fermée », an agreement (une entente) « Active », « Suspendue », « Révoquée »...
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from harbour.core import formats, i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "harbour"
PO = SRC / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
NO_BREAK = "\u00a0\u202f"
MARKS = ":;!?"


def _not_punctuation(text: str, i: int) -> bool:
    mark, before, after = text[i], text[max(0, i - 24):i], text[i + 1:i + 3]
    if mark == ":" and (after.startswith("//")  # https://
                        or (before[-1:].isdigit() and after[:1].isdigit())  # 08:30
                        or (before.endswith("HH") and after.startswith("MM"))
                        or re.search(r"Content-(Type|Disposition)$", before)  # an HTTP header, quoted
                        or (before[-1:].isalnum() and after[:1].isalnum())):  # code: word:word, ISO 3166-2:CA
        return True
    if mark == "?" and re.match(r"[\w=&]", after) and before[-1:] not in (" ",) + tuple(NO_BREAK):
        return True  # a query string (?lang=fr)
    return False


def spacing_faults(text: str) -> list[str]:
    """Every place ``text`` (French) lacks the no-break space before : ; ! ? or inside « »."""
    faults = []
    for i, ch in enumerate(text):
        if ch in MARKS and i > 0 and not _not_punctuation(text, i):
            before = text[i - 1]
            if before not in NO_BREAK and before not in MARKS + ".…":
                faults.append(f"{'a plain space' if before == ' ' else 'no space'} before {ch!r}: "
                              f"…{text[max(0, i - 25):i + 12]}…")
        elif ch == "«" and text[i + 1:i + 2] not in tuple(NO_BREAK):
            faults.append(f"no no-break space after «: …{text[i:i + 20]}…")
        elif ch == "»" and (i == 0 or text[i - 1] not in NO_BREAK):
            faults.append(f"no no-break space before »: …{text[max(0, i - 20):i + 1]}…")
    return faults


def _catalogue():
    with PO.open("rb") as fh:
        return read_po(fh, locale="fr")


def test_the_checker_finds_what_it_should_and_only_that():
    assert spacing_faults("Statut: ouvert") and spacing_faults("Statut : ouvert")
    assert spacing_faults("Bravo!") and spacing_faults("Vraiment ?") and spacing_faults("« oui »")
    assert not spacing_faults("Statut\u00a0: ouvert\u00a0; Bravo\u202f! Vraiment\u00a0? «\u00a0oui\u00a0»")
    assert not spacing_faults("https://example.org/x?lang=fr à 08:30 au format HH:MM (Content-Type: text/csv)")
    assert not spacing_faults("%(table)s\u00a0: colonne")
    assert spacing_faults("%(table)s: colonne")  # a placeholder is a word like any other


def test_the_french_catalogue_puts_a_no_break_space_before_high_punctuation():
    faults = []
    for message in _catalogue():
        if not message.id or not message.string:
            continue  # the header
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            faults += [f"{message.id!r}: {f}" for f in spacing_faults(text)]
    assert not faults, f"{len(faults)} French spacing faults:\n" + "\n".join(faults[:40])


TEMPLATE_PUNCT = re.compile(r"(\}\}|</[a-z]+>|%\}) ?[:;!?](?=[ <{]|$)", re.M)


def test_templates_write_punctuation_after_printed_text_the_french_way():
    found = []
    for path in sorted(SRC.rglob("templates/**/*.html")):
        if path.name == "report_css.html":
            continue  # a stylesheet
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(SRC)}:{n}: {m.group(0)!r}" for m in TEMPLATE_PUNCT.finditer(line)]
    assert not found, "use colon() / punct(';') after printed text:\n" + "\n".join(found)


@pytest.mark.parametrize("lang, expected", [("en", "Status: open; done!"), ("fr", "Status\u00a0: open\u00a0; done\u00a0!")])
def test_punct_and_labelled_follow_the_language(lang, expected):
    assert formats.labelled("Status", "open", lang) + formats.punct(";", lang) + " done" + formats.punct("!", lang) \
        == expected


def _fr(label) -> str:
    token = i18n.set_language("fr")
    try:
        return label.label if hasattr(label, "label") else i18n.gettext(label)
    finally:
        i18n.reset_language(token)


def test_status_words_agree_with_what_they_describe():
    from harbour.hotline.chat.choices import ChatStatus
    from harbour.hotline.choices import CaseStatus
    from harbour.plan.choices import ReviewState
    from harbour.sharing.choices import AgreementStatus, HitStatus, RequestStatus

    assert _fr(CaseStatus.closed) == "Fermé"  # un dossier
    assert _fr(ChatStatus.closed) == "Fermé"  # un clavardage
    assert _fr(HitStatus.closed) == "Fermée"  # une concordance
    assert (_fr(HitStatus.new), _fr(HitStatus.seen)) == ("Nouvelle", "Vue")
    assert [_fr(s) for s in (AgreementStatus.active, AgreementStatus.suspended, AgreementStatus.revoked,
                             AgreementStatus.expired)] == ["Active", "Suspendue", "Révoquée", "Expirée"]  # une entente
    assert [_fr(s) for s in (RequestStatus.approved, RequestStatus.denied, RequestStatus.withdrawn)] == [
        "Approuvée", "Refusée", "Retirée"]  # une demande
    assert [_fr(s) for s in (ReviewState.submitted, ReviewState.approved, ReviewState.rejected)] == [
        "Soumise pour examen", "Approuvée", "Renvoyée"]  # une mise à jour
    # the words stay English in English, context or not
    assert HitStatus.closed.label == "Closed" and AgreementStatus.active.label == "Active"


def test_shipped_plan_texts_in_french_follow_the_same_rules():
    import yaml

    faults = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "fr" and isinstance(value, str):
                    faults.extend(f"{where}: {f}" for f in spacing_faults(value))
                else:
                    walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for path in sorted((SRC / "plan" / "data").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    assert not faults, f"{len(faults)} French spacing faults in the shipped plans:\n" + "\n".join(faults[:20])
