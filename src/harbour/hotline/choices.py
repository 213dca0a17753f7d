"""Hotline vocabularies (labels in the EN/FR catalogues).

Indicator, means-of-control and recruitment lists follow the common screening
indicators used by Canadian hotlines and IOM's HTCDS 2.0 / CTDC variables, so the
statistics export can map them one-to-one.
"""

from __future__ import annotations

from harbour.core.choices import Choice
from harbour.core.i18n import N_


class Channel(Choice):
    phone = "phone", N_("Phone")
    web_chat = "web_chat", N_("Web chat")
    text = "text", N_("Text message")
    email = "email", N_("Email")
    web_form = "web_form", N_("Web form")
    tty = "tty", N_("TTY")


class CallerType(Choice):
    victim = "victim", N_("Victim or survivor")
    family_friend = "family_friend", N_("Family member or friend")
    community = "community", N_("Community member")
    service_provider = "service_provider", N_("Service provider")
    law_enforcement = "law_enforcement", N_("Law enforcement")
    other = "other", N_("Other")


class Classification(Choice):
    information = "information", N_("Information or general request")
    tip = "tip", N_("Tip (signal)")
    potential_case = "potential_case", N_("Potential trafficking case")
    crisis = "crisis", N_("Crisis or high risk")


class ContactSource(Choice):
    console = "console", N_("Hotline console")
    api = "api", N_("API")
    public_tip_form = "public_tip_form", N_("Public tip form")


class CaseStatus(Choice):
    open = "open", N_("Open")
    referred = "referred", N_("Referred")
    follow_up = "follow_up", N_("Follow-up")
    closed = "closed", N_("Closed")


class CaseOutcome(Choice):
    services_connected = "services_connected", N_("Connected to services")
    reported_to_police = "reported_to_police", N_("Reported to law enforcement")
    declined_services = "declined_services", N_("Survivor declined services")
    lost_contact = "lost_contact", N_("Lost contact")
    not_trafficking = "not_trafficking", N_("Not trafficking; other help given")
    duplicate = "duplicate", N_("Duplicate of another case")
    other = "other", N_("Other")


class RiskLevel(Choice):
    low = "low", N_("Low")
    medium = "medium", N_("Medium")
    high = "high", N_("High")
    imminent = "imminent", N_("Imminent danger")


class AgeBand(Choice):
    under_12 = "0-11", N_("Under 12")
    age_12_17 = "12-17", N_("12 to 17")
    age_18_24 = "18-24", N_("18 to 24")
    age_25_34 = "25-34", N_("25 to 34")
    age_35_49 = "35-49", N_("35 to 49")
    age_50_plus = "50+", N_("50 or older")
    unknown = "unknown", N_("Unknown")


class Gender(Choice):
    woman = "woman", N_("Woman or girl")
    man = "man", N_("Man or boy")
    two_spirit = "two_spirit", N_("Two-Spirit")
    non_binary = "non_binary", N_("Non-binary or another gender")
    unknown = "unknown", N_("Unknown or not said")


class Citizenship(Choice):
    citizen = "citizen", N_("Canadian citizen")
    permanent_resident = "permanent_resident", N_("Permanent resident")
    temporary_worker = "temporary_worker", N_("Temporary foreign worker")
    international_student = "international_student", N_("International student")
    visitor = "visitor", N_("Visitor")
    refugee_claimant = "refugee_claimant", N_("Refugee claimant")
    no_status = "no_status", N_("No status")
    unknown = "unknown", N_("Unknown")


class Exploitation(Choice):
    sex = "sex", N_("Sex trafficking")
    labour = "labour", N_("Labour trafficking")
    forced_marriage = "forced_marriage", N_("Forced marriage")
    organ = "organ", N_("Organ or tissue trafficking")
    domestic_servitude = "domestic_servitude", N_("Domestic servitude")
    forced_criminality = "forced_criminality", N_("Forced criminality")
    child = "child", N_("Child trafficking")
    other = "other", N_("Other exploitation")


class Indicator(Choice):
    documents_withheld = "documents_withheld", N_("Identity or travel documents withheld")
    movement_restricted = "movement_restricted", N_("Movement restricted or always accompanied")
    debt_bondage = "debt_bondage", N_("Debt that cannot be paid off")
    threats = "threats", N_("Threats against the person or family")
    earnings_taken = "earnings_taken", N_("Earnings taken or controlled")
    physical_violence = "physical_violence", N_("Physical or sexual violence")
    isolation = "isolation", N_("Isolated from family, friends or community")
    lives_at_work = "lives_at_work", N_("Lives where they work")
    scripted_answers = "scripted_answers", N_("Answers seem coached or scripted")
    branding = "branding", N_("Branding or tattoos of ownership")
    excessive_hours = "excessive_hours", N_("Excessive working hours")
    deceptive_recruitment = "deceptive_recruitment", N_("Job or relationship was not what was promised")
    substance_coercion = "substance_coercion", N_("Drugs or alcohol used to control")
    minor_in_sex_trade = "minor_in_sex_trade", N_("A minor in the sex trade")


class Recruitment(Choice):
    intimate_partner = "intimate_partner", N_("Intimate partner (\"lover boy\")")
    family_member = "family_member", N_("Family member")
    friend_acquaintance = "friend_acquaintance", N_("Friend or acquaintance")
    job_offer = "job_offer", N_("Job offer or recruiter")
    online = "online", N_("Online or social media")
    abduction = "abduction", N_("Abduction")
    other = "other", N_("Other")
    unknown = "unknown", N_("Unknown")


