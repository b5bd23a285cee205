"""The long connection: pings, ClientConfig, drops, reconnects, refused handshakes."""

import time

import pytest

from helpers import replies_to


def test_pings_carry_the_service_id_and_pongs_set_the_interval(sim, daemon):
    ws_query = sim.state()["ws_queries"][0]
    sim.wait_for(lambda: sim.state()["pings"] >= 1)
    assert sim.state()["ping_service_ids"] == [int(ws_query["service_id"])]
    # The server lowers PingInterval to 1 s in its pongs: pings come faster.
    sim.set_config(ping_interval=1)
    start = sim.state()["pings"]
    time.sleep(3.5)
    assert sim.state()["pings"] - start >= 2


def test_drop_reconnects_with_a_fresh_ticket_and_loses_nothing(sim, daemon):
    sim.drop()
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")  # queued while no client is connected
    sim.wait_connected()
    sim.wait_acked(r["event_id"], timeout=10)
    assert sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    tickets = [q["ticket"] for q in sim.state()["ws_queries"]]
    assert len(tickets) >= 2 and len(set(tickets)) == len(tickets)
    assert sim.state()["endpoint_calls"] >= 2


def test_drop_in_the_middle_of_a_fragmented_event(sim, daemon):
    sim.drop(mid_frame=True, chat_id="oc_g", sender_open_id="ou_alice", text="/帮助")
    sim.wait_connected()
    events = sim.wait_for(lambda: sim.state()["events"], timeout=5)
    ev = events[0] if isinstance(events, list) else next(iter(events))
    event_id = ev["event_id"] if isinstance(ev, dict) else ev
    sim.wait_acked(event_id, timeout=10)
    time.sleep(0.3)
    assert len([m for m in sim.messages() if m["msg_type"] == "text"]) == 1


def test_abrupt_close_is_noticed_and_recovered(sim, daemon):
    sim.drop(abrupt=True)
    sim.wait_for(lambda: daemon.stats()["feishu_ws"]["connects"] >= 2, timeout=10)
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])


def test_retryable_handshake_failure_is_retried(sim, make_daemon):
    sim.fail_handshake(500, count=2)
    d = make_daemon(start=False)
    d.start(wait=False)
    sim.wait_connected(timeout=15)
    assert len(sim.state()["handshake_rejects"]) >= 2
    assert "handshake refused: status=500" in d.log()


@pytest.mark.parametrize("status,autherr", [(403, None), (514, 1000040350)])
def test_permanent_handshake_failure_stops_the_daemon(sim, make_daemon, status, autherr):
    sim.fail_handshake(status, autherrcode=autherr, count=5)
    d = make_daemon(start=False)
    d.allowed_exit.add(78)
    d.start(wait=False)
    assert d.proc.wait(timeout=15) == 78
    log = d.log()
    assert "not retrying" in log and f"status={status}" in log
    assert len(sim.state()["handshake_rejects"]) == 1


def test_busy_endpoint_is_retried_bad_credentials_are_not(sim, make_daemon, tmp_path):
    sim.fail_endpoint(code=1000040343, count=2)
    d = make_daemon(start=False)
    d.start(wait=False)
    sim.wait_connected(timeout=15)
    d.stop()
    sim.fail_endpoint(code=10003, count=1)
    d.allowed_exit.add(78)
    d.start(wait=False)
    assert d.proc.wait(timeout=15) == 78
    assert "endpoint refused the app: code=10003" in d.log()


def test_secrets_never_reach_the_log(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    sim.drop()
    sim.wait_for(lambda: daemon.stats()["feishu_ws"]["connects"] >= 2, timeout=10)
    log = daemon.log()
    assert sim.app_secret not in log
    for q in sim.state()["ws_queries"]:
        assert q["ticket"] not in log and q["access_key"] not in log
    assert "t-sim-" not in log
