"""Cards: /状态 posts a card whose 刷新 button redraws it; every decision taken
on a card redraws that card with the outcome, who and when, without the
buttons that no longer apply -- on Feishu in the click's own reply, since the
card is locked (230099 / 11310) while the click is handled; cards changed by
someone else are PATCHed and a locked PATCH is retried; what Feishu would
refuse (out-of-range properties, too many components, a mention of someone
who left) never fails a message for good."""

import time

import pytest

import pytest

from helpers import replies_to
from prom import scrape
from test_13_directory import import_directory
from test_15_sync import DIRECTORY, FORM, ID, at, latest, request_card

WHEN = "2026-11-30 10:00"

# Under `make valgrind` too (the whole file).
pytestmark = pytest.mark.valgrind


def elements(card):
    """Every element of a card, forms opened."""
    out = []
    for e in card["body"]["elements"]:
        out.append(e)
        out.extend(e.get("elements", []))
    return out


def markdown(card):
    return "\n".join(e["content"] for e in elements(card) if e["tag"] == "markdown")


def patches_of(sim, message_id):
    return [r for r in sim.requests() if r["method"] == "PATCH" and r["path"].endswith(message_id)]


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True)
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    daemon.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    return daemon


def say(sim, user, text):
    r = sim.inject_message("oc_sync", user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)


def approval_card(sim):
    return sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "interactive"
                                 and "待审批" in m["content"]["header"]["title"]["content"]], timeout=10)[0]


def test_status_refresh_redraws_the_card_in_the_clicks_reply(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/状态")
    card_msg = sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]
    assert card_msg["msg_type"] == "interactive"
    card = card_msg["content"]
    assert card["schema"] == "2.0" and card["config"]["update_multi"] is True
    assert "运行状态" in card["header"]["title"]["content"]
    button = [e for e in card["body"]["elements"] if e["tag"] == "button"][0]
    value = button["behaviors"][0]["value"]
    assert value == {"action": "status.refresh"}

    click = sim.card_action("oc_g", "ou_bob", card_msg["message_id"], value)
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"]["toast"]["type"] == "success"
    redrawn = ack["data"]["card"]
    assert redrawn["type"] == "raw"
    assert redrawn["data"]["schema"] == "2.0" and "运行状态" in redrawn["data"]["header"]["title"]["content"]
    msg = [m for m in sim.messages() if m["message_id"] == card_msg["message_id"]][0]
    assert msg["callback_cards"] == [redrawn["data"]] and msg["shown"] == redrawn["data"]
    assert patches_of(sim, card_msg["message_id"]) == []  # no PATCH against the click's lock
    assert len(sim.messages()) == 1  # updated in place, not sent anew


