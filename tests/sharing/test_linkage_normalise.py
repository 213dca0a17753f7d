"""Normalisation before linkage: phones (E.164), dates, names, nicknames, postal codes (synthetic values)."""

from __future__ import annotations

import pandas as pd
import pytest

from harbour.sharing.nicknames import canonical_given
from harbour.sharing.normalise import BadDate, name_key, parse_date, phone_e164, prepare


@pytest.mark.parametrize("raw", ["(416) 555-0123", "416-555-0123", "4165550123", "+1 416 555 0123",
                                 "1-416-555-0123", "416.555.0123"])
def test_phones_become_e164(raw):
    assert phone_e164(raw) == "+14165550123"


def test_foreign_and_impossible_phones():
    assert phone_e164("+44 20 7946 0018") == "+442079460018"
    assert phone_e164("12") is None
    assert phone_e164("not a phone") is None


@pytest.mark.parametrize(("raw", "iso"), [("1985-03-07", "1985-03-07"), ("19850307", "1985-03-07"),
                                          (" 1985-03-07 ", "1985-03-07")])
def test_dates(raw, iso):
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["1985-02-30", "07/03/1985", "1985-3-7", "yesterday", "1985-13-01"])
def test_bad_dates(raw):
    assert parse_date(raw) is None


def test_strict_dates_report_row_positions_not_values():
    frame = pd.DataFrame({"record_id": ["1", "2", "3"], "agency": ["A"] * 3,
                          "date_of_birth": ["1985-03-07", "1985-02-30", ""]})
    with pytest.raises(BadDate) as exc:
        prepare(frame, strict_dates=True)
    assert exc.value.positions == [1]
    assert "1985" not in str(exc.value)
    # lenient mode: the bad date is simply missing
    assert prepare(frame)["dob"].tolist() == ["1985-03-07", None, None]


def test_names_accents_and_punctuation():
    assert name_key("Côté-St Pierre") == "cotestpierre"
    assert name_key("O'Brien") == name_key("OBRIEN") == "obrien"
    assert name_key("Sainte-Marie") == name_key("Ste Marie") == "stmarie"


@pytest.mark.parametrize(("a", "b"), [("bob", "robert"), ("bill", "william"), ("guillaume", "william"),
                                      ("jean", "john"), ("marie", "mary"), ("pierre", "peter"),
                                      ("jacques", "james"), ("francois", "francis")])
def test_nicknames_and_french_english_variants(a, b):
    assert canonical_given(a) == canonical_given(b)


def test_unrelated_names_stay_apart():
    assert canonical_given("robert") != canonical_given("william")
    assert canonical_given("zoltan") == "zoltan"


def test_prepare_columns():
    frame = pd.DataFrame([{"record_id": " 7 ", "agency": "SYN-TOR", "given_name": "Élodie", "surname": "Côté",
                           "date_of_birth": "1990-04-12", "phone": "(514) 555-0142", "email": "E.Cote@Example.org",
                           "postal_code": "h2x 1y4", "street_address": "12 rue Saint-Denis", "city": "Montréal",
                           "sex": "Female"}])
    row = prepare(frame).iloc[0]
    assert row["uid"] == "SYN-TOR|7"
    assert row["given"] == "elodie" and row["surname"] == "cote"
    assert row["dob"] == "1990-04-12" and row["dob_swap"] == "1990-12-04"
    assert row["phone"] == "+15145550142" and row["phone_local"] == "5550142"
    assert row["email"] == "e.cote@example.org" and row["email_user"] == "ecote"
    assert row["postal"] == "H2X1Y4" and row["postal_fsa"] == "H2X"
    assert row["street"] == "12 st st denis"
    assert row["city"] == "montreal"
    assert row["sex"] == "f"
    assert row["given_meta"] and row["surname_meta"]


def test_prepare_tolerates_missing_columns_and_blanks():
    out = prepare(pd.DataFrame([{"record_id": "1", "agency": "A", "given_name": "  "}]))
    assert out.iloc[0]["given"] is None and out.iloc[0]["dob"] is None and out.iloc[0]["phone"] is None


def test_vectorised_phones_agree_with_phonenumbers():
    from harbour.sharing.normalise import phones_e164

    raw = ["(416) 555-0123", "+1 514 555 0199", "1-902-555-0142", "604.555.0100", "+44 20 7946 0018",
           "416 555 0123 ext 4", "0123456789", "555-0123", "+1 (819) 555-0111", None, "tel: 416 555 0123"]
    vectorised = phones_e164(pd.Series(raw, dtype="string")).tolist()
    one_by_one = [phone_e164(r) if r else None for r in raw]
    assert [None if pd.isna(v) else v for v in vectorised] == one_by_one
