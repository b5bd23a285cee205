"""The one clock: tests can set and advance the daemon's clock, and only in test mode."""

import datetime
import json

from helpers import replies_to

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def ms(dt):
    return int(dt.timestamp() * 1000)


def test_clock_can_be_set_and_advanced_in_test_mode(sim, make_daemon):
    d = make_daemon(clock_control=True)
    friday = datetime.datetime(2026, 12, 4, 16, 59, 59, tzinfo=SHANGHAI)
    assert d.admin("/debug/clock", {"set_ms": ms(friday)}) == (200, {"now_ms": ms(friday)})
    assert d.admin("/debug/clock")[1]["now_ms"] == ms(friday)  # frozen: does not move
    assert d.admin("/debug/clock", {"advance_ms": 86_400_000})[1]["now_ms"] == ms(friday) + 86_400_000
    assert d.admin("/debug/clock", {"advance_ms": -5})[0] == 400
    # Everything the daemon stamps uses that clock: the timeline and the status card.
    r = sim.inject_message("oc_g", "ou_alice", "/状态")
    card = sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]["content"]
    assert "2026-12-05 16:59:59" in card["body"]["elements"][0]["content"]
    assert d.sql("SELECT at FROM timeline")[0][0] == ms(friday) + 86_400_000


def test_clock_cannot_be_moved_outside_test_mode(sim, daemon):
    status, body = daemon.admin("/debug/clock", {"set_ms": 0})
    assert status == 403 and "clock_control" in body["error"]


def test_healthz_reports_the_connection(sim, daemon):
    status, body = daemon.admin("/healthz")
    assert status == 200 and body["feishu"] == "connected"
    sim.fail_handshake(500, count=1000)
    sim.drop()
    sim.wait_for(lambda: daemon.admin("/healthz")[0] == 503, timeout=5)


def test_start_at_sets_the_test_clock_before_anything_reads_it(sim, make_daemon):
    tuesday = datetime.datetime(2026, 12, 8, 10, 10, tzinfo=SHANGHAI)
    d = make_daemon(clock_control=True, extra={"testing": {"start_at": "2026-12-08 10:10"}})
    assert d.admin("/debug/clock")[1]["now_ms"] == ms(tuesday)
    # A restart with a later start_at goes on from there, never from the real time.
    d.stop()
    cfg = json.loads(open(d.config_path, encoding="utf-8").read())
    cfg["testing"]["start_at"] = "2026-12-13 07:50:30"
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    d.start()
    sim.wait_connected()
    assert d.admin("/debug/clock")[1]["now_ms"] == ms(datetime.datetime(2026, 12, 13, 7, 50, 30, tzinfo=SHANGHAI))
    r = sim.inject_message("oc_g", "ou_alice", "/状态")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert {at for (at,) in d.sql("SELECT at FROM timeline")} == {ms(datetime.datetime(2026, 12, 13, 7, 50, 30,
                                                                                         tzinfo=SHANGHAI))}


def test_start_at_is_checked(tmp_path):
    from test_07_config import run, write
    base = {"database": str(tmp_path / "db"), "feishu": {"app_id": "cli_0123456789abcdef"},
            "admin": {"port": 8099}}
    bad = write(tmp_path, {**base, "testing": {"clock_control": True, "start_at": "2026-12-08T10:10"}})
    p = run(["--check-config", bad], {"COLLABD_FEISHU_APP_SECRET": "x"})
    assert p.returncode == 1 and "testing.start_at: expected local time" in p.stderr
    no_control = write(tmp_path, {**base, "testing": {"start_at": "2026-12-08 10:10"}})
    p = run(["--check-config", no_control], {"COLLABD_FEISHU_APP_SECRET": "x"})
    assert p.returncode == 1 and "only with testing.clock_control" in p.stderr
