"""Journey 1 by keyboard only (DESIGN.md): at 2 a.m. a survivor opens the French chat from a phone and asks for a
safe place near Thunder Bay; the advocate takes the chat, saves it as a contact and opens a case, records
referral consent, searches for an after-hours emergency shelter within 100 km that serves French speakers and
refers; the shelter's staff accept in their portal; the case timeline shows every step and a follow-up task is
due the next day.

Everyone uses the keyboard only: Tab and Shift+Tab move the focus, Enter and Space press links, buttons,
checkboxes and disclosure widgets, arrow keys choose a radio button, and typing goes into the focused field
(type-ahead in a focused select).  No click, no fill, no focus() on an element found by the test: the page is
opened by address, everything else happens where the focus is.  At every Tab stop the test checks that

- the focus is visible: the focused element draws an outline or a box-shadow ring (not merely a drop shadow),
  has a size, and is not hidden under something else (the quick exit, a sticky bar);
- the order is sensible: inside the main content the focus never jumps back up and to the left (reading
  order) nor past the end of the page, Shift+Tab retraces Tab, and each control the journey needs is reached
  within a few presses of the previous one;
- nothing moves the focus by itself: after each key (a live search, a queue refresh...) the focus is still
  where the person left it, unless they asked for it to move (submitting a search, accepting a referral).

Synthetic words only.  A phone-sized window (390 px) for the survivor, a desktop one for staff.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from harbour.core import timezones
from tests.browser.pages import go_off_duty

ADVOCATE = "demo-advocate4"  # nobody else's journey uses this advocate
SHELTER_ORG = "DEMO Lakehead Harbour House of Thunder Bay (fictional)"  # demo-provider works here
MESSAGE = "Bonjour. J'ai besoin d'un endroit sûr près de Thunder Bay, ce soir. (message de test fictif)"
REPLY = "Je suis là. Je cherche un hébergement d'urgence pour vous. (réponse de test fictive)"
TASK = "Follow up: check the survivor reached the shelter (synthetic test task)"

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) { return null; }
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  // a ring drawn with box-shadow: a shadow of 2px spread or more (a drop shadow is not a focus indicator)
  const ring = (style.boxShadow || '').split(/,(?![^(]*\\))/).some(shadow => {
    const px = (shadow.match(/-?[0-9.]+px/g) || []).map(parseFloat);
    return px.length >= 4 && px[3] >= 2;
  });
  let covered = '';
  if (box.width && box.height) {
    const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(box.top + Math.min(box.height / 2, 10), 0), innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    const label = hit && hit.closest && hit.closest('label');
    if (hit && !el.contains(hit) && !hit.contains(el) && !(label && label.contains(el))
        && !(el.labels && Array.from(el.labels).includes(label))) {
      covered = hit.outerHTML.slice(0, 120);
    }
  }
  return {
    tag: el.tagName.toLowerCase(), id: el.id || '', name: el.getAttribute('name') || '', type: el.type || '',
    value: el.value === undefined ? '' : String(el.value), checked: !!el.checked,
    text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 100),
    label: ((el.labels && el.labels[0] && el.labels[0].innerText) || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 200),
    // A date or time field's own calendar button is a Tab stop inside the field; the field does not match
    // :focus then, and the browser draws its own ring around the button (page styles cannot reach it).
    picker: /^(date|datetime-local|time|month|week)$/.test(el.type) && !el.matches(':focus'),
    visible: outline || ring, outline: style.outlineWidth + ' ' + style.outlineStyle,
    w: box.width, h: box.height, x: box.left + scrollX, y: box.top + scrollY, covered,
    href: el.getAttribute('href') || '', fixed: !!el.closest('.quick-exit, .skip-link'), inMain: !!el.closest('main'),
  };
}"""


HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def _same(a: dict | None, b: dict | None) -> bool:
    if not (a and b):
        return False
    keys = ("tag", "id", "name", "type", "label", "href") + (() if a["tag"] in ("input", "select", "textarea")
                                                           else ("text",))  # a field's text is what was typed
    return all(a[k] == b[k] for k in keys) and (a["type"] != "radio" or a["value"] == b["value"])


def _name(el: dict | None) -> str:
    if el is None:
        return "nothing (the page body)"
    what = el["label"] or el["text"] or el["name"] or el["id"]
    return f"<{el['tag']}{' type=' + el['type'] if el['type'] else ''}> {what!r}"


