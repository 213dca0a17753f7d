"""Languages by name, never by code (issue 13): any ISO 639 code reads as Babel's name for it in English or
French ("moh" → Mohawk / Mohawk), on the contact page (language and interpreter language) and wherever the
console shows a language; an unknown code is shown as it is."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from harbour.core import formats
from harbour.hotline.models import Contact
from tests.conftest import csrf_of
from tests.display import visible_text


@pytest.mark.parametrize("code, en, fr", [
    ("moh", "Mohawk", "Mohawk"), ("crk", "Plains Cree", "Cri des plaines"), ("fr", "French", "Français"),
    ("iu", "Inuktitut", "Inuktitut"), ("pt-BR", "Brazilian Portuguese", "Portugais brésilien"),
    ("fcs", "Quebec Sign Language (LSQ)", "Langue des signes québécoise (LSQ)"),  # Harbour's own wording
])
def test_language_names_in_english_and_french(code, en, fr):
    assert formats.language_name(code, "en") == en
    assert formats.language_name(code, "fr") == fr


def test_language_names_inside_a_sentence_and_unknown_codes():
    assert formats.language_name("moh", "fr", in_sentence=True) == "mohawk"  # « Offert en mohawk »
    assert formats.language_name("fr", "fr", in_sentence=True) == "français"
    assert formats.language_name("fr", "en", in_sentence=True) == "French"
    assert formats.language_name("qqq", "en") == "qqq"  # unknown: the code itself
    assert formats.language_name("<b>", "en") == "<b>" and formats.language_name(None) == ""


def test_contact_page_names_the_language_and_the_interpreters(client, make_user, login, db):
    adv = make_user("hotline_advocate")
    assert login(adv).status_code == 303
    token = csrf_of(client, "/console/contacts/new")
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone", "language": "moh",
                                               "interpreter_language": "moh"}, follow_redirects=False)
    assert r.status_code == 303, r.text[-400:]
    contact = db.execute(select(Contact)).scalar_one()
    assert contact.language == "moh"
    page = visible_text(client.get(f"/console/contacts/{contact.id}").text)
    assert "Mohawk · interpreter: Mohawk" in page and not re.search(r"\bmoh\b", page)
    client.post("/account/language", data={"csrf_token": token, "language": "fr"})
    page = visible_text(client.get(f"/console/contacts/{contact.id}").text)
    assert "Mohawk · interprète\u00a0: Mohawk" in page and not re.search(r"\bmoh\b", page)
    # the edit form keeps a code that is not on its short list, by name, so saving keeps it
    form = client.get(f"/console/contacts/{contact.id}/edit").text
    assert re.search(r'<option value="moh" selected>Mohawk</option>', form)
