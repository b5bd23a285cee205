"""The gateways over TLS (wss://), as the real platforms serve them.

collabd speaks WebSocket itself over an lws raw connection (daemon/platform/
wsconn.c), with lws doing TLS underneath; these tests put the simulators behind
TLS with a throwaway certificate authority and check that the daemon connects
when it trusts that CA (tls.ca_file) and refuses when it does not -- the
certificate is verified, not merely accepted.
"""

import os
import subprocess
import time

import pytest

from daemonctl import COLLABD_BIN, Daemon
from dingctl import DingSim
from helpers import replies_to
from simctl import Sim


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1 signed by it (PEM files)."""
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca_crt = d / "ca.key", d / "ca.pem"
    key, csr, crt = d / "server.key", d / "server.csr", d / "server.pem"
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=collabd test CA",
        "-keyout", str(ca_key), "-out", str(ca_crt))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(crt))
    return {"ca": str(ca_crt), "cert": str(crt), "key": str(key)}


def tls_args(files):
    return ["--tls-cert", files["cert"], "--tls-key", files["key"]]


def test_feishu_over_wss_with_the_trusted_ca(tls_files, tmp_path):
    sim = Sim.start(extra_args=tls_args(tls_files))
    sim.set_config(ping_interval=2, reconnect_interval=1, reconnect_nonce=1, redeliver_after=2)
    d = Daemon(sim, tmp_path, extra={"tls": {"ca_file": tls_files["ca"]}})
    try:
        d.start()
        sim.wait_connected(timeout=15)
        r = sim.inject_message("oc_g", "ou_alice", "/帮助")
        sim.wait_acked(r["event_id"], timeout=10)
        assert sim.wait_for(lambda: replies_to(sim, r["message_id"]))
        # Pings and pongs cross TLS; a drop is recovered like one in the clear.
        sim.wait_for(lambda: sim.state()["pings"] >= 1, timeout=10)
        sim.drop()
        sim.wait_for(lambda: d.stats()["feishu_ws"]["connects"] >= 2, timeout=15)
        r = sim.inject_message("oc_g", "ou_alice", "/帮助")
        sim.wait_acked(r["event_id"], timeout=10)
    finally:
        assert d.stop() in (0, None)
        sim.stop()


def test_dingtalk_over_wss_with_the_trusted_ca(tls_files, tmp_path):
    dsim = DingSim.start(extra_args=tls_args(tls_files))
    d = Daemon(dsim, tmp_path, platform="dingtalk", extra={"tls": {"ca_file": tls_files["ca"]}})
    try:
        d.start()
        dsim.wait_connected(timeout=15)
        r = dsim.inject_message("cid_g", "u_alice", "/帮助")
        dsim.wait_acked(r["message_id"], timeout=10)
    finally:
        assert d.stop() in (0, None)
        dsim.stop()


def test_an_untrusted_certificate_is_refused_and_retried(tls_files, tmp_path):
    """Without tls.ca_file the system's store does not know the test CA: no
    connection, a log line that says why, /healthz not ready -- and once the
    daemon is restarted trusting the CA it connects."""
    sim = Sim.start(extra_args=tls_args(tls_files))
    d = Daemon(sim, tmp_path)
    try:
        d.start(wait=False)
        deadline = time.time() + 15
        while time.time() < deadline and d.log().count("feishu connect attempt failed") < 2:
            time.sleep(0.2)
        log = d.log()
        assert log.count("feishu connect attempt failed") >= 2, log[-3000:]
        assert "verif" in log.lower() or "certificate" in log.lower(), log[-3000:]
        assert sim.state()["connected"] == 0
        assert d.stats()["feishu_ws"]["connects"] == 0
    finally:
        d.stop()
        sim.stop()


def test_an_unreadable_ca_file_is_a_config_error(tmp_path, sim):
    d = Daemon(sim, tmp_path, extra={"tls": {"ca_file": os.path.join(str(tmp_path), "missing.pem")}})
    out = subprocess.run([COLLABD_BIN, "--check-config", d.config_path], env=d.env(), capture_output=True,
                         text=True, timeout=30)
    assert out.returncode != 0
    assert "tls.ca_file: cannot read" in out.stdout + out.stderr
