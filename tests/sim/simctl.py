"""Test-side client for the Feishu simulator: start it, drive it, read it back.

    from simctl import Sim
    with Sim.start(app_id="cli_0123456789abcdef", app_secret="simsecret") as sim:
        sim.inject_message("oc_chat", "ou_alice", "hello")
        sim.wait_for(lambda: sim.acks())

Uses only the standard library (urllib), so any test can import it.  The
simulator's stderr goes to a temporary log file (`sim.log_path`, `sim.log()`)
so that a failing test can show what the simulator saw.
"""

import base64
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SIM_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "feishu_sim.py")
PYTHON = "/usr/bin/python3"  # Debian's python: the only one with the packages we rely on


class SimError(RuntimeError):
    """The simulator failed to start or rejected a control request."""


class Sim:
    """A running simulator subprocess and wrappers for its /_sim/ control API."""

    def __init__(self, proc, http_port: int, ws_port: int, log_path: str,
                 app_id: str, app_secret: str, bot_open_id: str):
        self.proc = proc
        self.http_port = http_port
        self.ws_port = ws_port
        self.base_url = f"http://127.0.0.1:{http_port}"
        self.log_path = log_path
        self.app_id = app_id
        self.app_secret = app_secret
        self.bot_open_id = bot_open_id

    # -- lifecycle ---------------------------------------------------------------

    @classmethod
    def start(cls, app_id="cli_0123456789abcdef", app_secret="simsecret",
              bot_open_id="ou_bot", extra_args=(), timeout=10.0) -> "Sim":
        fd, log_path = tempfile.mkstemp(prefix="feishu_sim_", suffix=".log")
        with os.fdopen(fd, "wb") as log_file:
            proc = subprocess.Popen(
                [PYTHON, SIM_SCRIPT, "--port", "0", "--ws-port", "0", "--app-id", app_id,
                 "--app-secret", app_secret, "--bot-open-id", bot_open_id, *extra_args],
                stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL)
        line = cls._read_port_line(proc, timeout)
        if line is None:
            proc.kill()
            proc.wait()
            with open(log_path, encoding="utf-8", errors="replace") as f:
                raise SimError(f"simulator did not report its ports:\n{f.read()}")
        ports = json.loads(line)
        return cls(proc, ports["http_port"], ports["ws_port"], log_path,
                   app_id, app_secret, bot_open_id)

    @staticmethod
    def _read_port_line(proc, timeout: float):
        # A selector rather than a blocking readline, so a hung start cannot hang the test run.
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    return None
                buf += chunk
        finally:
            sel.close()
        return buf.split(b"\n", 1)[0].decode()

    def stop(self, timeout=5.0) -> int:
        """SIGTERM, wait, and return the exit code (kills if it does not exit)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    # -- HTTP plumbing -------------------------------------------------------------

    def call(self, method: str, path: str, body=None, headers=None, timeout=10.0):
        """Any request to the simulator; returns (status, headers dict, parsed JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, hdrs, raw = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            status, hdrs, raw = err.code, dict(err.headers), err.read()
        try:
            return status, hdrs, json.loads(raw)
        except ValueError:
            return status, hdrs, raw.decode("utf-8", "replace")

    def _ctl(self, method: str, name: str, body=None) -> dict:
        status, _, result = self.call(method, "/_sim/" + name, body if body is not None else
                                      ({} if method == "POST" else None))
        if status != 200:
            raise SimError(f"/_sim/{name} -> {status}: {result}")
        return result

    @staticmethod
    def _clean(**fields) -> dict:
        return {k: v for k, v in fields.items() if v is not None}

    # -- injecting ---------------------------------------------------------------------

    def inject_message(self, chat_id, sender, text, mentions=None, fragments=1,
                       **extra) -> dict:
        """im.message.receive_v1; extra: chat_type, message_id, event_id, order, content,
        message_type, root_id, parent_id, sender_type.  -> {event_id, message_id,
        frame_message_id, queued}"""
        return self._ctl("POST", "message", self._clean(
            chat_id=chat_id, sender_open_id=sender, text=text, mentions=mentions,
            fragments=fragments, **extra))

    def card_action(self, chat_id, operator, open_message_id, value, form_value=None,
                    tag="button", name=None, **extra) -> dict:
        """card.action.trigger; extra: input_value, option, options, checked, timezone,
        event_id, fragments.  -> {event_id, frame_message_id, queued}"""
        return self._ctl("POST", "card_action", self._clean(
            chat_id=chat_id, operator_open_id=operator, open_message_id=open_message_id,
            value=value, form_value=form_value, tag=tag, name=name, **extra))

    def send_event(self, payload=None, type="event", fragments=1, raw_payload=None,
                   **extra) -> dict:
        """An arbitrary JSON payload (or raw bytes) as a data frame."""
        body = self._clean(type=type, fragments=fragments, **extra)
        if raw_payload is not None:
            body["raw_payload_b64"] = base64.b64encode(raw_payload).decode()
        else:
            body["payload"] = payload
        return self._ctl("POST", "event", body)

    def raw_frame(self, data: bytes) -> dict:
        """These exact bytes as one binary WebSocket message."""
        return self._ctl("POST", "raw_frame", {"b64": base64.b64encode(data).decode()})

    def fragments(self, frames, type="event") -> dict:
        """Hand-made fragments: dicts with message_id, sum, seq and payload (bytes)
        or payload_b64."""
        out = []
        for f in frames:
            f = dict(f)
            if "payload" in f:
                f["payload_b64"] = base64.b64encode(f.pop("payload")).decode()
            out.append(f)
        return self._ctl("POST", "fragments", {"frames": out, "type": type})

    # -- reading back ---------------------------------------------------------------

    def acks(self) -> list:
        return self._ctl("GET", "acks")["acks"]

    def bad_frames(self) -> list:
        return self._ctl("GET", "acks")["bad_frames"]

    def messages(self) -> list:
        return self._ctl("GET", "messages")["messages"]

    def chats(self) -> list:
        return self._ctl("GET", "chats")["chats"]

    def requests(self) -> list:
        return self._ctl("GET", "requests")["requests"]

    def state(self) -> dict:
        return self._ctl("GET", "state")

    def wait_for(self, predicate, timeout=5.0, interval=0.05, message=None):
        """Poll predicate() until it returns something truthy; return that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(message or f"condition not met within {timeout}s")
            if self.proc.poll() is not None:
                raise SimError(f"simulator exited with {self.proc.returncode}")
            time.sleep(interval)

    def wait_connected(self, n=1, timeout=5.0) -> dict:
        return self.wait_for(lambda: (s := self.state())["connected"] >= n and s, timeout,
                             message=f"fewer than {n} client(s) connected")

    def wait_acked(self, event_id, timeout=5.0) -> dict:
        """The first code-200 ack for event_id."""
        return self.wait_for(
            lambda: next((a for a in self.acks()
                          if a["event_id"] == event_id and a["code"] == 200), None),
            timeout, message=f"no 200 ack for {event_id}")

    # -- breaking things --------------------------------------------------------------

    def drop(self, mid_frame=False, abrupt=False, **message) -> dict:
        return self._ctl("POST", "drop", dict(mid_frame=mid_frame, abrupt=abrupt, **message))

    def fail(self, path_prefix, status=None, code=None, count=1, reset=None,
             delay_ms=None, msg=None) -> dict:
        """Next `count` OpenAPI calls under path_prefix fail (or are only slow, when
        status and code are None and delay_ms is set).  count=0 clears the rules
        set under path_prefix."""
        return self._ctl("POST", "fail", self._clean(
            path_prefix=path_prefix, status=status, code=code, count=count, reset=reset,
            delay_ms=delay_ms, msg=msg))

    def fail_endpoint(self, code=None, http_status=None, count=1) -> dict:
        return self._ctl("POST", "fail_endpoint", self._clean(
            code=code, http_status=http_status, count=count))

    def fail_handshake(self, status, autherrcode=None, count=1, msg=None) -> dict:
        return self._ctl("POST", "fail_handshake", self._clean(
            status=status, autherrcode=autherrcode, count=count, msg=msg))

    def expire_tokens(self) -> dict:
        return self._ctl("POST", "expire_tokens")

    def set_config(self, **values) -> dict:
        """ping_interval, reconnect_interval, reconnect_nonce, token_expire,
        redeliver_after, max_redeliveries."""
        return self._ctl("POST", "config", values)

    def redeliver(self, event_id=None, force=False) -> list:
        return self._ctl("POST", "redeliver", self._clean(
            event_id=event_id, force=force))["redelivered"]

    def reset_logs(self) -> dict:
        return self._ctl("POST", "reset_logs")

    def users_left(self, open_ids) -> dict:
        """Feishu can no longer resolve these people: a card @-mentioning one fails (100290)."""
        return self._ctl("POST", "users_left", {"open_ids": list(open_ids)})

    def lock_card(self, message_id=None, seconds=3, linger=None) -> dict:
        """Lock a card as during someone's click (PATCH -> 230099/11310); linger keeps
        clicked cards locked that long after their answer."""
        return self._ctl("POST", "lock_card", self._clean(message_id=message_id, seconds=seconds,
                                                          linger=linger))


if __name__ == "__main__":  # manual poking: python3 simctl.py  -> prints ports, Ctrl-C to stop
    with Sim.start(*sys.argv[1:3]) as sim:
        print(sim.base_url, "ws port", sim.ws_port, "log", sim.log_path)
        try:
            sim.proc.wait()
        except KeyboardInterrupt:
            pass