class Keys:
    """One person's keyboard on one page: Tab to a control, press keys, type; every stop is checked."""

    def __init__(self, page, who: str):
        self.page, self.who = page, who
        self.last: dict | None = None
        self.before: dict | None = None

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def tab(self, *, back: bool = False) -> dict:
        # Whatever the last key started (a live search, a queue refresh) has finished, and the focus is still
        # where the person left it: nothing moved it by itself.
        self.page.wait_for_function(HTMX_IDLE)
        if self.last is not None:
            now = self.focused()
            assert _same(now, self.last), f"{self.who}: the focus moved by itself from {_name(self.last)} to {_name(now)}"
        self.page.keyboard.press("Shift+Tab" if back else "Tab")
        el = self.focused()
        assert el is not None, f"{self.who}: after {_name(self.last)} Tab left the page's controls"
        assert el["visible"] or el["picker"], f"{self.who}: no visible focus indicator on {_name(el)} (outline {el['outline']})"
        assert el["w"] > 0 and el["h"] > 0, f"{self.who}: the focused {_name(el)} has no size on screen"
        assert not el["covered"], f"{self.who}: the focused {_name(el)} is hidden under {el['covered']}"
        prev = self.last
        if not back and prev and prev["inMain"] and not el["inMain"] and el["y"] < prev["y"]:
            raise AssertionError(f"{self.who}: Tab went past the end of the page and back to the top, from "
                                 f"{_name(prev)} to {_name(el)}")
        if not back and prev and prev["inMain"] and el["inMain"] and not prev["fixed"]:
            jumped_back = el["y"] < prev["y"] - 8 and el["x"] < prev["x"] - 8
            assert not jumped_back, (f"{self.who}: Tab went back up and left, from {_name(prev)} at "
                                     f"({prev['x']:.0f}, {prev['y']:.0f}) to {_name(el)} at ({el['x']:.0f}, {el['y']:.0f})")
        self.before, self.last = self.last, el
        return el

    def back_and_forth(self) -> None:
        """Shift+Tab goes back to the stop before this one and Tab returns here: the same order both ways."""
        here, before = self.last, self.before
        assert here and before, "back_and_forth needs two stops"
        back = self.tab(back=True)
        assert _same(back, before), f"{self.who}: Shift+Tab from {_name(here)} went to {_name(back)}, " \
                                    f"not back to {_name(before)}"
        again = self.tab()
        assert _same(again, here), f"{self.who}: Tab from {_name(back)} went to {_name(again)}, not {_name(here)}"

    def to(self, matches, what: str, *, limit: int = 30, back: bool = False) -> dict:
        """Tab (or Shift+Tab) until ``matches(el)``; fails after ``limit`` presses."""
        passed = []
        for _ in range(limit):
            el = self.tab(back=back)
            if matches(el):
                return el
            passed.append(_name(el))
        raise AssertionError(f"{self.who}: {'Shift+' if back else ''}Tab never reached {what} within {limit} "
                             f"presses; passed: {passed[-12:]}")

    def next(self, matches, what: str) -> dict:
        """The very next Tab stop must be ``what`` (controls of one form, in order)."""
        return self.to(matches, what, limit=1)

    def press(self, key: str) -> None:
        """A key that acts where the focus is and leaves it there (Space on a checkbox, Enter in a field...)."""
        self.page.keyboard.press(key)

    def follow(self, key: str) -> dict | None:
        """A key that is meant to move the focus (a skip link, submitting a search): go where it leads."""
        self.page.keyboard.press(key)
        self.page.wait_for_function(HTMX_IDLE)
        self.before, self.last = None, self.focused()
        return self.last

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def start(self) -> None:
        """After a page load: the next Tab starts from the top of the document."""
        self.last = None


def labelled(text: str, *, exact: bool = False):
    if exact:
        return lambda el: el["label"] == text or el["text"] == text
    pattern = re.compile(re.escape(text), re.I)
    return lambda el: bool(pattern.search(el["label"]) or pattern.search(el["text"]))


def _waiting(page) -> list[str]:
    return re.findall(r"CH-\w+", " ".join(page.locator("#chat-queue button").all_inner_texts()))


