"""Group commit: a backlog is applied in few synced transactions, and every
event is acked on its first delivery (an ack lost inside the daemon would only
show as a redelivery, so redeliveries are pushed far out and counted)."""

import threading

import pytest

from daemonctl import Daemon



@pytest.mark.parametrize("batch_max_events,EVENTS", [(256, 3000), (1, 300)])
def test_backlog_is_acked_once_each_in_few_commits(sim, tmp_path, batch_max_events, EVENTS):
    """batch_max_events=1 commits each event (one sync each: slow, hence fewer)
    from inside the adapter's receive callback, before it has returned: the
    ack must still reach the platform."""
    sim.set_config(redeliver_after=120)
    d = Daemon(sim, tmp_path, extra={"log_level": "warn", "inbox": {"batch_max_events": batch_max_events}})

    # The backlog waits in the simulator; on connect it is pushed all at once.
    def inject(k):
        for i in range(k, EVENTS, 4):
            sim.inject_message(f"oc_gc_{i % 30}", f"ou_{i % 7}", f"聊天 {i}")
    threads = [threading.Thread(target=inject, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    d.start()
    try:
        sim.wait_for(lambda: len(sim.acks()) >= EVENTS, timeout=60, interval=0.2,
                     message="backlog not acked on its first delivery")
        acks = sim.acks()
        assert len(acks) == EVENTS and all(a["code"] == 200 and not a["duplicate"] for a in acks)
        assert not sim.state()["unacked"]
        inbox = d.stats()["inbox"]
        assert inbox["applied"] == EVENTS and inbox["duplicates"] == 0 and inbox["failed"] == 0
        if batch_max_events == 1:
            assert inbox["commits"] == EVENTS and inbox["batch_events_max"] == 1, inbox
        else:
            # One synced commit carries many events (a loop turn reads up to 64 KB).
            assert inbox["commits"] < EVENTS / 5 and inbox["batch_events_max"] > 10, inbox
        assert d.sql("SELECT COUNT(*) FROM inbox")[0][0] == EVENTS
    finally:
        rc = d.stop()
    assert rc == 0, d.log()[-3000:]  # under the sanitizers: no leak, no UB
