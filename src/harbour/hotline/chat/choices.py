"""Chat vocabularies."""

from __future__ import annotations

from harbour.core.choices import Choice
from harbour.core.i18n import N_


class ChatStatus(Choice):
    queued = "queued", N_("Waiting")
    active = "active", N_("In progress")
    closed = "closed", N_("Closed")


class Sender(Choice):
    visitor = "visitor", N_("Visitor")
    advocate = "advocate", N_("Advocate")
    system = "system", N_("Harbour")


class CloseReason(Choice):
    visitor_left = "visitor_left", N_("The visitor ended the chat")
    ended = "ended", N_("The advocate ended the chat")
    blocked = "blocked", N_("The advocate ended and blocked the chat")
    idle = "idle", N_("Closed after no reply, for the visitor's safety")
    abandoned = "abandoned", N_("The visitor left the queue")


# System notices are stored as codes and shown in each reader's language.
NOTICES = {
    "taken": N_("An advocate has joined the chat."),
    "transferred": N_("Another advocate has joined the chat."),
    "visitor_left": N_("The visitor ended the chat."),
    "ended": N_("The advocate ended the chat."),
    "blocked": N_("This chat has ended."),
    "idle": N_("This chat closed because there was no reply for %(minutes)s minutes, for your safety. You can "
               "start a new chat or call the hotline at any time."),
    "abandoned": N_("This chat closed because the visitor left the queue."),
}
