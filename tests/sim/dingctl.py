"""Test-side client for the DingTalk simulator: start it, drive it, read it back.

    from dingctl import DingSim
    with DingSim.start() as sim:
        # point the daemon's DingTalk API base at sim.base_url, start it, then:
        sim.wait_connected()
        sent = sim.inject_message("cidSimGroup==", "manager7675", "hello")
        sim.wait_acked(sent["msg_id"])
        sim.wait_for(lambda: sim.messages())

Built on simctl.Sim (process start-up, HTTP plumbing, wait_for, log capture);
uses only the standard library.  The simulator's stderr goes to a temporary
log file (`sim.log_path`, `sim.log()`).
"""

import json
import os
import subprocess
import sys
import tempfile

from simctl import PYTHON, Sim, SimError

DING_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dingtalk_sim.py")


class DingSim(Sim):
    """A running dingtalk_sim.py subprocess and wrappers for its /_sim/ control API."""

    def __init__(self, proc, http_port: int, ws_port: int, log_path: str,
                 client_id: str, client_secret: str):
        super().__init__(proc, http_port, ws_port, log_path, client_id, client_secret, None)
        self.client_id = client_id
        self.client_secret = client_secret

    @classmethod
    def start(cls, client_id="dingsimclientid", client_secret="simsecret", extra_args=(),
              timeout=10.0) -> "DingSim":
        fd, log_path = tempfile.mkstemp(prefix="dingtalk_sim_", suffix=".log")
        with os.fdopen(fd, "wb") as log_file:
            proc = subprocess.Popen(
                [PYTHON, DING_SCRIPT, "--port", "0", "--ws-port", "0", "--client-id",
                 client_id, "--client-secret", client_secret, *extra_args],
                stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL)
        line = cls._read_port_line(proc, timeout)
        if line is None:
            proc.kill()
            proc.wait()
            with open(log_path, encoding="utf-8", errors="replace") as f:
                raise SimError(f"simulator did not report its ports:\n{f.read()}")
        ports = json.loads(line)
        return cls(proc, ports["http_port"], ports["ws_port"], log_path,
                   client_id, client_secret)

    # -- injecting -------------------------------------------------------------------

    def inject_message(self, conversation_id, sender_staff_id, text, **extra) -> dict:
        """A robot message (topic /v1.0/im/bot/messages/get).  extra: sender_nick, at_bot,
        conversation_type ("2" group / "1" 1:1), conversation_title, msg_id,
        webhook_valid_s, raw_text, at_users, sender_id, auto_redeliver.
        -> {msg_id, message_id (frame; None when queued), session_webhook, data, queued}"""
        return self._ctl("POST", "message", self._clean(
            conversation_id=conversation_id, sender_staff_id=sender_staff_id, text=text,
            **extra))

    def card_callback(self, conversation_id, user_id, out_track_id, params=None,
                      action_ids=None, **extra) -> dict:
        """A card click (topic /v1.0/card/instances/callback). -> {message_id, data, queued}"""
        return self._ctl("POST", "card_callback", self._clean(
            conversation_id=conversation_id, user_id=user_id, out_track_id=out_track_id,
            params=params or {}, action_ids=action_ids, **extra))

    def card_click(self, out_track_id, user_id, label=None, input=None) -> dict:
        """A click on a generic-template card as the user sees it: the button `label`,
        or (label None) its input submitted with `input`.  Refused (HTTP 409,
        ControlError) when the card shows no such button or its clicks would not
        come over Stream. -> {message_id, data, queued}"""
        return self._ctl("POST", "card_click", self._clean(
            out_track_id=out_track_id, user_id=user_id, label=label, input=input))

    def send_event(self, event_type, data=None, **extra) -> dict:
        """An EVENT frame (topic = event_type)."""
        return self._ctl("POST", "event", self._clean(event_type=event_type, data=data or {},
                                                       **extra))

    def raw_frame(self, text, conn=None) -> dict:
        """This exact text as one WebSocket text message."""
        return self._ctl("POST", "raw_frame", self._clean(text=text, conn=conn))

    def system_ping(self, conn=None) -> list:
        return self._ctl("POST", "system_ping", self._clean(conn=conn))["message_ids"]

    def system(self, topic, data="{}", conn=None) -> list:
        return self._ctl("POST", "system", dict(self._clean(topic=topic, conn=conn),
                                                data=data))["message_ids"]

    def disconnect(self, close_after=10.0, conn=None, abrupt=False) -> dict:
        return self._ctl("POST", "disconnect", self._clean(
            close_after=close_after, conn=conn, abrupt=abrupt))

    def drop(self, abrupt=False) -> dict:
        return self._ctl("POST", "drop", {"abrupt": abrupt})

    # -- reading back ------------------------------------------------------------------

    def acks_for(self, key) -> list:
        """Acks whose frame messageId, robot msgId or outTrackId is `key`."""
        return [a for a in self.acks()
                if key in (a["message_id"], a["msg_id"], a["out_track_id"])]

    def wait_acked(self, key, timeout=5.0) -> dict:
        """The first code-200 ack for a frame messageId, a robot msgId or an outTrackId."""
        return self.wait_for(
            lambda: next((a for a in self.acks_for(key) if a["code"] == 200), None),
            timeout, message=f"no 200 ack for {key}")

    def wait_connected(self, n=1, timeout=5.0) -> dict:
        return self.wait_for(lambda: (s := self.state())["connected"] >= n and s, timeout,
                             message=f"fewer than {n} client(s) connected")

    def wait_messages(self, n=1, timeout=5.0, **match) -> list:
        """Wait until at least n posted messages match all key=value pairs in match."""
        def found():
            got = [m for m in self.messages()
                   if all(m.get(k) == v for k, v in match.items())]
            return got if len(got) >= n else None
        return self.wait_for(found, timeout, message=f"fewer than {n} message(s) {match}")

    def wait_disconnect_settled(self, index=-1, timeout=15.0) -> dict:
        """The disconnect record once make_before_break is decided (the old conn closed)."""
        return self.wait_for(
            lambda: (d := self.state()["disconnects"]) and
            d[index]["make_before_break"] is not None and d[index], timeout,
            message="disconnected connection did not close")

    def card(self, out_track_id) -> dict:
        return next((m for m in self.messages()
                     if m["via"] == "card" and m["out_track_id"] == out_track_id), None)

    # -- breaking things ---------------------------------------------------------------

    def fail(self, path_prefix, status=None, body=None, count=1, delay_ms=None) -> dict:
        """Next `count` calls under path_prefix answer `status` with `body` (an object or
        text; default: the platform's body for 403/429, text for 503).  A body with
        "errcode" and no status answers HTTP 200 (webhook style).  Only delay_ms: slow."""
        return self._ctl("POST", "fail", self._clean(
            path_prefix=path_prefix, status=status, body=body, count=count, delay_ms=delay_ms))

    def fail_open(self, status=500, body=None, count=1) -> dict:
        return self._ctl("POST", "fail_open", self._clean(status=status, body=body, count=count))

    def expire_webhooks(self) -> dict:
        return self._ctl("POST", "expire_webhooks")

    def set_config(self, **values) -> dict:
        """redeliver_after, max_redeliveries, token_expire, system_ping_interval,
        extra_headers, ticket_valid_s, webhook_valid_s, card_callback_deadline_ms."""
        return self._ctl("POST", "config", values)

    def redeliver(self, msg_id=None, force=False) -> list:
        return self._ctl("POST", "redeliver", self._clean(
            msg_id=msg_id, force=force))["redelivered"]

    # -- platform calls, as the daemon would make them (handy in tests) -----------------

    def open_connection(self, subscriptions=None, accept=True):
        """POST /v1.0/gateway/connections/open -> (status, body)."""
        subs = subscriptions or [
            {"type": "EVENT", "topic": "*"},
            {"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"},
            {"type": "CALLBACK", "topic": "/v1.0/card/instances/callback"}]
        headers = {"Accept": "application/json"} if accept else {}
        status, _, body = self.call("POST", "/v1.0/gateway/connections/open",
                                    {"clientId": self.client_id,
                                     "clientSecret": self.client_secret,
                                     "subscriptions": subs, "ua": "dingctl/1.0"}, headers)
        return status, body

    def access_token(self) -> str:
        status, _, body = self.call("POST", "/v1.0/oauth2/accessToken",
                                    {"appKey": self.client_id, "appSecret": self.client_secret})
        if status != 200:
            raise SimError(f"accessToken -> {status}: {body}")
        return body["accessToken"]


if __name__ == "__main__":  # manual poking: python3 dingctl.py -> prints ports, Ctrl-C stops
    with DingSim.start(*sys.argv[1:3]) as sim:
        print(sim.base_url, "ws port", sim.ws_port, "log", sim.log_path)
        try:
            sim.proc.wait()
        except KeyboardInterrupt:
            pass
