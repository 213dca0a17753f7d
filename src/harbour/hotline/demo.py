"""Hotline demo data (called by `harbour demo`): synthetic, obviously fake, one demo login per role.

Everything goes through the service layer, so audit entries and case timelines
look exactly as they would in real use.  Nothing here describes a real person or
a real event: caller names start with ``DEMO ``, phone numbers sit in the
reserved fictional range 555-0100..0199, e-mail addresses use ``example.com``
(RFC 2606), and summaries are filled-in templates.  The same seed gives the same
data (apart from the random references the service draws, and times, which are
relative to now).  Loading is idempotent: once ``demo-advocate`` exists, nothing
but missing demo logins is added.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.choices import Role
from harbour.core.db import utcnow
from harbour.core.models import User
from harbour.core.security import create_user
from harbour.hotline import consent as consent_svc
from harbour.hotline import service
from harbour.hotline.models import Case, Contact
from harbour.hotline.schemas import (
    CaseCreate,
    CaseUpdate,
    ConsentCreate,
    ConsentRevoke,
    ContactCreate,
    EscalationCreate,
    OverrideDecision,
    OverrideRequest,
    SafetyPlanUpdate,
    TaskCreate,
    TaskUpdate,
)

FAKE_NAME_PREFIX = "DEMO "
MARKER_USERNAME = "demo-advocate"
SYSTEM = Actor.system("demo")

# username, role, display name, preferred language
DEMO_USERS: list[tuple[str, str, str, str]] = [
    ("demo-advocate", Role.hotline_advocate, "Demo Advocate (fictional)", "en"),
    ("demo-advocate2", Role.hotline_advocate, "Demo Intervenante 2 (fictive)", "fr"),
    ("demo-advocate3", Role.hotline_advocate, "Demo Advocate 3 (fictional)", "en"),
    ("demo-advocate4", Role.hotline_advocate, "Demo Advocate 4 (fictional)", "fr"),
    ("demo-supervisor", Role.hotline_supervisor, "Demo Supervisor (fictional)", "en"),
    ("demo-supervisor2", Role.hotline_supervisor, "Demo Superviseure 2 (fictive)", "fr"),
    ("demo-provider", Role.provider_staff, "Demo Provider Staff (fictional)", "fr"),
    ("demo-analyst", Role.agency_analyst, "Demo Agency Analyst (fictional)", "en"),
    ("demo-steward", Role.agency_data_steward, "Demo Data Steward (fictional)", "fr"),
    ("demo-coordinator", Role.plan_coordinator, "Demo Plan Coordinator (fictional)", "en"),
    ("demo-researcher", Role.researcher, "Demo Researcher (fictional)", "en"),
    ("demo-admin", Role.admin, "Demo Administrator (fictional)", "en"),
]


def _demo_users() -> list[tuple[str, str, str, str]]:
    """The fixed list, plus a login for any role added to Role later."""
    covered = {str(r) for _, r, _, _ in DEMO_USERS}
    extra = [(f"demo-{r.value.replace('_', '-')}", r, f"Demo {r.value} (fictional)", "en")
             for r in Role if r.value not in covered]
    return [(u, str(r), d, lang) for u, r, d, lang in DEMO_USERS + extra]


def demo_password(username: str) -> str:
    return f"{username}-pass".ljust(12, "0")


def is_obviously_fake_name(name: str | None) -> bool:
    """The rule every stored demo caller name and survivor alias follows."""
    return name is None or (name.startswith(FAKE_NAME_PREFIX) and "(fictional)" in name)


# -- places -----------------------------------------------------------------
CITIES: dict[str, list[str]] = {
    "ON": ["Toronto", "Ottawa", "Thunder Bay", "Sudbury", "Hamilton", "London", "Windsor", "Kingston",
           "Sault Ste. Marie", "Timmins", "Mississauga", "Brampton"],
    "QC": ["Montréal", "Québec", "Gatineau", "Sherbrooke", "Trois-Rivières", "Laval", "Saguenay", "Rimouski",
           "Val-d'Or"],
    "BC": ["Vancouver", "Surrey", "Victoria", "Kelowna", "Prince George", "Kamloops", "Nanaimo",
           "Abbotsford"],
    "AB": ["Calgary", "Edmonton", "Red Deer", "Lethbridge", "Fort McMurray", "Grande Prairie",
           "Medicine Hat"],
    "MB": ["Winnipeg", "Brandon", "Thompson", "Steinbach", "Portage la Prairie"],
    "SK": ["Saskatoon", "Regina", "Prince Albert", "Moose Jaw", "North Battleford"],
    "NS": ["Halifax", "Dartmouth", "Sydney", "Truro", "Yarmouth"],
    "NB": ["Moncton", "Saint John", "Fredericton", "Dieppe", "Edmundston", "Bathurst"],
    "NL": ["St. John's", "Corner Brook", "Gander", "Happy Valley-Goose Bay", "Mount Pearl"],
    "PE": ["Charlottetown", "Summerside", "Stratford", "Cornwall"],
    "YT": ["Whitehorse", "Dawson City", "Watson Lake"],
    "NT": ["Yellowknife", "Hay River", "Inuvik", "Fort Smith"],
    "NU": ["Iqaluit", "Rankin Inlet", "Cambridge Bay", "Arviat"],
}
AREA_CODES: dict[str, list[str]] = {
    "ON": ["416", "647", "613", "807", "705", "519", "905"], "QC": ["514", "438", "418", "819", "450"],
    "BC": ["604", "778", "250"], "AB": ["403", "780", "587"], "MB": ["204", "431"], "SK": ["306", "639"],
    "NS": ["902"], "NB": ["506"], "NL": ["709"], "PE": ["902"], "YT": ["867"], "NT": ["867"], "NU": ["867"],
}
# rough shares of the population, small places lifted so every one shows up
PROVINCE_WEIGHTS = {"ON": 36, "QC": 21, "BC": 13, "AB": 11, "MB": 4, "SK": 3, "NS": 3, "NB": 2.5, "NL": 1.5,
                    "PE": 1, "YT": 1, "NT": 1, "NU": 1}
FRENCH_SHARE = {"QC": 0.86, "NB": 0.35, "ON": 0.08}
OTHER_LANGUAGES = ["es", "tl", "pa", "zh", "ar", "uk", "vi", "ko", "pt", "ti", "hi", "so", "th"]
INDIGENOUS_LANGUAGES = {"NU": "iu", "NT": "iu", "MB": "cr", "SK": "cr", "ON": "oj", "NS": "mic"}

# -- templates ----------------------------------------------------------------
SUMMARIES = {
    "information": (
        ["Caller asked what the hotline does and how referrals work near {city}.",
         "Request for training material on trafficking indicators for staff in {city}.",
         "Asked which services exist for survivors near {city}; resources explained.",
         "General question about the rights of temporary foreign workers; information given.",
         "Student asked for national figures for a school project; pointed to the open data."],
        ["Question sur le rôle de la ligne et sur les références près de {city}.",
         "Demande de matériel de formation sur les indicateurs de traite pour le personnel à {city}.",
         "Question sur les services offerts aux personnes survivantes près de {city}; ressources expliquées.",
         "Question générale sur les droits des travailleurs étrangers temporaires; information donnée."]),
    "tip": (
        ["Report of a business in {city} where workers seem to live on site and never leave.",
         "Caller saw online ads in {city} that may involve minors; passed on as a signal.",
         "Concern about a farm near {city} where the employer may hold workers' passports.",
         "Neighbour reports frequent late-night drop-offs at a residence in {city}."],
        ["Signalement d'un commerce à {city} où les travailleuses semblent loger sur place.",
         "Annonces en ligne à {city} qui pourraient impliquer des mineures; transmis comme signalement.",
         "Inquiétude au sujet d'une ferme près de {city} où l'employeur garderait les passeports.",
         "Un voisin signale des allées et venues fréquentes la nuit dans une résidence à {city}."]),
    "potential_case": (
        ["Caller describes a job in {city} that was not as promised; the employer keeps the pay.",
         "Family member worried that a relative in {city} is controlled by a partner who takes her earnings.",
         "Survivor asked about safe housing in {city} and help replacing identity documents.",
         "Service provider in {city} referring a client whose debt to a recruiter keeps growing."],
        ["Emploi à {city} qui ne correspond pas à ce qui était promis; l'employeur garde la paie.",
         "Une proche craint qu'une parente à {city} soit contrôlée par un conjoint qui prend ses revenus.",
         "Personne survivante à {city} cherchant un logement sécuritaire et de l'aide pour ses papiers.",
         "Organisme de {city} qui réfère une cliente dont la dette envers un recruteur grossit."]),
    "crisis": (
        ["Caller in {city} cannot leave and fears for their safety tonight; safety planning done.",
         "Chat user in {city} asked for an emergency shelter right away; advocate stayed on the line.",
         "Caller in {city} reports threats from the person who controls their work."],
        ["Personne à {city} qui ne peut pas partir et craint pour sa sécurité ce soir; plan de sécurité.",
         "Demande d'hébergement d'urgence immédiat à {city} par clavardage; l'intervenante reste en ligne.",
         "Menaces de la part de la personne qui contrôle son travail, à {city}."]),
}
TASK_TITLES = (
    ["Confirm shelter intake", "Check referral status with the provider", "Send TRP information",
     "Book an interpreter for the next call", "Review the safety plan", "Check legal clinic availability"],
    ["Confirmer l'admission en hébergement", "Vérifier le suivi de la référence",
     "Envoyer l'information sur le PST", "Réserver une interprète pour le prochain appel",
     "Revoir le plan de sécurité", "Vérifier les disponibilités de la clinique juridique"],
)
FOLLOW_UP_TITLE = ("Follow-up call with the survivor", "Appel de suivi avec la personne survivante")
CODE_WORDS = ["maple", "lantern", "kettle", "juniper", "harbour", "aurora", "cedar", "puffin"]

# exploitation profiles: weight, types, gender, age, citizenship, and pools to draw from
PROFILES = [
    (44, ["sex"], {"woman": 80, "man": 5, "two_spirit": 5, "non_binary": 4, "unknown": 6},
     {"12-17": 16, "18-24": 44, "25-34": 24, "35-49": 8, "unknown": 8},
     {"citizen": 74, "permanent_resident": 7, "international_student": 8, "no_status": 4, "unknown": 7},
     ["movement_restricted", "earnings_taken", "threats", "isolation", "branding", "physical_violence",
      "substance_coercion", "scripted_answers"],
     ["intimate_partner", "online", "friend_acquaintance"],
     ["psychological_abuse", "takes_earnings", "threats", "psychoactive_substances", "physical_abuse",
      "sexual_abuse", "restricts_movement"],
     ["emergency_shelter", "counselling", "medical", "tattoo_removal", "transportation", "financial"]),
    (30, ["labour"], {"man": 62, "woman": 33, "unknown": 5},
     {"18-24": 20, "25-34": 40, "35-49": 30, "50+": 6, "unknown": 4},
     {"temporary_worker": 55, "international_student": 12, "no_status": 10, "refugee_claimant": 8,
      "permanent_resident": 5, "unknown": 10},
     ["documents_withheld", "debt_bondage", "lives_at_work", "excessive_hours", "deceptive_recruitment",
      "earnings_taken", "threats"],
     ["job_offer", "online", "friend_acquaintance"],
     ["withholds_documents", "debt", "threat_of_law_enforcement", "takes_earnings", "false_promises",
      "withholds_necessities"],
     ["legal", "immigration", "interpretation", "transition_housing", "financial", "document_replacement"]),
    (9, ["domestic_servitude"], {"woman": 85, "man": 10, "unknown": 5},
     {"18-24": 25, "25-34": 35, "35-49": 30, "unknown": 10},
     {"temporary_worker": 40, "visitor": 20, "no_status": 20, "unknown": 20},
     ["documents_withheld", "lives_at_work", "isolation", "excessive_hours", "movement_restricted"],
     ["family_member", "job_offer"],
     ["withholds_documents", "restricts_movement", "psychological_abuse", "withholds_necessities"],
     ["emergency_shelter", "immigration", "legal", "interpretation"]),
    (6, ["forced_marriage"], {"woman": 90, "man": 6, "unknown": 4},
     {"12-17": 30, "18-24": 50, "25-34": 15, "unknown": 5},
     {"citizen": 45, "permanent_resident": 25, "visitor": 15, "unknown": 15},
     ["threats", "isolation", "movement_restricted"], ["family_member"],
     ["threats", "psychological_abuse", "restricts_movement"], ["emergency_shelter", "counselling", "legal"]),
    (7, ["forced_criminality"], {"man": 55, "woman": 35, "non_binary": 5, "unknown": 5},
     {"12-17": 35, "18-24": 45, "25-34": 15, "unknown": 5},
     {"citizen": 80, "permanent_resident": 10, "unknown": 10},
     ["threats", "debt_bondage", "substance_coercion", "scripted_answers"],
     ["friend_acquaintance", "online", "intimate_partner"],
     ["threats", "debt", "psychoactive_substances", "physical_abuse"], ["counselling", "legal", "medical"]),
]
COUNT_ORDER = ["contacts", "cases", "cases referred", "cases follow-up", "cases closed", "consents",
               "consents revoked", "overrides pending", "overrides approved", "tasks", "tasks done",
               "safety plans", "911 escalations"]
OUTCOMES = {"services_connected": 36, "reported_to_police": 10, "declined_services": 15, "lost_contact": 20,
            "not_trafficking": 10, "duplicate": 3, "other": 6}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _some(rng: random.Random, pool: list[str], lo: int, hi: int) -> list[str]:
    return rng.sample(pool, min(len(pool), rng.randint(lo, hi)))


# -- report -----------------------------------------------------------------
@dataclass
class DemoReport:
    already_loaded: bool
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = ["Harbour demo data: synthetic and obviously fake; no real people or events."]
        if self.already_loaded:
            out.append("Demo data already loaded: no hotline data added.")
            if self.counts.get("users"):
                out.append(f"  added {self.counts['users']} missing demo login(s)")
        else:
            out.append(f"Loaded with seed {self.seed} in {self.seconds:.1f} s:")
            out += [f"  {name:<18}{n:>6}" for name, n in self.counts.items()]
        out += ["", "Demo logins (for local demos only; never leave them on a real deployment):"]
        width = max([len(u) for u, _, _ in self.logins] + [8]) + 2
        pwidth = max([len(p) for _, p, _ in self.logins] + [8]) + 2
        out.append(f"  {'username':<{width}}{'password':<{pwidth}}role")
        out += [f"  {u:<{width}}{p:<{pwidth}}{r}" for u, p, r in self.logins]
        return out


# -- loader -------------------------------------------------------------------
@dataclass
class _Spec:
    at: datetime
    province: str
    city: str
    language: str
    classification: str
    caller_type: str
    channel: str
    persona: int | None = None


class _Loader:
    def __init__(self, db: Session, users: dict[str, User], seed: int):
        self.db, self.users, self.now = db, users, utcnow()
        self.rng = random.Random(seed)
        self.fakers = {"en": Faker("en_CA"), "fr": Faker("fr_CA")}
        self.fakers["en"].seed_instance(seed)
        self.fakers["fr"].seed_instance(seed + 1)
        self.counts: Counter[str] = Counter()
        self.phone_pools = {code: [f"+1 {code} 555 01{n:02d}" for n in range(100)]
                            for codes in AREA_CODES.values() for code in codes}
        for pool in self.phone_pools.values():
            self.rng.shuffle(pool)
        self.serial = 0
        self.advocates = [u for u in users.values() if u.role == Role.hotline_advocate]
        self.fr_staff = [u for u in self.advocates if u.preferred_language == "fr"]

    def actor(self, user: User) -> Actor:
        return Actor(user.id, user.username, user.role)

    # -- contacts ---------------------------------------------------------
    def phone(self, province: str) -> str:
        for code in self.rng.sample(AREA_CODES[province], len(AREA_CODES[province])):
            if self.phone_pools[code]:
                return self.phone_pools[code].pop()
        return f"+1 {self.rng.choice(AREA_CODES[province])} 555 01{self.rng.randrange(100):02d}"

    def name(self, language: str) -> str:
        fake = self.fakers["fr" if language == "fr" else "en"]
        return f"{FAKE_NAME_PREFIX}{fake.first_name()} {fake.last_name()} (fictional)"

    def language(self, province: str) -> str:
        r = self.rng.random()
        if r < FRENCH_SHARE.get(province, 0.03):
            return "fr"
        share = 0.3 if province in ("NU", "NT") else 0.03
        if province in INDIGENOUS_LANGUAGES and self.rng.random() < share:
            return INDIGENOUS_LANGUAGES[province]
        return self.rng.choice(OTHER_LANGUAGES) if self.rng.random() < 0.08 else "en"

    def place(self, province: str | None = None) -> tuple[str, str]:
        province = province or _pick(self.rng, PROVINCE_WEIGHTS)
        return province, self.rng.choice(CITIES[province])

    def channel(self, classification: str) -> str:
        if classification == "crisis":
            return _pick(self.rng, {"phone": 70, "web_chat": 15, "text": 12, "tty": 3})
        if classification == "tip":
            return _pick(self.rng, {"phone": 40, "web_form": 30, "email": 12, "web_chat": 10, "text": 8})
        return _pick(self.rng, {"phone": 52, "web_chat": 18, "text": 13, "email": 7, "web_form": 7, "tty": 3})

    def caller_type(self, classification: str) -> str:
        return _pick(self.rng, {
            "information": {"community": 35, "service_provider": 25, "family_friend": 15, "victim": 10,
                            "other": 15},
            "tip": {"community": 65, "family_friend": 15, "service_provider": 8, "law_enforcement": 4,
                    "other": 8},
            "potential_case": {"victim": 40, "family_friend": 25, "service_provider": 20, "community": 10,
                               "law_enforcement": 5},
            "crisis": {"victim": 65, "family_friend": 20, "service_provider": 10, "law_enforcement": 5},
        }[classification])

    def when(self, earliest_days: float = 548) -> datetime:
        days = earliest_days * self.rng.random() ** 1.4  # busier recently
        return self.now - timedelta(days=days, minutes=self.rng.randint(2, 59))

    def specs(self, n: int) -> list[_Spec]:
        specs: list[_Spec] = []
        n_personas = max(2, n // 25)
        persona_total = 0
        for p in range(n_personas):  # repeat callers: 2-4 contacts from one number
            calls = self.rng.randint(2, 4)
            if persona_total + calls > n // 4:
                break
            province, city = self.place()
            lang, ctype = self.language(province), self.rng.choice(["victim", "victim", "family_friend"])
            at = self.when(500)
            first = "crisis" if self.rng.random() < 0.3 else "potential_case"
            for i in range(calls):
                later = {"information": 50, "potential_case": 35, "crisis": 15}
                cls = first if i == 0 else _pick(self.rng, later)
                specs.append(_Spec(at, province, city, lang, cls, ctype,
                                   self.rng.choice(["phone", "phone", "text"]), persona=p))
                at = min(at + timedelta(days=self.rng.uniform(0.5, 40)), self.now - timedelta(minutes=1))
            persona_total += calls
        provinces = list(CITIES)
        self.rng.shuffle(provinces)
        for i in range(n - len(specs)):
            province, city = self.place(provinces[i] if i < len(provinces) else None)
            cls = _pick(self.rng, {"information": 47, "tip": 22, "potential_case": 22, "crisis": 9})
            specs.append(_Spec(self.when(), province, city, self.language(province), cls,
                               self.caller_type(cls), self.channel(cls)))
        specs.sort(key=lambda s: s.at)
        return specs

    def contact_data(self, s: _Spec, persona: dict | None, case_id: int | None) -> ContactCreate:
        rng, self.serial = self.rng, self.serial + 1
        anonymous = persona is None and rng.random() < (0.6 if s.classification == "tip" else 0.15)
        name = phone = email = None
        if persona is not None:
            name, phone = persona["name"], persona["phone"]
        elif not anonymous:
            name = self.name(s.language) if rng.random() < 0.45 else None
            if s.channel in ("phone", "text", "tty") and rng.random() < 0.7 or rng.random() < 0.1:
                phone = self.phone(s.province)
            if s.channel == "email" or (s.channel == "web_form" and rng.random() < 0.3):
                email = f"demo.caller.{self.serial:04d}@example.com"
        duration = {"phone": (180, 2400), "web_chat": (600, 3600), "text": (300, 5400), "tty": (600, 2700)}
        lo_hi = duration.get(s.channel)
        seconds = rng.randint(*lo_hi) * (2 if s.classification == "crisis" else 1) if lo_hi else None
        fr = s.language == "fr"
        summary = rng.choice(SUMMARIES[s.classification][1 if fr else 0]).format(city=s.city)
        interpreter = s.language if s.language not in ("en", "fr") and s.channel == "phone" else None
        if interpreter:
            summary += f" Interpreter ({interpreter}) on the call."
        return ContactCreate(
            channel=s.channel, received_at=s.at, duration_seconds=seconds, language=s.language,
            interpreter_language=interpreter, caller_type=s.caller_type, classification=s.classification,
            province=s.province, city=s.city, summary=summary, caller_name=name, caller_phone=phone,
            caller_email=email, anonymous=anonymous, case_id=case_id)

    def staff_for(self, language: str) -> User:
        if language == "fr" and self.fr_staff and self.rng.random() < 0.8:
            return self.rng.choice(self.fr_staff)
        if self.rng.random() < 0.1:
            return self.users["demo-supervisor"]
        return self.rng.choice(self.advocates)

    # -- cases --------------------------------------------------------------
    def case_data(self, contacts: list[Contact], staff: User) -> CaseCreate:
        rng, first = self.rng, contacts[0]
        profile = rng.choices(PROFILES, weights=[p[0] for p in PROFILES])[0]
        _, types, genders, ages, cits, indicators, recruitment, control, needs = profile
        age = _pick(rng, ages)
        types, ind, need = list(types), _some(rng, indicators, 2, 4), _some(rng, needs, 1, 3)
        if age == "12-17" and "sex" in types:
            types.append("child")
            ind.append("minor_in_sex_trade")
        if first.province in ("NU", "NT", "YT", "MB", "SK") and rng.random() < 0.4:
            need.append("indigenous_healing")
        if first.interpreter_language and "interpretation" not in need:
            need.append("interpretation")
        crisis = first.classification == "crisis"
        risk = _pick(rng, {"high": 60, "imminent": 40} if crisis else {"low": 30, "medium": 45, "high": 25})
        assigned = None
        if rng.random() < 0.75:
            assigned = staff.id if rng.random() < 0.6 else rng.choice(self.advocates).id
        alias = None
        if rng.random() < 0.4:
            alias = f"{FAKE_NAME_PREFIX}{self.fakers['en'].first_name()} (fictional)"
        notes = rng.choice(["Synthetic demo case for training.", "Survivor prefers text after 18:00 (demo).",
                            "Demo: wants to think about options before any referral.", None])
        return CaseCreate(
            contact_ids=[c.id for c in contacts], risk_level=risk, age_band=age, gender=_pick(rng, genders),
            citizenship=_pick(rng, cits), exploitation_types=types, indicators=ind,
            recruitment=_some(rng, recruitment, 1, 2), control_means=_some(rng, control, 1, 4), needs=need,
            victim_count=rng.randint(2, 12) if "labour" in types and rng.random() < 0.3 else 1,
            province=first.province, city=first.city, survivor_alias=alias, notes=notes,
            assigned_to_id=assigned)

    def consents(self, case: Case, first: Contact, actor: Actor, outcome: str | None, police: bool) -> None:
        rng = self.rng
        given = min(first.received_at + timedelta(minutes=rng.randint(3, 40)), self.now)
        method = {"phone": "verbal", "tty": "verbal"}.get(first.channel, "electronic")
        if case.age_band == "12-17" and rng.random() < 0.5:
            method = "guardian"
        elif rng.random() < 0.08:
            method = "written"
        wanted = {"referral": 0.72, "statistics": 0.55, "follow_up": 0.45,
                  "law_enforcement": (0.8 if outcome == "reported_to_police" else 0.06) if police else 0}
        for purpose, p in wanted.items():
            if rng.random() >= p:
                continue
            expires = None
            if rng.random() < 0.25:
                expires = given + timedelta(days=rng.choice([30, 90, 180, 365]))
            note = "Consent read back and confirmed (demo)." if rng.random() < 0.3 else None
            c = consent_svc.record_consent(self.db, actor=actor, case_id=case.id, data=ConsentCreate(
                purpose=purpose, method=method, given_at=given, expires_at=expires, note=note))
            self.counts["consents"] += 1
            if rng.random() < 0.05 or (self.counts["consents"] == 3 and not self.counts["consents revoked"]):
                consent_svc.revoke_consent(self.db, actor=actor, consent_id=c.id, data=ConsentRevoke(
                    reason="Survivor asked to withdraw this consent (demo)."))
                self.counts["consents revoked"] += 1

    def tasks(self, case: Case, actor: Actor, fr: bool, closing: bool) -> None:
        rng, lang = self.rng, 1 if fr else 0
        plans = []
        if consent_svc.basis(self.db, case=case, purpose="follow_up") and rng.random() < 0.6:
            plans.append(("follow_up_contact", FOLLOW_UP_TITLE[lang]))
        plans += [("general", t) for t in _some(rng, TASK_TITLES[lang], 0 if plans else 1, 2)]
        for kind, title in plans:
            r = rng.random()
            if closing or r < 0.3:  # done
                due, done = self.now - timedelta(days=rng.uniform(1, 60)), True
            elif r < 0.6:  # overdue
                due, done = self.now - timedelta(hours=rng.uniform(2, 24 * 10)), False
            else:
                due, done = self.now + timedelta(hours=rng.uniform(4, 24 * 14)), False
            task = service.add_task(self.db, actor=actor, case_id=case.id,
                                    data=TaskCreate(title=title, kind=kind, due_at=due))
            self.counts["tasks"] += 1
            if done:
                service.update_task(self.db, actor=actor, task_id=task.id, data=TaskUpdate(done=True))
                self.counts["tasks done"] += 1

    def safety_plan(self, case: Case, actor: Actor) -> None:
        rng = self.rng
        yn = lambda: rng.choice(["yes", "no", "unknown"])  # noqa: E731
        service.update_safety_plan(self.db, actor=actor, case_id=case.id, data=SafetyPlanUpdate(
            safe_to_call_back=yn(), safe_to_leave_voicemail=rng.choice(["no", "unknown"]), safe_to_text=yn(),
            safe_times=rng.choice(["Weekdays 10:00-14:00 (demo)", "After 20:00 only (demo)", None]),
            code_word=f"DEMO-{rng.choice(CODE_WORDS)}",
            notes="Demo safety plan: nearest safe place and a charged phone discussed."))
        self.counts["safety plans"] += 1

    def plan_status(self, age_days: float) -> tuple[str, str | None]:
        """Where a case of this age has got to: open, referred, follow-up or closed with an outcome."""
        rng = self.rng
        if age_days > 120:
            status = _pick(rng, {"closed": 60, "follow_up": 20, "referred": 12, "open": 8})
        elif age_days > 30:
            status = _pick(rng, {"closed": 25, "referred": 25, "follow_up": 20, "open": 30})
        else:
            status = _pick(rng, {"open": 65, "referred": 20, "follow_up": 15})
        return status, (_pick(rng, OUTCOMES) if status == "closed" else None)

    def progress(self, case: Case, actor: Actor, status: str, outcome: str | None) -> None:
        if status == "referred" and not consent_svc.basis(self.db, case=case, purpose="referral"):
            status = "follow_up"  # nobody is referred without referral consent
        if status == "open":
            return
        changes: dict = {"status": status, "outcome": outcome}
        if status == "closed" and case.assigned_to_id is None:
            changes["assigned_to_id"] = actor.id
        service.update_case(self.db, actor=actor, case_id=case.id, data=CaseUpdate(**changes))
        self.counts[f"cases {status.replace('_', '-')}"] += 1


def load_demo(db: Session, *, seed: int, contacts: int) -> DemoReport:
    """Load demo users and `contacts` synthetic hotline contacts with cases (idempotent)."""
    started = time.perf_counter()
    wanted = _demo_users()
    logins = [(u, demo_password(u), r) for u, r, _, _ in wanted]
    existing = {u.username: u for u in db.execute(
        select(User).where(User.username.in_([w[0] for w in wanted]))).scalars()}
    already = MARKER_USERNAME in existing
    added = 0
    for username, role, display, lang in wanted:
        if username not in existing:
            existing[username] = create_user(
                db, actor=SYSTEM, username=username, display_name=display, role=role,
                password=demo_password(username), preferred_language=lang)
            added += 1
    db.commit()
    if already:
        return DemoReport(True, seed, {"users": added}, logins, time.perf_counter() - started)

    ld = _Loader(db, existing, seed)
    rng = ld.rng
    personas: dict[int, dict] = {}
    opened: list[tuple[Case, Contact, User]] = []
    unattached: dict[tuple[str, str], list[Contact]] = {}
    for s in ld.specs(contacts):
        persona = None
        if s.persona is not None:
            persona = personas.setdefault(s.persona, {
                "name": ld.name(s.language) if rng.random() < 0.5 else None, "phone": ld.phone(s.province),
                "staff": ld.staff_for(s.language), "case": None, "attached": 0})
        staff = persona["staff"] if persona else ld.staff_for(s.language)
        attach_to = None
        if persona and persona["case"] is not None and persona["attached"] < 3 and rng.random() < 0.85:
            attach_to = persona["case"].id
            persona["attached"] += 1
        contact, _matches = service.create_contact(db, actor=ld.actor(staff),
                                                   data=ld.contact_data(s, persona, attach_to))
        ld.counts["contacts"] += 1
        if attach_to is not None:
            continue
        wants_case = s.classification in ("potential_case", "crisis") and rng.random() < 0.85
        if not wants_case or (persona and persona["case"] is not None):
            if persona is None and s.classification != "crisis":
                unattached.setdefault((s.province, s.city), []).append(contact)
            continue
        group = [contact]
        if persona is None and rng.random() < 0.15:  # someone called earlier about the same person
            earlier = [c for c in unattached.get((s.province, s.city), []) if c.case_id is None
                       and c.caller_type in ("family_friend", "service_provider", "community")]
            group += rng.sample(earlier, min(len(earlier), rng.randint(1, 2)))
        case = service.open_case(db, actor=ld.actor(staff), data=ld.case_data(group, staff))
        ld.counts["cases"] += 1
        if persona is not None:
            persona["case"], persona["attached"] = case, 1
        opened.append((case, contact, staff))

    # the newest crisis cases get a 9-1-1 transfer; the newest other high-risk cases an override (one
    # pending, one signed off by a second supervisor); all of those stay open
    escalate = [t for t in opened if t[1].classification == "crisis"][-2:]
    override = [t for t in opened if t[0].risk_level in ("high", "imminent") and t not in escalate][-2:]
    special = {t[0].id for t in escalate + override}
    # enrich each case: consents, safety plans, tasks; the status change comes last
    plans: dict[int, tuple[str, str | None]] = {}
    for case, first, staff in opened:
        actor = ld.actor(staff)
        age_days = (ld.now - first.received_at).total_seconds() / 86400
        status, outcome = plans[case.id] = ("open", None) if case.id in special else ld.plan_status(age_days)
        ld.consents(case, first, actor, outcome, police=case.id not in special)
        if rng.random() < (0.4 if case.risk_level in ("high", "imminent") else 0.05):
            ld.safety_plan(case, actor)
        ld.tasks(case, actor, first.language == "fr", status == "closed")
    for case, first, staff in escalate:
        service.escalate_911(db, actor=ld.actor(staff), case_id=case.id, data=EscalationCreate(
            reason="Demo: caller reported immediate danger; warm transfer to 9-1-1.", contact_id=first.id))
        ld.counts["911 escalations"] += 1
    reason = "Demo: imminent danger described on the call; survivor could not be reached to consent."
    for i, (case, _first, staff) in enumerate(reversed(override)):
        requester = ld.actor(staff if i == 0 else existing["demo-supervisor"])
        ov = consent_svc.request_override(db, actor=requester, case_id=case.id,
                                          data=OverrideRequest(purpose="law_enforcement", reason=reason))
        if i == 0:
            ld.counts["overrides pending"] += 1
        else:
            consent_svc.decide_override(db, actor=ld.actor(existing["demo-supervisor2"]), override_id=ov.id,
                                        data=OverrideDecision(approve=True, hours=24))
            ld.counts["overrides approved"] += 1
    for case, _first, staff in opened:
        ld.progress(case, ld.actor(staff), *plans[case.id])

    counts = {"users": added} | {k: ld.counts[k] for k in COUNT_ORDER} | dict(ld.counts)
    return DemoReport(False, seed, counts, logins, time.perf_counter() - started)
