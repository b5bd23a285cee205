"""Shared state of the Feishu simulator: config, credentials, logs and counters.

Plain data with no I/O, so the OpenAPI, control and WebSocket modules all
read and write one `Store`.  Everything runs on one asyncio loop, so no locks.
Times used for expiry are monotonic; times shown to tests are wall-clock ms.
"""

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

from sim_cards import CardLocks

UUID_WINDOW_S = 3600  # a send uuid is idempotent for 1 h (PLATFORMS.md §3.2)
TOKEN_REUSE_MIN_LEFT_S = 1800  # same token returned while >= 30 min remain (§3.1)
MAX_CONNECTIONS = 50  # per app (§1.10, §4.5)


def now_ms() -> int:
    return int(time.time() * 1000)


def _num(value):
    """Render 120.0 as 120 so integer-parsing clients get integers when possible."""
    return int(value) if float(value).is_integer() else value


@dataclass
class Config:
    """Values the control API can change at run time (seconds)."""
    ping_interval: float = 120
    reconnect_interval: float = 120
    reconnect_nonce: float = 30
    token_expire: float = 7200
    redeliver_after: float = 15
    max_redeliveries: int = 4  # Feishu retries a failed push at most 4 times (§1.8)

    def client_config(self) -> dict:
        """ClientConfig as sent in the endpoint response and every pong payload."""
        return {
            "PingInterval": _num(self.ping_interval),
            "ReconnectCount": -1,
            "ReconnectInterval": _num(self.reconnect_interval),
            "ReconnectNonce": _num(self.reconnect_nonce),
        }


@dataclass
class FailRule:
    """Answer the next `count` OpenAPI calls under `path_prefix` with an error."""
    path_prefix: str
    status: Optional[int]  # None or 200 with no code: only delay, then answer normally
    code: Optional[int]
    count: int
    reset: float = 1
    delay_ms: int = 0
    msg: Optional[str] = None


@dataclass
class Event:
    """A logical push the server wants acked (an event or card callback)."""
    key: str  # internal id, also used when event_id is unknown
    event_id: Optional[str]
    message_id: Optional[str]  # IM message id for im.message.receive_v1
    payload: bytes
    frame_type: str = "event"
    fragments: int = 1
    order: Optional[list] = None  # fragment send order, default 0..n-1
    auto_redeliver: bool = True
    acked: bool = False
    deliveries: int = 0  # times put on the wire
    sent_at: Optional[float] = None  # monotonic time of the latest delivery
    pending: bool = False  # sitting in the no-client queue
    frame_message_ids: list = field(default_factory=list)
    card_message_id: Optional[str] = None  # a card callback: the card it locks until answered


@dataclass
class Ticket:
    access_key: str
    service_id: int
    device_id: str
    used: bool = False


class Store:
    """Everything the simulator remembers, plus the counters /_sim/state reports."""

    def __init__(self, app_id: str, app_secret: str, bot_open_id: str,
                 tenant_key: str = "sim_tenant_key",
                 verification_token: str = "v-sim-verification-token"):
        self.app_id = app_id
        self.app_secret = app_secret  # never logged, never returned
        self.bot_open_id = bot_open_id
        self.tenant_key = tenant_key
        self.verification_token = verification_token
        self.config = Config()
        self.ws_port = 0
        self.ws_scheme = "ws"  # wss with --tls-cert

        self.tickets: dict = {}  # ticket -> Ticket
        self.tokens: dict = {}  # token -> monotonic expiry; removed when expired by control
        self.latest_token: Optional[str] = None
        self.token_serial = 0

        self.fail_rules: list = []
        self.endpoint_fail: Optional[dict] = None
        self.handshake_fail: Optional[dict] = None

        self.events: dict = {}  # key -> Event
        self.known_messages: dict = {}  # IM message_id -> {"chat_id", "from_bot", "msg_type"}
        self.bot_messages: dict = {}  # message_id -> record in self.messages
        self.uuids: dict = {}  # uuid -> (response data, monotonic time)
        self.card_locks = CardLocks()  # cards whose click is being handled
        self.left_users: set = set()  # open_ids Feishu can no longer resolve (people who left)

        self.counters = {"token_fetches": 0, "endpoint_calls": 0, "dup_uuid_hits": 0,
                         "pings": 0, "connections_total": 0}
        self.ping_service_ids: list = []
        self.ws_queries: list = []
        self.handshake_rejects: list = []
        self.reset_logs()

    def reset_logs(self) -> None:
        self.messages: list = []  # what the bot posted (after uuid dedupe)
        self.chats: list = []     # groups the bot created
        self.acks: list = []
        self.bad_frames: list = []
        self.requests: list = []  # OpenAPI call log

    # -- credentials -------------------------------------------------------

    def creds_ok(self, app_id, app_secret) -> bool:
        # compare_digest: not that timing matters here, but it is the habit.
        return (isinstance(app_id, str) and isinstance(app_secret, str)
                and app_id == self.app_id
                and secrets.compare_digest(app_secret, self.app_secret))

    def issue_ticket(self) -> tuple:
        """A fresh single-use ticket and the URL query that carries it."""
        ticket = str(uuid.uuid4())
        info = Ticket(access_key=secrets.token_hex(16),
                      # A positive int32 >= 2^24 like the observed 33554678.
                      service_id=secrets.randbelow(2**31 - 2**24) + 2**24,
                      device_id=str(7 * 10**18 + secrets.randbelow(10**18)))
        self.tickets[ticket] = info
        return ticket, info

    def get_token(self) -> tuple:
        """(token, expire seconds): reuse while >= 30 min remain, else mint a new one."""
        now = time.monotonic()
        if self.latest_token in self.tokens:
            left = self.tokens[self.latest_token] - now
            if left >= TOKEN_REUSE_MIN_LEFT_S:
                return self.latest_token, int(left)
        self.token_serial += 1
        token = f"t-sim-{self.token_serial}"
        self.tokens[token] = now + self.config.token_expire
        self.latest_token = token
        return token, _num(self.config.token_expire)

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    def expire_tokens(self) -> int:
        n = len(self.tokens)
        self.tokens.clear()
        self.latest_token = None
        return n

    # -- failure injection ---------------------------------------------------

    def take_fail_rule(self, path: str) -> Optional[FailRule]:
        """Consume one use of the first rule matching path, if any."""
        for rule in self.fail_rules:
            if rule.count > 0 and path.startswith(rule.path_prefix):
                rule.count -= 1
                self.fail_rules = [r for r in self.fail_rules if r.count > 0]
                return rule
        return None

    @staticmethod
    def take_counted(slot: Optional[dict]) -> Optional[dict]:
        """Consume one use of an endpoint/handshake failure slot."""
        if slot and slot.get("count", 0) > 0:
            slot["count"] -= 1
            return slot
        return None

    # -- uuid idempotency ----------------------------------------------------

    def uuid_hit(self, send_uuid: str) -> Optional[dict]:
        hit = self.uuids.get(send_uuid)
        if hit and time.monotonic() - hit[1] < UUID_WINDOW_S:
            return hit[0]
        return None

    def remember_uuid(self, send_uuid: str, data: dict) -> None:
        self.uuids[send_uuid] = (data, time.monotonic())

    # -- reporting -------------------------------------------------------------

    def unacked_event_ids(self) -> list:
        return [e.event_id for e in self.events.values() if e.event_id and not e.acked]
