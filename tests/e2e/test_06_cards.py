"""Cards: /状态 posts a card; its 刷新 button answers with a toast and PATCHes the card."""

import json

import pytest

from helpers import replies_to

# Under `make valgrind` too (the whole file).
pytestmark = pytest.mark.valgrind


def test_status_card_refresh_patches_the_card_in_place(sim, daemon):
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
    patched = sim.wait_for(lambda: [m for m in sim.messages() if m["patches"]])
    assert patched[0]["message_id"] == card_msg["message_id"]
    patch = patched[0]["patches"][-1]
    patch = patch if isinstance(patch, dict) else json.loads(patch)
    patch = patch.get("content", patch)
    patch = patch if isinstance(patch, dict) else json.loads(patch)
    assert patch["schema"] == "2.0" and "运行状态" in patch["header"]["title"]["content"]
    assert len(sim.messages()) == 1  # updated in place, not sent anew


def test_unknown_button_gets_an_error_toast_and_changes_nothing(sim, daemon):
    click = sim.card_action("oc_g", "ou_bob", "om_whatever", {"action": "no.such.thing"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"]["toast"]["type"] == "error"
    assert daemon.sql("SELECT COUNT(*) FROM outbox")[0][0] == 0


def test_card_ack_always_carries_data(sim, daemon):
    click = sim.card_action("oc_g", "ou_bob", "om_whatever", "not-an-object")
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"] is not None
