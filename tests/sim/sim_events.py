"""Builders for the schema-2.0 event documents the simulator pushes.

Shapes follow PLATFORMS.md §2.1 (envelope), §2.2 (im.message.receive_v1) and
§2.3 (card.action.trigger).  They are kept literal and free of I/O so a test
reading this file can see exactly what the daemon is fed.
"""

import hashlib
import json
import time
import uuid

from sim_state import now_ms


def new_event_id() -> str:
    return uuid.uuid4().hex


def new_message_id() -> str:
    return "om_" + uuid.uuid4().hex


def user_ids(open_id: str) -> dict:
    """Stable union_id/user_id for an open_id, so repeated injections agree."""
    digest = hashlib.sha256(open_id.encode("utf-8")).hexdigest()
    return {"union_id": "on_" + digest[:32], "user_id": digest[32:40], "open_id": open_id}


def _envelope(store, event_id: str, event_type: str, create_time: str, event: dict) -> dict:
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": event_type,
            "create_time": create_time,
            "token": store.verification_token,
            "app_id": store.app_id,
            "tenant_key": store.tenant_key,
        },
        "event": event,
    }


def message_event(store, *, chat_id: str, sender_open_id: str, text=None,
                  mentions=None, chat_type="group", message_id=None, event_id=None,
                  message_type="text", content=None, root_id="", parent_id="",
                  sender_type="user") -> dict:
    """An im.message.receive_v1 document; `content` overrides the text body."""
    created = str(now_ms())
    body = content if content is not None else {"text": text or ""}
    message = {
        "message_id": message_id or new_message_id(),
        "root_id": root_id,
        "parent_id": parent_id,
        "create_time": created,
        "update_time": created,
        "chat_id": chat_id,
        "thread_id": "",
        "chat_type": chat_type,
        "message_type": message_type,
        # The platform sends content as a JSON-encoded *string* (§2.2).
        "content": json.dumps(body, ensure_ascii=False),
    }
    if mentions:  # the platform omits the key when nobody is mentioned
        message["mentions"] = [
            {"key": m["key"], "id": user_ids(m["open_id"]), "name": m.get("name", ""),
             "tenant_key": store.tenant_key}
            for m in mentions
        ]
    event = {
        "sender": {"sender_id": user_ids(sender_open_id), "sender_type": sender_type,
                   "tenant_key": store.tenant_key},
        "message": message,
    }
    return _envelope(store, event_id or new_event_id(), "im.message.receive_v1",
                     created, event)


# Optional action fields copied through when a test supplies them (§2.3).
_ACTION_PASSTHROUGH = ("form_value", "input_value", "option", "options", "checked", "timezone")


def card_action_event(store, *, chat_id: str, operator_open_id: str, open_message_id: str,
                      value, tag="button", name=None, event_id=None, **extra) -> dict:
    """A card.action.trigger document (callback over the long connection)."""
    action = {"value": value, "tag": tag}
    if name is not None:
        action["name"] = name
    for key in _ACTION_PASSTHROUGH:
        if extra.get(key) is not None:
            action[key] = extra[key]
    operator = dict(user_ids(operator_open_id), tenant_key=store.tenant_key)
    event = {
        "operator": operator,
        "token": "c-" + uuid.uuid4().hex,
        "action": action,
        "host": "im_message",
        "context": {"open_message_id": open_message_id, "open_chat_id": chat_id},
    }
    # The card callback doc shows create_time in microseconds (§2.1).
    created = str(int(time.time() * 1_000_000))
    return _envelope(store, event_id or new_event_id(), "card.action.trigger", created, event)
