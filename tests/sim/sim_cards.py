"""What Feishu refuses in a JSON 2.0 card, and the lock on a clicked card.

The rules (sources in deploy/feishu/SETUP.md, "卡片的限制"):
- an input's max_length must lie in 1..1000 (JSON 2.0 refuses out-of-range
  properties instead of ignoring them);
- a card holds at most 200 components (select options counted too, as
  collabd counts them) and its JSON at most 30 KB;
- a mention (<at id=...>) of someone the tenant cannot resolve -- e.g. a
  person who left -- rejects the whole card: 230099 / ErrCode 100290;
- while a click on a card is being handled the card is locked: a PATCH
  meanwhile fails with 230099 / ErrCode 11310 "card action is lock".
The answers mimic Feishu's wording: code 230099, msg "Failed to create card
content, ext=ErrCode: N; ErrMsg: ...; ErrorValue: ...; ".
"""

import json
import re
import time

CARD_ERROR = 230099
INPUT_MAX_LENGTH = 1000
MAX_COMPONENTS = 200
MAX_CARD_BYTES = 30 * 1024
_TEXT_TAGS = ("plain_text", "lark_md")
_AT_RE = re.compile(r"<at (?:id|user_id)=\"?([^\s\">]+)\"?\s*>")


def card_error(sub_code: int, what: str, value: str = "") -> str:
    return (f"Failed to create card content, ext=ErrCode: {sub_code}; ErrMsg: {what}; "
            f"ErrorValue: {value}; ")


def _components(node) -> int:
    if isinstance(node, list):
        return sum(_components(v) for v in node)
    if not isinstance(node, dict):
        return 0
    n = 1 if isinstance(node.get("tag"), str) and node["tag"] not in _TEXT_TAGS else 0
    if isinstance(node.get("options"), list):
        n += len(node["options"])
    return n + sum(_components(v) for k, v in node.items() if k != "options")


def _walk(node):
    if isinstance(node, list):
        for v in node:
            yield from _walk(v)
    elif isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)


def card_problem(card: dict, left_users) -> tuple:
    """(sub_code, message, value) of the first rule card breaks, or None."""
    if card.get("schema") != "2.0":
        return None  # the rules below are JSON 2.0's
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CARD_BYTES:
        return 11310, "card size over limit", str(size)
    n = _components(card.get("body"))
    if n > MAX_COMPONENTS:
        return 11310, "card element number over limit", str(n)
    for node in _walk(card.get("body")):
        if node.get("tag") == "input" and "max_length" in node:
            ml = node["max_length"]
            if not isinstance(ml, int) or isinstance(ml, bool) or not 1 <= ml <= INPUT_MAX_LENGTH:
                return 200621, "invalid property value: input.max_length must be in [1, 1000]", str(ml)
        if node.get("tag") == "markdown" and isinstance(node.get("content"), str):
            for uid in _AT_RE.findall(node["content"]):
                if uid in left_users:
                    return 100290, "there is an invalid user resource (at/person) in your card", uid
    return None


class CardLocks:
    """Cards locked by a click being handled: message_id -> monotonic expiry
    (the platform gives the handler 3 s), released when the click is answered
    -- after `linger` seconds, which tests may set to widen the window."""

    WINDOW_S = 3.0

    def __init__(self):
        self.until = {}
        self.linger = 0.0

    def lock(self, message_id: str, seconds: float = WINDOW_S) -> None:
        self.until[message_id] = time.monotonic() + seconds

    def answered(self, message_id: str) -> None:
        if message_id in self.until:
            if self.linger > 0:
                self.until[message_id] = time.monotonic() + self.linger
            else:
                del self.until[message_id]

    def locked(self, message_id: str) -> bool:
        expiry = self.until.get(message_id)
        if expiry is None:
            return False
        if time.monotonic() >= expiry:
            del self.until[message_id]
            return False
        return True
