"""Directory vocabularies: the trafficking-specific service taxonomy and eligibility codes.

Service types and eligibility are stored the HSDS way: ``taxonomy_term`` rows (taxonomy
``harbour-services`` / ``harbour-eligibility``) linked to services by ``attribute`` rows.
"""

from __future__ import annotations

from harbour.core.choices import Choice
from harbour.core.i18n import N_

SERVICE_TAXONOMY = "harbour-services"
ELIGIBILITY_TAXONOMY = "harbour-eligibility"
FEATURE_TAXONOMY = "harbour-features"


class ServiceType(Choice):
    emergency_shelter = "emergency_shelter", N_("Emergency shelter")
    transition_housing = "transition_housing", N_("Transition housing")
    long_term_housing = "long_term_housing", N_("Long-term housing")
    counselling = "counselling", N_("Counselling and mental health")
    addiction = "addiction", N_("Addiction services")
    medical = "medical", N_("Medical care")
    sexual_health = "sexual_health", N_("Sexual health")
    legal_aid = "legal_aid", N_("Legal aid")
    immigration = "immigration", N_("Immigration and TRP help")
    employment = "employment", N_("Employment")
    financial = "financial", N_("Financial help")
    interpretation = "interpretation", N_("Interpretation")
    indigenous_healing = "indigenous_healing", N_("Indigenous healing and Elders")
    culturally_specific = "culturally_specific", N_("Culturally specific services")
    youth = "youth", N_("Youth services")
    lgbtq = "lgbtq", N_("2SLGBTQI+ services")
    document_replacement = "document_replacement", N_("Document replacement")
    tattoo_removal = "tattoo_removal", N_("Tattoo removal")
    victim_quick_response = "victim_quick_response", N_("Victim Quick Response")
    other = "other", N_("Other")


# What a hotline case need (hotline.choices.Need) asks of the directory.
NEED_TO_SERVICE: dict[str, list[str]] = {
    "emergency_shelter": ["emergency_shelter"],
    "transition_housing": ["transition_housing", "long_term_housing"],
    "counselling": ["counselling"],
    "medical": ["medical", "sexual_health"],
    "legal": ["legal_aid"],
    "immigration": ["immigration"],
    "interpretation": ["interpretation"],
    "transportation": ["victim_quick_response"],
    "financial": ["financial", "victim_quick_response"],
    "document_replacement": ["document_replacement"],
    "tattoo_removal": ["tattoo_removal"],
    "indigenous_healing": ["indigenous_healing"],
    "other": ["other"],
}


class EligibleGender(Choice):
    women = "women", N_("Women")
    men = "men", N_("Men")
    gender_diverse = "gender_diverse", N_("Two-Spirit, trans and non-binary people")


class EligibleStatus(Choice):
    citizen = "citizen", N_("Citizens and permanent residents")
    temporary = "temporary", N_("Temporary residents and workers")
    refugee_claimant = "refugee_claimant", N_("Refugee claimants")
    no_status = "no_status", N_("People without status")


class SurvivorType(Choice):
    sex = "sex_trafficking", N_("Survivors of sex trafficking")
    labour = "labour_trafficking", N_("Survivors of labour trafficking")


class Feature(Choice):
    open_24_7 = "open_24_7", N_("Open 24/7")
    indigenous_led = "indigenous_led", N_("Indigenous-led")
    wheelchair = "wheelchair_accessible", N_("Wheelchair accessible")


class VettingStatus(Choice):
    pending = "pending", N_("Pending")
    vetted = "vetted", N_("Vetted")
    suspended = "suspended", N_("Suspended")
    rejected = "rejected", N_("Rejected")


class ServiceStatus(Choice):
    active = "active", N_("Active")
    inactive = "inactive", N_("Inactive")
    defunct = "defunct", N_("Defunct")
    temporarily_closed = "temporarily closed", N_("Temporarily closed")


class LocationType(Choice):
    physical = "physical", N_("Physical")
    postal = "postal", N_("Postal")
    virtual = "virtual", N_("Virtual")
    redacted = "redacted", N_("Confidential (address withheld)")


class ReferralStatus(Choice):
    sent = "sent", N_("Sent, waiting for the provider")
    accepted = "accepted", N_("Accepted")
    declined = "declined", N_("Declined")
    completed = "completed", N_("Completed")
    revoked = "revoked", N_("Revoked by the hotline")


class DeclineReason(Choice):
    no_capacity = "no_capacity", N_("No capacity right now")
    not_eligible = "not_eligible", N_("Not eligible for this service")
    cannot_reach = "cannot_reach", N_("Could not reach the person")
    not_appropriate = "not_appropriate", N_("Service not appropriate")
    other = "other", N_("Other")


class ReferralOutcome(Choice):
    service_provided = "service_provided", N_("Service provided")
    ongoing_support = "ongoing_support", N_("Ongoing support")
    did_not_attend = "did_not_attend", N_("Person did not attend")
    withdrew = "withdrew", N_("Person withdrew")
    transferred = "transferred", N_("Transferred to another provider")
    other = "other", N_("Other")


class SharedField(Choice):
    """What an advocate may choose to send with a referral: nothing else of the case is visible."""

    alias = "alias", N_("Name or alias")
    language = "language", N_("Language")
    needs = "needs", N_("Needs")
    age_band = "age_band", N_("Age")
    gender = "gender", N_("Gender")
    callback_phone = "callback_phone", N_("Safe call-back number")
    safe_times = "safe_times", N_("Safe times to call")
    code_word = "code_word", N_("Code word")
