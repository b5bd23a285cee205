"""/metrics in Prometheus' text format, its counters checked against a scripted
sequence of events: commands, a redelivery, an unusable event, a send the
platform refuses for good and one it accepts on the second try; then a request
whose approval deadline is missed."""

from helpers import DIRECTORY, FORM, at, import_directory, replies_to
from prom import scrape

HOUR = 3_600_000


def test_event_and_outbox_counters_match_the_script(sim, daemon):
    m = scrape(daemon)
    assert m.get("collabd_build_info", version=m.text.split('version="')[1].split('"')[0]) == 1
    assert m.get("collabd_connection_up", platform="feishu") == 1
    assert m.get("collabd_events_received_total", platform="feishu") == 0

    firsts = []
    for i in range(5):
        r = sim.inject_message("oc_m", "ou_alice", "/帮助")
        sim.wait_acked(r["event_id"])
        firsts.append(r)
    sim.wait_for(lambda: all(replies_to(sim, r["message_id"]) for r in firsts), timeout=10)

    # A redelivery of an applied event: acked again, applied once.
    assert sim.redeliver(firsts[0]["event_id"], force=True)
    sim.wait_for(lambda: daemon.stats()["inbox"]["duplicates"] == 1)
    # An event that will never parse: acked and dropped.
    sim.send_event(payload={"schema": "2.0", "header": {}})
    sim.wait_for(lambda: daemon.stats()["inbox"]["rejected"] == 1)

    # A send refused for good (bot not in the chat) ...
    sim.fail("/open-apis/im/v1/messages", status=400, code=230002, count=1, msg="Bot is not in the chat")
    sim.inject_message("oc_m2", "ou_alice", "/帮助")
    sim.wait_for(lambda: daemon.sql("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")[0][0] == 1, timeout=10)
    # ... and one that fails once with a 503 and then goes through.
    sim.fail("/open-apis/im/v1/messages", status=503, count=1)
    r = sim.inject_message("oc_m3", "ou_alice", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=15)

    m = scrape(daemon)
    f = {"platform": "feishu"}
    assert m.get("collabd_events_received_total", **f) == 9
    assert m.get("collabd_events_acked_total", **f) == 9
    assert m.get("collabd_events_deduplicated_total", **f) == 1
    assert m.get("collabd_events_rejected_total", **f) == 1
    assert m.get("collabd_events_unacked_total", **f) == 0
    assert m.get("collabd_events_received_total", platform="dingtalk") == 0
    # Every ack is in the histogram, and each took well under a second.
    assert m.get("collabd_ack_latency_seconds_count", **f) == 9
    assert m.get("collabd_ack_latency_seconds_bucket", le="1.000000", **f) == 9
    assert 0 < m.get("collabd_ack_latency_seconds_sum", **f) < 9
    assert m.get("collabd_outbox_sent_total") == 6
    assert m.get("collabd_outbox_failed_total") == 1
    assert m.get("collabd_outbox_retries_total") == 1
    assert m.get("collabd_send_errors_total", code="230002", final="true") == 1
    assert sum(v for (name, labels), v in m.samples.items()
               if name == "collabd_send_errors_total" and ("final", "false") in labels) == 1
    assert m.get("collabd_outbox_depth") == 0
    assert m.get("collabd_reconnects_total", **f) == 0
    assert m.get("collabd_connects_total", **f) == 1
    # The JSON stats and the metrics tell the same story.
    s = daemon.stats()
    assert s["outbox"]["sent"] == m.get("collabd_outbox_sent_total")
    assert s["feishu_ws"]["acks"] == m.get("collabd_events_acked_total", **f)


def test_reconnects_are_counted(sim, daemon):
    sim.drop()
    sim.wait_for(lambda: daemon.stats()["feishu_ws"]["connects"] >= 2, timeout=10)
    sim.wait_for(lambda: scrape(daemon).get("collabd_connection_up", platform="feishu") == 1, timeout=10)
    m = scrape(daemon)
    assert m.get("collabd_reconnects_total", platform="feishu") >= 1
    assert m.get("collabd_connects_total", platform="feishu") == daemon.stats()["feishu_ws"]["connects"]


def test_requests_timers_and_sla_breaches(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True)
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})   # a Monday
    r = sim.inject_message("oc_m", "ou_init", FORM)
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    (state,), = d.sql("SELECT state FROM requests")

    m = scrape(d)
    assert m.get("collabd_requests", state=state) == 1
    assert m.get("collabd_deadlines_open", policy="approval") == 1
    assert m.get("collabd_sla_overdue", policy="approval") == 0
    assert m.get("collabd_sla_breaches_total", policy="approval") == 0
    pending = d.sql("SELECT COUNT(*) FROM timers WHERE state = 'pending'")[0][0]
    assert pending > 0 and m.get("collabd_timers_pending") == pending
    assert m.get("collabd_timers_fired_total") == 0

    # Two working days later the approval (due in one) is overdue, and its
    # reminder and escalations have fired.
    d.admin("/debug/clock", {"advance_ms": 48 * HOUR})
    sim.wait_for(lambda: scrape(d).get("collabd_timers_fired_total") >= 1, timeout=10)
    m = scrape(d)
    assert m.get("collabd_sla_overdue", policy="approval") == 1
    assert m.get("collabd_sla_breaches_total", policy="approval") == 1
    fired = d.sql("SELECT COUNT(*) FROM timers WHERE state = 'fired'")[0][0]
    assert m.get("collabd_timers_fired_total") == fired
