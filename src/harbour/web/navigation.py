"""The console's main menu: which sections a role sees, asked of each module's own role sets.

The menu is display only (every page checks its own access in its service); it lives here so the layout
template names no role: ``console_base.html`` draws what ``console_menu(role)`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from harbour.core.choices import HOTLINE_ROLES, Role
from harbour.core.i18n import N_
from harbour.directory.service import CURATORS
from harbour.hotline.service import SUPERVISOR
from harbour.plan.service import OVERSEERS
from harbour.sharing.choices import RECORD_ROLES
from harbour.stats.service import can_see_internal


@dataclass(frozen=True)
class MenuItem:
    key: str  # the page's ``active`` name
    href: str
    label: str  # a catalogue message id, translated by the template
    chat_badge: bool = False


def console_menu(role: str | None) -> list[MenuItem]:
    """The sections of the console menu for ``role``, in order."""
    if not role:
        return []
    items: list[MenuItem] = []
    if role in HOTLINE_ROLES:
        items += [
            MenuItem("new_contact", "/console/contacts/new", N_("New contact")),
            MenuItem("contacts", "/console/contacts", N_("Contacts")),
            MenuItem("cases", "/console/cases", N_("Cases")),
            MenuItem("tasks", "/console/tasks", N_("My tasks")),
            MenuItem("chat", "/console/chat", N_("Live chat"), chat_badge=True),
            MenuItem("directory", "/console/directory", N_("Directory")),
        ]
        if role in SUPERVISOR:
            items += [MenuItem("vetting", "/console/directory/vetting", N_("Vetting")),
                      MenuItem("dashboard", "/console/dashboard", N_("Supervisor dashboard"))]
    if role == Role.provider_staff:
        items += [MenuItem("portal", "/portal", N_("Referrals to us")),
                  MenuItem("portal_services", "/portal/services", N_("Our services"))]
    if role in RECORD_ROLES or role == Role.admin:
        items.append(MenuItem("sharing", "/console/sharing", N_("Sharing")))
    if can_see_internal(role):
        items.append(MenuItem("statistics", "/console/statistics", N_("Statistics")))
    if role in OVERSEERS:
        items.append(MenuItem("plan", "/console/plan", N_("Plan")))
    if role == Role.admin:
        if role in CURATORS:
            items += [MenuItem("directory", "/console/directory", N_("Directory")),
                      MenuItem("vetting", "/console/directory/vetting", N_("Vetting"))]
        items.append(MenuItem("admin", "/admin", N_("Administration")))
    return items
