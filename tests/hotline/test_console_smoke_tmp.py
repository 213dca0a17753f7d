import re

from tests.conftest import csrf_of


def test_console_flow(client, make_user, login):
    adv = make_user("hotline_advocate"); sup = make_user("hotline_supervisor")
    r = login(adv); assert r.status_code == 303, r.text
    r = client.get("/console/contacts/new"); assert r.status_code == 200, r.text
    tok = csrf_of(client, "/console/contacts/new")
    r = client.post("/console/contacts", data={"csrf_token": tok, "channel": "web_chat", "language": "fr", "province": "ON", "city": "Thunder Bay", "then": "case", "caller_phone": "807-555-0100"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    loc = r.headers["location"]; print(loc)
    r = client.get(loc); assert r.status_code == 200, r.text
    cid = re.search(r"contact_id=(\d+)", loc).group(1)
    r = client.post("/console/cases", data={"csrf_token": tok, "contact_ids": cid, "needs": ["emergency_shelter","counselling"], "risk_level": "high", "assigned_to_id": str(adv.id)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_url = r.headers["location"]
    r = client.get(case_url); assert r.status_code == 200, r.text
    case_id = case_url.rsplit("/",1)[1]
    r = client.post(f"/console/cases/{case_id}/consents", data={"csrf_token": tok, "purpose": "referral", "method": "verbal"}); assert r.status_code == 200, r.text
    r = client.post(f"/console/cases/{case_id}/tasks", data={"csrf_token": tok, "title": "Call back", "due_at": "2026-11-25T10:00", "kind": "follow_up_contact"}); assert r.status_code == 409, r.text
    assert "consent" in r.text
    r = client.post(f"/console/cases/{case_id}/tasks", data={"csrf_token": tok, "title": "Check shelter", "due_at": "2026-11-25T10:00", "kind": "general"}); assert r.status_code == 200, r.text
    r = client.post(f"/console/cases/{case_id}/safety-plan", data={"csrf_token": tok, "safe_to_call_back": "yes", "safe_to_leave_voicemail": "no", "safe_to_text": "unknown", "code_word": "pizza"}); assert r.status_code == 200, r.text
    r = client.post(f"/console/cases/{case_id}/overrides", data={"csrf_token": tok, "purpose": "law_enforcement", "reason": "Caller says trafficker is at the door now"}); assert r.status_code == 200
    r = client.get(f"/console/cases/{case_id}/edit"); assert r.status_code == 200, r.text
    r = client.post(f"/console/cases/{case_id}", data={"csrf_token": tok, "status": "closed", "version": "1"}); assert r.status_code == 422, r.text
    for p in ["/console/contacts", "/console/cases", "/console/tasks", "/console/cases?status=open&assigned=me", f"/console/contacts/{cid}", f"/console/contacts/{cid}/edit", "/account", "/console/dashboard"]:
        r = client.get(p); print(p, r.status_code); assert r.status_code in (200, 403), (p, r.text[:3000])
    open("/tmp/case.html","w").write(client.get(case_url).text)
    client.cookies.clear()
    login(sup)
    r = client.get("/console/dashboard"); assert r.status_code == 200, r.text
    open("/tmp/dash.html","w").write(r.text)
    r = client.get(case_url); assert "Who viewed" in r.text
