"""Shared state of the DingTalk simulator: config, credentials, logs, counters.

Plain data with no I/O; the OpenAPI, control and WebSocket modules all read and
write one `DtStore`.  Everything runs on one asyncio loop, so there are no locks.
Expiry uses monotonic time, except sessionWebhook expiry, which is wall-clock ms
because the platform puts it in the message (`sessionWebhookExpiredTime`).
"""

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

TOPIC_BOT_MESSAGE = "/v1.0/im/bot/messages/get"
TOPIC_CARD_CALLBACK = "/v1.0/card/instances/callback"


def now_ms() -> int:
    return int(time.time() * 1000)


def request_id() -> str:
    """An id shaped like the real `requestid` (upper-case uuid)."""
    return str(uuid.uuid4()).upper()


def api_error(code: str, message: str) -> dict:
    """The api.dingtalk.com error body (PLATFORMS.md Part 2 §5.5)."""
    return {"code": code, "message": message, "requestid": request_id()}


@dataclass
class Config:
    """Values /_sim/config can change at run time (seconds unless noted)."""
    redeliver_after: float = 20
    max_redeliveries: int = 3
    token_expire: float = 7200
    system_ping_interval: float = 0  # 0 = no automatic SYSTEM pings
    extra_headers: bool = True  # unknown header keys on every downstream frame
    ticket_valid_s: float = 90
    webhook_valid_s: float = 5400  # sessionWebhookExpiredTime = createAt + this
    card_callback_deadline_ms: int = 2000  # §4.5: a slower answer is noted as a problem
    # The card template id the operator imported from `collabd dingtalk card-template`:
    # cards of this template have their parameters checked (dt_cards.py) and can be clicked.
    generic_template_id: str = ""
    # Conversations the robot cannot deliver cards to (deliverResults[].success false).
    undeliverable: list = field(default_factory=list)


@dataclass
class FailRule:
    """Answer the next `count` calls under `path_prefix` with `status` and `body`."""
    path_prefix: str
    status: Optional[int]  # None: only delay, then answer normally
    body: object  # dict, str, or None (a default body for the status)
    count: int
    delay_ms: int = 0


@dataclass
class Ticket:
    expires: float  # monotonic
    subscriptions: list
    used: bool = False


@dataclass
class Push:
    """A logical CALLBACK/EVENT push that wants an ack (may be sent several times)."""
    key: str
    frame_type: str  # CALLBACK | EVENT
    topic: str
    data: str  # the JSON string placed in the frame's `data`
    msg_id: Optional[str] = None  # robot message msgId (the dedupe key)
    out_track_id: Optional[str] = None
    event_headers: dict = field(default_factory=dict)  # EVENT-only headers
    auto_redeliver: bool = False
    acked: bool = False
    deliveries: int = 0
    sent_at: Optional[float] = None  # monotonic, latest delivery
    pending: bool = False  # waiting in the queue for an eligible connection
    message_ids: list = field(default_factory=list)  # headers.messageId of each delivery


class DtStore:
    """Everything the simulator remembers, plus what /_sim/state reports."""

    def __init__(self, client_id: str, client_secret: str):
        self.client_id = client_id
        self.client_secret = client_secret  # never logged, never returned
        self.corp_id = "dingsimcorp0000000000000000000000"
        self.chatbot_user_id = "$:LWCP_v1:$" + secrets.token_urlsafe(24)
        self.config = Config()
        self.http_port = 0
        self.ws_port = 0
        self.ws_scheme = "ws"  # wss with --tls-cert

        self.tickets: dict = {}  # ticket -> Ticket
        self.tokens: dict = {}  # token -> monotonic expiry
        self.latest_token: Optional[str] = None
        self.token_serial = 0

        self.fail_rules: list = []
        self.open_fail: Optional[dict] = None

        self.pushes: dict = {}  # key -> Push
        self.sessions: dict = {}  # session id -> {conversation_id, expires_ms, msg_id}
        self.cards: dict = {}  # outTrackId -> record (also in self.messages)

        self.counters = {"token_fetches": 0, "connections_total": 0,
                         "pings_sent": 0, "pings_answered": 0}
        self.opens: list = []
        self.pings: list = []
        self.disconnects: list = []
        self.ws_queries: list = []
        self.handshake_rejects: list = []
        self.reset_logs()

    def reset_logs(self) -> None:
        self.messages: list = []
        self.acks: list = []
        self.bad_frames: list = []
        self.requests: list = []

    # -- credentials -----------------------------------------------------------

    def creds_ok(self, client_id, client_secret) -> bool:
        return (isinstance(client_id, str) and isinstance(client_secret, str)
                and client_id == self.client_id
                and secrets.compare_digest(client_secret.encode(), self.client_secret.encode()))

    def issue_ticket(self, subscriptions: list) -> str:
        ticket = str(uuid.uuid4())
        self.tickets[ticket] = Ticket(time.monotonic() + self.config.ticket_valid_s,
                                      subscriptions)
        return ticket

    def get_token(self) -> tuple:
        """(token, expireIn): the same token while it is valid, lifetime extended (§3.4)."""
        now = time.monotonic()
        expire = self.config.token_expire
        if self.latest_token is not None and self.token_valid(self.latest_token):
            self.tokens[self.latest_token] = now + expire
            return self.latest_token, _num(expire)
        self.token_serial += 1
        token = f"dt-sim-{self.token_serial}"
        self.tokens[token] = now + expire
        self.latest_token = token
        return token, _num(expire)

    def token_valid(self, token) -> bool:
        expiry = self.tokens.get(token) if isinstance(token, str) else None
        return expiry is not None and time.monotonic() < expiry

    def expire_tokens(self) -> int:
        n = len(self.tokens)
        self.tokens.clear()
        self.latest_token = None
        return n

    # -- sessionWebhooks ---------------------------------------------------------

    def new_session(self, conversation_id: str, msg_id: str, expires_ms: int) -> str:
        session = secrets.token_hex(16)
        self.sessions[session] = {"conversation_id": conversation_id, "msg_id": msg_id,
                                  "expires_ms": expires_ms}
        return session

    def session_url(self, session: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/robot/sendBySession?session={session}"

    def expire_webhooks(self) -> int:
        for info in self.sessions.values():
            info["expires_ms"] = 0
        return len(self.sessions)

    # -- failure injection ---------------------------------------------------------

    def take_fail_rule(self, path: str) -> Optional[FailRule]:
        for rule in self.fail_rules:
            if rule.count > 0 and path.startswith(rule.path_prefix):
                rule.count -= 1
                self.fail_rules = [r for r in self.fail_rules if r.count > 0]
                return rule
        return None

    def take_open_fail(self) -> Optional[dict]:
        slot = self.open_fail
        if slot and slot.get("count", 0) > 0:
            slot["count"] -= 1
            return slot
        return None

    # -- reporting ---------------------------------------------------------------------

    def unacked(self) -> list:
        """msgIds of robot messages (and keys of other auto-redelivered pushes) not acked."""
        return [p.msg_id or p.key for p in self.pushes.values()
                if p.auto_redeliver and not p.acked]


def _num(value):
    return int(value) if float(value).is_integer() else value
