"""Ingest: good and bad rows, idempotent re-ingest, own agency only, encryption at rest, other record types."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from tests.conftest import actor_of
from tests.sharing.conftest import PERSON_HEADER, ingest_people, person_row

from harbour.core.errors import Forbidden, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.sharing import ingest
from harbour.sharing.models import Occurrence, Person, PersonKey, Phone


def _csv(*lines: str) -> str:
    return PERSON_HEADER + "".join(line + "\n" for line in lines)


def test_csv_good_and_bad_rows_reported_good_kept(db, world):
    data = _csv(
        "T-1,TPS,Alexa,,Testperson,1990-04-12,F,416-555-0142,a1@example.org,1 Fictional Way,Toronto,ON,M5V 1A1",
        "T-2,TPS,Bo,,Sampleton,12/04/1990,M,,,,,,",          # date not YYYY-MM-DD
        "T-3,TPS,,,,,,,,,,,",                                # only the required columns: fine
        ",TPS,Cy,,Nobody,,,,,,,,",                           # no record id
        "T-5,TPS,Di,,Fake,1991-02-30,X,call-me-maybe,nope,,,ZZ,12345",  # several problems
        "T-6,SPVM,Ed,,Other,,,,,,,,",                        # another agency
        "T-1,TPS,Alexa,,Again,,,,,,,,",                      # duplicate of row 2
    )
    batch = ingest.ingest_csv(db, actor=actor_of(world.analyst["TPS"]), record_type="person", data=data.encode(),
                              source_system="RMS-test", filename="people.csv")
    db.commit()
    assert (batch.rows_total, batch.rows_created, batch.rows_failed) == (7, 2, 5)
    by_row = {p["row"]: {e["field"] for e in p["errors"]} for p in batch.problems}
    assert by_row[3] == {"date_of_birth"}
    assert "record_id" in by_row[5]
    assert {"date_of_birth", "phone", "email", "province", "postal_code"} <= by_row[6]
    assert by_row[7] == {"agency"}
    assert by_row[8] == {"record_id"}
    stored = {p.record_id for p in db.execute(select(Person)).scalars()}
    assert stored == {"T-1", "T-3"}
    person = db.execute(select(Person).where(Person.record_id == "T-1")).scalar_one()
    assert person.phones == ["+14165550142"] and person.date_of_birth == "1990-04-12"
    assert person.addresses[0]["postal_code"] == "M5V 1A1" and person.province == "ON"
    assert person.source_system == "RMS-test" and person.batch_id == batch.id
    assert person.ingested_by_id == world.analyst["TPS"].id
    # the report never carries values
    assert "Sampleton" not in str(batch.problems) and "call-me-maybe" not in str(batch.problems)


def test_identifying_fields_encrypted_at_rest_with_blind_index(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    raw = db.execute(text("SELECT given_name, surname, date_of_birth, phones FROM sharing_person")).one()
    assert all(value.startswith("enc1:") for value in raw)
    assert "Testperson" not in str(raw)
    keys = {k.kind for k in db.execute(select(PersonKey)).scalars()}
    assert keys == {"phone", "email"}


def test_reingest_is_idempotent_and_updates_changes(db, world):
    rows = [person_row("TPS", "T-1"), person_row("TPS", "T-2", given="Bea")]
    first = ingest_people(db, world.analyst["TPS"], rows)
    again = ingest_people(db, world.analyst["TPS"], rows)
    assert (first.rows_created, again.rows_created, again.rows_unchanged, again.rows_updated) == (2, 0, 2, 0)
    changed = [person_row("TPS", "T-1", city="Ottawa"), rows[1]]
    third = ingest_people(db, world.analyst["TPS"], changed)
    assert (third.rows_updated, third.rows_unchanged) == (1, 1)
    assert db.execute(select(Person).where(Person.record_id == "T-1")).scalar_one().addresses[0]["city"] == "Ottawa"
    assert len(db.execute(select(Person)).scalars().all()) == 2


def test_same_record_id_in_two_agencies_is_two_records(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "X-1")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "X-1")])
    assert len(db.execute(select(Person).where(Person.record_id == "X-1")).scalars().all()) == 2


def test_only_members_of_the_agency_ingest_for_it(db, world):
    # a member ingests for their own agency (allowed) ...
    batch = ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1")])
    assert batch.rows_created == 1
    # ... rows for another agency are refused row by row, nothing stored for that agency
    batch = ingest_people(db, world.analyst["SPVM"], [person_row("TPS", "T-9")])
    assert batch.rows_created == 0 and batch.problems[0]["errors"][0]["field"] == "agency"
    assert db.execute(select(Person).where(Person.agency_id == world.agency["TPS"].id)).first() is None
    # users outside any agency, and roles that do not handle agency records, are refused outright
    for user in (world.loner, world.advocate, world.admin):
        with pytest.raises(Forbidden):
            ingest.ingest(db, actor=actor_of(user), record_type="person", rows=[person_row("TPS", "T-1")],
                          source_system="x")
        db.rollback()


def test_whole_file_problems(db, world):
    actor = actor_of(world.analyst["TPS"])
    with pytest.raises(ValidationFailed):
        ingest.ingest_csv(db, actor=actor, record_type="person", data=b"name,city\nA,B\n", source_system="x")
    with pytest.raises(ValidationFailed):
        ingest.ingest_csv(db, actor=actor, record_type="person", data=PERSON_HEADER.replace("city", "town").encode(),
                          source_system="x")
    with pytest.raises(ValidationFailed):
        ingest.ingest_csv(db, actor=actor, record_type="person", data="record_id,agency\n".encode("utf-16"),
                          source_system="x")
    with pytest.raises(ValidationFailed):
        ingest.ingest_csv(db, actor=actor, record_type="person", data=PERSON_HEADER.encode(), source_system="x")


def test_occurrences_and_phones_link_to_own_people_only(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1")])
    actor = actor_of(world.analyst["TPS"])
    batch = ingest.ingest(db, actor=actor, record_type="occurrence", source_system="RMS", rows=[
        {"record_id": "O-1", "agency": "TPS", "occurred_on": "2025-03-01", "jurisdiction": "ON",
         "offence_codes": ["279.01", "CC-286.2", "IRPA 118"], "people": [{"person_record_id": "T-1", "role": "victim"}]},
        {"record_id": "O-2", "agency": "TPS", "occurred_on": "2025-03-02", "jurisdiction": "XX",
         "offence_codes": ["999.9"]},
        {"record_id": "O-3", "agency": "TPS", "occurred_on": "2025-03-03", "jurisdiction": "ON",
         "people": [{"person_record_id": "S-1"}]},  # SPVM's person: not ours
    ])
    db.commit()
    assert batch.rows_created == 1
    fields = {p["record_id"]: {e["field"] for e in p["errors"]} for p in batch.problems}
    assert fields["O-2"] == {"jurisdiction", "offence_codes"} and fields["O-3"] == {"people"}
    occ = db.execute(select(Occurrence)).scalar_one()
    assert occ.offence_codes == ["CC-279.01", "CC-286.2", "IRPA-118"] and occ.jurisdiction == "ON"
    assert [p.role for p in occ.people] == ["victim"]
    batch = ingest.ingest(db, actor=actor, record_type="phone", source_system="RMS", rows=[
        {"record_id": "P-1", "agency": "TPS", "number": "(416) 555-0142", "person_record_id": "T-1"},
        {"record_id": "P-2", "agency": "TPS", "number": "416-555-0143", "person_record_id": "S-1"},
    ])
    db.commit()
    assert batch.rows_created == 1 and batch.problems[0]["record_id"] == "P-2"
    assert db.execute(select(Phone)).scalar_one().number == "+14165550142"


def test_ingest_is_audited_without_personal_data(db, world):
    batch = ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "ingest")).scalar_one()
    assert entry.record_id == str(batch.id) and entry.purpose == "data_quality"
    assert "Testperson" not in str(entry.detail)