class ControlMeans(Choice):
    threats = "threats", N_("Threats")
    physical_abuse = "physical_abuse", N_("Physical abuse")
    sexual_abuse = "sexual_abuse", N_("Sexual abuse")
    psychological_abuse = "psychological_abuse", N_("Psychological abuse")
    debt = "debt", N_("Debt bondage")
    takes_earnings = "takes_earnings", N_("Takes earnings")
    restricts_movement = "restricts_movement", N_("Restricts movement")
    withholds_documents = "withholds_documents", N_("Withholds documents")
    withholds_necessities = "withholds_necessities", N_("Withholds food, sleep or medical care")
    psychoactive_substances = "psychoactive_substances", N_("Psychoactive substances")
    threat_of_law_enforcement = "threat_of_law_enforcement", N_("Threatens with police or deportation")
    false_promises = "false_promises", N_("False promises")
    other = "other", N_("Other")


class Need(Choice):
    emergency_shelter = "emergency_shelter", N_("Emergency shelter")
    transition_housing = "transition_housing", N_("Transition housing")
    counselling = "counselling", N_("Counselling")
    medical = "medical", N_("Medical care")
    legal = "legal", N_("Legal help")
    immigration = "immigration", N_("Immigration or TRP help")
    interpretation = "interpretation", N_("Interpretation")
    transportation = "transportation", N_("Transportation")
    financial = "financial", N_("Financial help")
    document_replacement = "document_replacement", N_("Document replacement")
    tattoo_removal = "tattoo_removal", N_("Tattoo removal")
    indigenous_healing = "indigenous_healing", N_("Indigenous healing or Elder")
    other = "other", N_("Other")


class ConsentPurpose(Choice):
    referral = "referral", N_("Referral to service providers")
    law_enforcement = "law_enforcement", N_("Sharing with law enforcement")
    follow_up = "follow_up", N_("Follow-up contact")
    statistics = "statistics", N_("Inclusion in statistics")


class ConsentMethod(Choice):
    verbal = "verbal", N_("Verbal, on the call")
    written = "written", N_("Written")
    electronic = "electronic", N_("Electronic (chat, text or email)")
    guardian = "guardian", N_("Parent or guardian")


class YesNoUnknown(Choice):
    yes = "yes", N_("Yes")
    no = "no", N_("No")
    unknown = "unknown", N_("Not asked yet")


class TaskKind(Choice):
    general = "general", N_("General task")
    follow_up_contact = "follow_up_contact", N_("Follow-up contact with the survivor")


class AccessPurpose(Choice):
    """Why a personal record is opened; written to the audit log with every read."""

    case_management = "case_management", N_("Case management")
    supervision = "supervision", N_("Supervision")
    follow_up = "follow_up", N_("Follow-up")
    referral = "referral", N_("Referral")
    emergency = "emergency", N_("Emergency response")
    quality_review = "quality_review", N_("Quality review")


class EventKind(Choice):
    case_opened = "case_opened", N_("Case opened")
    contact_attached = "contact_attached", N_("Contact attached")
    case_updated = "case_updated", N_("Case details updated")
    status_changed = "status_changed", N_("Status changed")
    assigned = "assigned", N_("Assigned")
    consent_recorded = "consent_recorded", N_("Consent recorded")
    consent_revoked = "consent_revoked", N_("Consent revoked")
    override_requested = "override_requested", N_("Imminent-danger override requested")
    override_approved = "override_approved", N_("Imminent-danger override signed off")
    override_refused = "override_refused", N_("Imminent-danger override refused")
    task_added = "task_added", N_("Task added")
    task_done = "task_done", N_("Task completed")
    safety_plan_updated = "safety_plan_updated", N_("Safety plan updated")
    escalated_911 = "escalated_911", N_("Transferred to 9-1-1")
    note_added = "note_added", N_("Note added")
    referral_sent = "referral_sent", N_("Referral sent")
    referral_updated = "referral_updated", N_("Referral updated")


# Common interpretation languages (ISO 639-1/-3 codes); interpreters cover 200+ languages,
# so the form also accepts any other ISO 639 code typed in.
LANGUAGE_NAMES: dict[str, str] = {
    "en": N_("English"), "fr": N_("French"), "es": N_("Spanish"), "pt": N_("Portuguese"),
    "zh": N_("Chinese (Mandarin)"), "yue": N_("Cantonese"), "ko": N_("Korean"), "vi": N_("Vietnamese"),
    "tl": N_("Tagalog"), "th": N_("Thai"), "pa": N_("Punjabi"), "hi": N_("Hindi"), "ur": N_("Urdu"),
    "ar": N_("Arabic"), "fa": N_("Persian (Farsi)"), "uk": N_("Ukrainian"), "ru": N_("Russian"),
    "ro": N_("Romanian"), "hu": N_("Hungarian"), "so": N_("Somali"), "ti": N_("Tigrinya"),
    "am": N_("Amharic"), "sw": N_("Swahili"), "ht": N_("Haitian Creole"), "iu": N_("Inuktitut"),
    "cr": N_("Cree"), "oj": N_("Ojibwe"), "mic": N_("Mi'kmaq"), "ta": N_("Tamil"), "ne": N_("Nepali"),
    "ase": N_("American Sign Language"), "fcs": N_("Quebec Sign Language (LSQ)"),
}