def _sign_in(keys: Keys, username: str) -> None:
    """The staff sign-in form, by keyboard: skip link, then the two fields, Enter to submit."""
    keys.page.goto("/login")
    keys.start()
    keys.to(lambda el: el["id"] == "quick-exit", "the quick exit", limit=1)
    keys.next(lambda el: el["href"] == "#main", "the skip link")
    keys.follow("Enter")
    keys.to(lambda el: el["id"] == "f-username", "the username field", limit=5)
    keys.type(username)
    keys.next(lambda el: el["id"] == "f-password", "the password field")
    keys.type(f"{username}-pass")
    with keys.page.expect_navigation():
        keys.press("Enter")
    assert "/login" not in keys.page.url, f"{username} could not sign in"


def test_journey_1_by_keyboard_only(new_page, shot):
    advocate_page = new_page(locale="en-CA")
    advocate = Keys(advocate_page, "advocate")
    _sign_in(advocate, ADVOCATE)
    try:
        _journey(new_page, advocate, shot)
    finally:
        go_off_duty(advocate_page)  # so later tests see the chat closed


def _journey(new_page, advocate: Keys, shot) -> None:
    a = advocate.page
    # -- the advocate goes on duty: the console's menu, then the availability form -----------------------------
    a.goto("/console/contacts/new?lang=en")
    advocate.start()
    advocate.to(lambda el: el["href"] == "#main", "the skip link", limit=1)
    advocate.to(lambda el: el["tag"] == "a" and el["text"].startswith("Live chat"), "Live chat in the menu", limit=8)
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a.get_by_role("heading", level=1)).to_have_text("Live chat")
    advocate.start()
    available = advocate.to(labelled("I am available for chats"), "the availability checkbox", limit=20)
    if not available["checked"]:
        advocate.press("Space")
    advocate.next(labelled("Save", exact=True), "Save")
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a.locator("#available")).to_be_checked()
    expect(a.locator("#chat-status")).to_have_text("Connected.")

    waiting = _waiting(a)  # chats already in the queue (none, unless an earlier run stopped half-way)

    # -- the survivor, on a phone, opens the French chat from the get-help page ------------------------------
    phone = new_page(locale="fr-CA", viewport={"width": 390, "height": 844})
    visitor = Keys(phone, "survivor")
    phone.goto("/help?lang=fr")
    visitor.start()
    visitor.next(lambda el: el["id"] == "quick-exit", "the quick exit (first)")
    visitor.next(lambda el: el["href"] == "#main", "the skip link")
    visitor.follow("Enter")
    visitor.to(lambda el: el["tag"] == "a" and el["text"].startswith("Clavarder"), "the chat link", limit=10)
    with phone.expect_navigation():
        visitor.press("Enter")
    expect(phone).to_have_url(re.compile(r"/help/chat$"))
    visitor.start()
    # Arrow keys move within the language radio group; French is chosen (the page is in French already).
    radio = visitor.to(lambda el: el["type"] == "radio", "the chat language", limit=15)
    assert radio["value"] == "fr" and radio["checked"], radio
    visitor.press("ArrowUp")
    assert visitor.focused()["value"] == "en" and visitor.focused()["checked"]
    visitor.press("ArrowDown")
    assert visitor.focused()["value"] == "fr" and visitor.focused()["checked"]
    visitor.next(labelled("Commencer"), "Start the chat")
    visitor.back_and_forth()
    shot(phone, "keyboard-01-survivor-start")
    with phone.expect_navigation():
        visitor.press("Enter")
    expect(phone).to_have_url(re.compile(r"/help/chat/room$"))
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    visitor.start()

    # -- the advocate takes the chat from the queue -------------------------------------------------------------
    take = a.get_by_role("button", name=re.compile(r"^Take chat CH-"))
    expect(take).to_have_count(len(waiting) + 1)
    reference = next(r for r in _waiting(a) if r not in waiting)
    advocate.start()
    advocate.to(labelled(f"Take chat {reference}", exact=True), "the Take chat button", limit=30)
    # The queue is redrawn every 15 s and whenever a chat arrives or leaves (the WebSocket's "chat-queue" event):
    # the advocate's focus stays on the button they are on.
    with a.expect_response(lambda r: r.url.endswith("/console/chat/queue")):
        a.evaluate("() => document.body.dispatchEvent(new CustomEvent('chat-queue'))")
    a.wait_for_function(HTMX_IDLE)
    assert (advocate.focused() or {}).get("text") == f"Take chat {reference}", \
        f"the queue's refresh took the focus away: now on {_name(advocate.focused())}"
    with a.expect_navigation():
        advocate.press("Enter")
    panel = a.locator(".chat-panel", has_text=reference)
    expect(panel).to_be_visible()

    # -- they talk: the survivor types and presses Enter, the advocate replies --------------------------------
    expect(phone.locator("#chat-input")).to_be_enabled()
    visitor.to(lambda el: el["id"] == "chat-input", "the message box", limit=15)
    visitor.type(MESSAGE)
    visitor.press("Enter")
    expect(panel.locator(".chat-log")).to_contain_text(MESSAGE)
    advocate.start()
    advocate.to(lambda el: el["tag"] == "textarea" and el["label"] == "Reply", "the reply box", limit=40)
    advocate.type(REPLY)
    advocate.press("Enter")
    expect(phone.locator("#chat-log")).to_contain_text(REPLY)
    shot(phone, "keyboard-02-survivor-conversation")
    shot(a, "keyboard-03-advocate-conversation")

    # -- the chat becomes a contact and a case ------------------------------------------------------------------
    advocate.to(labelled("Save as contact and open a case", exact=True), "Save as contact and open a case", limit=5)
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a).to_have_url(re.compile(r"/console/cases/\d+$"))
    case_url = a.url
    case_ref = re.search(r"Case (\S+)", a.get_by_role("heading", level=1).inner_text()).group(1)

    # -- referral consent: open the disclosure, choose purpose and method, record --------------------------------
    advocate.start()
    advocate.to(lambda el: el["tag"] == "summary" and el["text"] == "Record consent", "Record consent", limit=40)
    advocate.press("Enter")
    expect(a.locator("#consent details").first).to_have_attribute("open", "")
    purpose = advocate.next(lambda el: el["id"] == "f-purpose", "the consent purpose")
    if purpose["value"] != "referral":
        advocate.type("Referral")
    assert advocate.focused()["value"] == "referral"
    advocate.next(lambda el: el["id"] == "f-method", "how consent was given")
    advocate.back_and_forth()
    advocate.type("Electronic")  # given in the chat
    assert advocate.focused()["value"] == "electronic"
    advocate.to(lambda el: el["tag"] == "button" and el["text"] == "Record consent", "the Record consent button",
                limit=10)
    with a.expect_navigation():
        advocate.press("Enter")
    referral_row = a.locator("#consent").get_by_role("row", name=re.compile("^Referral"))
    expect(referral_row).not_to_contain_text("No consent")
    shot(a, "keyboard-04-consent")

    # -- search the directory from the case --------------------------------------------------------------------
    advocate.start()
    advocate.to(labelled("Refer to a service", exact=True), "Refer to a service", limit=30)
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a).to_have_url(re.compile(r"/console/directory\?case_id=\d+"))
    advocate.start()
    advocate.to(lambda el: el["type"] == "checkbox" and el["label"] == "Emergency shelter", "Emergency shelter",
                limit=40)
    if not advocate.focused()["checked"]:
        advocate.press("Space")
    advocate.to(lambda el: el["id"] == "f-place", "City or town", limit=40)
    advocate.type("Thunder Bay")
    advocate.next(lambda el: el["id"] == "f-province", "Province or territory")
    advocate.next(lambda el: el["id"] == "f-radius_km", "the distance")
    if advocate.focused()["value"] != "100":
        advocate.type("100")
    assert advocate.focused()["value"] == "100"
    advocate.next(lambda el: el["id"] == "f-language", "Language of service")
    advocate.type("French")
    assert advocate.focused()["value"] == "fr"
    advocate.next(lambda el: el["name"] == "open_now", "Open now")
    after_hours = advocate.next(lambda el: el["name"] == "after_hours", "Open after hours")
    if not after_hours["checked"]:
        advocate.press("Space")
    advocate.to(labelled("Search", exact=True), "the Search button", limit=12)
    advocate.follow("Enter")
    results = a.locator("#results")
    expect(results.get_by_role("heading", name=re.compile(r"services? found"))).to_be_visible()
    expect(results).to_contain_text("Within 100 km of Thunder Bay")
    expect(a.locator("#results section")).to_be_focused()  # the results are announced and Tab goes on from them
    shot(a, "keyboard-05-search")
    # each result's checkbox is named after its service and provider, not just "Select"
    advocate.to(lambda el: el["type"] == "checkbox" and el["label"].startswith("Select Emergency shelter")
                and el["label"].endswith(SHELTER_ORG), "the shelter's checkbox", limit=80)
    advocate.press("Space")
    assert advocate.focused()["checked"]
    advocate.to(labelled("Refer to selected services", exact=True), "Refer to selected services", limit=120)
    with a.expect_navigation():
        advocate.press("Enter")

    # -- what to share, then send --------------------------------------------------------------------------------
    expect(a.get_by_role("heading", level=1)).to_have_text(f"Refer case {case_ref}")
    advocate.start()
    chosen = advocate.to(lambda el: el["name"] == "service_ids", "the chosen service", limit=30)
    assert chosen["checked"] and SHELTER_ORG in chosen["label"], chosen
    advocate.to(lambda el: el["id"] == "f-respond_within_hours", "the answer deadline", limit=12)
    advocate.type("1")  # Tab selected the field's text: typing replaces it
    assert advocate.focused()["value"] == "1"
    advocate.next(lambda el: el["id"] == "f-message", "the message to the provider")
    advocate.type("Synthetic test referral: a French-speaking survivor needs a bed tonight.")
    advocate.next(labelled("Send referral", exact=True), "Send referral")
    advocate.back_and_forth()
    shot(a, "keyboard-06-refer")
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a).to_have_url(re.compile(r"/console/cases/\d+#referrals$"))
    row = a.locator("#referrals tbody tr").filter(has_text=SHELTER_ORG)
    expect(row).to_contain_text("Sent")
    referral_ref = row.locator("td").first.inner_text().strip()

    # -- shelter staff accept in their portal (French) ----------------------------------------------------------
    staff_page = new_page(locale="fr-CA")
    staff = Keys(staff_page, "shelter staff")
    _sign_in(staff, "demo-provider")
    expect(staff_page).to_have_url(re.compile(r"/portal$"))
    staff.start()
    staff.to(labelled(referral_ref, exact=True), f"the referral {referral_ref}", limit=40)
    with staff_page.expect_navigation():
        staff.press("Enter")
    staff.start()
    staff.to(labelled("Accepter", exact=True), "Accepter", limit=30)
    staff.follow("Enter")
    expect(staff_page.get_by_role("status")).to_contain_text("accepté")  # « Aiguillage accepté. »
    # the confirmation is announced by its status region; the focus stays on the updated panel (htmx puts it back
    # by id) or, if the control used went away, moves to the confirmation: it is never lost to the page
    assert staff_page.evaluate("() => document.activeElement && document.activeElement !== document.body")
    shot(staff_page, "keyboard-07-portal-accepted")

    # -- back on the case: a follow-up task due tomorrow -------------------------------------------------------
    a.goto(case_url)
    expect(a.locator("#referrals tbody tr").filter(has_text=SHELTER_ORG)).to_contain_text("Accepted")
    advocate.start()
    advocate.to(lambda el: el["id"] == "f-title", "the new task's title", limit=80)
    advocate.type(TASK)
    due = advocate.next(lambda el: el["id"] == "f-due_at", "the due date")
    zone = next(ZoneInfo(key) for key, name in timezones.ZONES if name in due["label"])  # "Due (<zone>)"
    in_a_day = datetime.now(zone).replace(tzinfo=None) + timedelta(days=1)
    assert abs(datetime.fromisoformat(due["value"]) - in_a_day) < timedelta(minutes=10), \
        f"the due time defaults to this time tomorrow: {due['value']}"
    # a date-time field has one Tab stop per part (month, day, year, hour, minute...): Tab on to the next field
    advocate.to(lambda el: el["id"] == "f-kind", "the task kind", limit=8)
    advocate.to(lambda el: el["tag"] == "button" and el["text"] == "Add task", "Add task", limit=3)
    with a.expect_navigation():
        advocate.press("Enter")
    expect(a.locator("#tasks tbody")).to_contain_text(TASK)

    # -- the timeline shows every step --------------------------------------------------------------------------
    timeline = a.locator("#timeline")
    for step in ("Case opened", "Contact attached", "Consent recorded: Referral to service providers",
                 f"Referral sent: {SHELTER_ORG}", "Task added"):
        expect(timeline.locator("li").filter(has_text=step).first).to_be_visible()
    expect(timeline.locator("li").filter(has_text=re.compile(r"Referral updated: .*Accepted"))).to_have_count(1)
    a.locator("#timeline").scroll_into_view_if_needed()
    shot(a, "keyboard-08-timeline")
