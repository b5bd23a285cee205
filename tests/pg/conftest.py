"""Shared by the PostgreSQL tests (`make test-pg`): the import paths of the
e2e helpers and the simulators, a skip when no throwaway server runs
(COLLABD_TEST_PG, set by pgcluster.py), and the simulator fixture."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, HERE)

import daemonctl  # noqa: E402
import pgcluster  # noqa: E402
from simctl import Sim  # noqa: E402

# Per-chat send pacing lifted except where a test is about it (daemonctl.FAST_PACE).
daemonctl.FAST_PACE = True


def pytest_collection_modifyitems(config, items):
    if pgcluster.server_url():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (make test-pg)")
    for item in items:
        if str(item.fspath).startswith(HERE + os.sep):
            item.add_marker(skip)


@pytest.fixture
def sim():
    """Fast pings, reconnects and redeliveries, so a test sees them within seconds."""
    s = Sim.start()
    s.set_config(ping_interval=2, reconnect_interval=1, reconnect_nonce=1, redeliver_after=2)
    yield s
    s.stop()
