"""The console menu (web/navigation.py): each role sees its sections and no other's; the layout names no role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harbour.web.navigation import console_menu

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "harbour" / "web" / "templates"


def keys(role):
    return [item.key for item in console_menu(role)]


@pytest.mark.parametrize(("role", "sees", "not_sees"), [
    ("hotline_advocate", {"new_contact", "cases", "chat", "directory"}, {"vetting", "dashboard", "sharing", "admin", "portal"}),
    ("hotline_supervisor", {"cases", "vetting", "dashboard", "sharing", "statistics"}, {"admin", "portal", "plan"}),
    ("provider_staff", {"portal", "portal_services"}, {"cases", "sharing", "statistics", "admin"}),
    ("agency_analyst", {"sharing", "statistics"}, {"cases", "portal", "plan", "admin"}),
    ("agency_data_steward", {"sharing"}, {"cases", "portal", "admin"}),
    ("researcher", {"statistics"}, {"sharing", "cases", "admin"}),
    ("plan_coordinator", {"plan"}, {"sharing", "cases", "admin"}),
    ("admin", {"sharing", "plan", "directory", "vetting", "admin"}, {"cases", "portal", "new_contact"}),
])
def test_each_role_sees_its_sections_only(role, sees, not_sees):
    got = set(keys(role))
    assert sees <= got, sees - got
    assert not (not_sees & got), not_sees & got


def test_no_menu_without_a_role():
    assert console_menu(None) == [] and console_menu("") == []


def test_the_layouts_name_no_role():
    for name in ("console_base.html", "auth/account.html"):
        text = (TEMPLATES / name).read_text()
        assert not re.search(r"user\.role (not )?in|user\.role ==", text), name
