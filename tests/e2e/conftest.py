"""Fixtures: a simulator and a collabd daemon connected to it, per test.

Feishu: sim, make_daemon, daemon.  DingTalk: dsim, ding (a factory like make_daemon).
Plain helpers and the standard directory live in helpers.py."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, HERE)

from simctl import Sim  # noqa: E402
from dingctl import DingSim  # noqa: E402
import daemonctl  # noqa: E402
from daemonctl import Daemon  # noqa: E402

# Per-chat send pacing lifted except where a test is about it (daemonctl.FAST_PACE).
daemonctl.FAST_PACE = True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "valgrind: also run under valgrind by `make valgrind` (pytest -m valgrind); "
        "scenarios that cover the daemon's code paths in minutes, not the slow bursts")


@pytest.fixture
def sim():
    s = Sim.start()
    # Fast reconnects and pings so that a test sees them within seconds.
    s.set_config(ping_interval=2, reconnect_interval=1, reconnect_nonce=1, redeliver_after=2)
    yield s
    # Whatever the test did, every frame the daemon sent must have been well formed.
    bad = [a for a in s.acks() if a["problems"]]
    frames = s.bad_frames()
    s.stop()
    assert not bad, f"malformed acks: {bad[:3]}"
    assert not frames, f"malformed frames from the daemon: {frames[:3]}"


@pytest.fixture
def make_daemon(sim, tmp_path):
    """Factory: make_daemon(**kw) -> a started Daemon; all are stopped at teardown."""
    made = []

    def factory(start=True, **kw):
        d = Daemon(sim, tmp_path, **kw)
        made.append(d)
        if start:
            d.start()
            sim.wait_connected()
        return d

    yield factory
    for d in made:
        rc = d.stop()
        # Under the sanitizers a leak or UB report makes the exit code non-zero.
        ok = rc in (0, None, -9) or rc in d.allowed_exit
        if not ok:
            print(d.log()[-4000:])
        assert ok, f"collabd exited with {rc}"


@pytest.fixture
def daemon(make_daemon):
    return make_daemon()


@pytest.fixture
def dsim():
    s = DingSim.start()
    s.set_config(redeliver_after=2)
    yield s
    bad = [a for a in s.acks() if a.get("problems")]
    posted = [m for m in s.messages() if m.get("problems")]
    s.stop()
    assert not bad, f"malformed acks: {bad[:3]}"
    assert not posted, f"malformed messages: {posted[:3]}"


@pytest.fixture
def ding(dsim, tmp_path):
    made = []

    def factory(**kw):
        (tmp_path / f"d{len(made)}").mkdir(exist_ok=True)
        d = Daemon(dsim, tmp_path / f"d{len(made)}", platform="dingtalk", **kw)
        made.append(d)
        d.start()
        dsim.wait_connected()
        return d

    yield factory
    for d in made:
        rc = d.stop()
        assert rc in (0, None, -9) or rc in d.allowed_exit, d.log()[-3000:]