def test_unknown_button_gets_an_error_toast_and_changes_nothing(sim, daemon):
    click = sim.card_action("oc_g", "ou_bob", "om_whatever", {"action": "no.such.thing"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"]["toast"]["type"] == "error"
    assert "card" not in ack["data"]
    assert daemon.sql("SELECT COUNT(*) FROM outbox")[0][0] == 0


def test_card_ack_always_carries_data(sim, daemon):
    click = sim.card_action("oc_g", "ou_bob", "om_whatever", "not-an-object")
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"] is not None


@pytest.mark.parametrize("button,label", [("req.approve", "已批准"), ("req.reject", "已驳回")])
def test_approval_card_shows_the_outcome_who_and_when_without_buttons(sim, d, button, label):
    say(sim, "ou_init", FORM)
    card = approval_card(sim)
    assert [e for e in elements(card["content"]) if e["tag"] == "button"]

    click = sim.card_action("oc_sync", "ou_head", card["message_id"], {"action": button, "id": ID},
                            form_value={"reason": "预算不足"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    # The toast says the outcome, who and when ...
    assert ack["data"]["toast"] == {"type": "success", "content": f"{label} · 技术主管 · {WHEN}"}
    # ... and so does the card, redrawn in the reply: no buttons, no form left.
    shown = ack["data"]["card"]["data"]
    assert "待审批" not in shown["header"]["title"]["content"]
    assert not [e for e in elements(shown) if e["tag"] in ("button", "form", "input")]
    text = markdown(shown)
    assert f"**处理结果**：{label} · 技术主管 · {WHEN}" in text
    assert ("预算不足" in text) == (button == "req.reject")
    assert "<at " not in text  # nobody is @-mentioned again
    assert latest([m for m in sim.messages() if m["message_id"] == card["message_id"]][0]) == shown
    assert patches_of(sim, card["message_id"]) == []

    # A second click is refused politely and does not redraw anything.
    again = sim.card_action("oc_sync", "ou_head", card["message_id"], {"action": button, "id": ID},
                            form_value={"reason": "预算不足"})
    ack = sim.wait_acked(again["event_id"])
    assert ack["data"]["toast"]["type"] == "error" and "card" not in ack["data"]


def test_confirm_click_redraws_the_sync_card_with_the_buttons_that_still_apply(sim, d):
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    card = sim.wait_for(lambda: request_card(sim), timeout=10)
    click = sim.card_action("oc_sync", "ou_mkt", card["message_id"], {"action": "req.confirm", "id": ID})
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"]["toast"]["content"] == f"确认无误 · 市场王 · {WHEN}"
    shown = ack["data"]["card"]["data"]
    text = markdown(shown)
    assert "市场部：✅ 已确认（市场王）" in text and f"确认无误 · 市场王 · {WHEN}" in text
    # 财务部 has not answered: its buttons stay.
    assert [e for e in elements(shown) if e["tag"] == "button"
            and e["behaviors"][0]["value"]["action"] == "req.confirm"]
    assert patches_of(sim, card["message_id"]) == []


def test_a_patch_against_a_locked_card_is_retried(sim, d):
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    card = sim.wait_for(lambda: request_card(sim), timeout=10)
    # Someone's click on the sync card is being handled (the card is locked)
    # while 市场部 confirms by command: the card's PATCH meets the lock.
    sim.lock_card(card["message_id"], seconds=2)
    sim.inject_message("oc_sync", "ou_mkt", f"/确认 {ID}")
    sim.wait_for(lambda: [r for r in patches_of(sim, card["message_id"]) if r["code"] == 230099], timeout=10)
    time.sleep(2)  # the lock ends (the click is answered) ...
    d.admin("/debug/clock", {"advance_ms": 2000})  # ... and the retry comes due (the test clock is frozen)
    sim.wait_for(lambda: "市场部：✅ 已确认（市场王）" in markdown(latest(request_card(sim))), timeout=10)
    codes = [r["code"] for r in patches_of(sim, card["message_id"])]
    assert codes[0] == 230099 and codes[-1] == 0, codes
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")[0][0] == 0


def test_a_mention_feishu_cannot_resolve_is_sent_again_as_a_name(sim, d):
    sim.users_left(["ou_head"])  # the approver has left the company
    say(sim, "ou_init", FORM)
    card = approval_card(sim)
    text = markdown(card["content"])
    assert "@技术主管" in text and "<at id=ou_head>" not in text
    refused = [r for r in sim.requests() if r["path"].startswith("/open-apis/im/v1/messages") and r["code"] == 230099]
    assert len(refused) == 1
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")[0][0] == 0
    assert scrape(d).get("collabd_mentions_dropped_total", platform="feishu") == 1
    assert "invalid user resource" in d.log() or "could not resolve" in d.log() or "name as text" in d.log()


def test_every_card_stays_inside_feishus_component_limits(sim, make_daemon, tmp_path):
    # 120 departments: two selects listing them all would be ~250 components.
    many = {"users": [{"id": "ou_boss", "name": "老板"}],
            "departments": [{"code": "D" + chr(65 + i // 26) + chr(65 + i % 26), "name": f"部门{i:03d}",
                             "head": "ou_boss", "contacts": ["ou_boss"]} for i in range(120)]}
    daemon = make_daemon()
    assert import_directory(daemon, many, tmp_path).returncode == 0
    r = sim.inject_message("oc_big", "ou_boss", "/需求")
    card = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]
    inputs = {e.get("name"): e for e in elements(card["content"])}
    assert inputs["departments"]["tag"] == "input" and "部门名称" in inputs["departments"]["placeholder"]["content"]
    for e in elements(card["content"]):
        if e["tag"] == "input":
            assert 1 <= e["max_length"] <= 1000, e
    assert daemon.sql("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")[0][0] == 0


@pytest.mark.parametrize("command,label", [(f"/需求 批准 {ID}", "已批准 · 技术主管"),
                                           (f"/需求 撤回 {ID}", "发起人已撤回 · 发起人甲")])
def test_a_decision_typed_as_a_command_also_closes_the_approval_card(sim, d, command, label):
    say(sim, "ou_init", FORM)
    card = approval_card(sim)
    say(sim, "ou_head" if "批准" in command else "ou_init", command)
    shown = sim.wait_for(lambda: [m["shown"] for m in sim.messages() if m["message_id"] == card["message_id"]
                                  and m["patches"]], timeout=10)[0]
    assert f"**处理结果**：{label} · {WHEN}" in markdown(shown)
    assert not [e for e in elements(shown) if e["tag"] in ("button", "form", "input")]
