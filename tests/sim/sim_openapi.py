"""The Feishu OpenAPI subset collabd calls (PLATFORMS.md §1.1, §3, §4).

Covers the long-connection bootstrap, tenant_access_token, sending, replying
to and patching messages, and bot info; plus injected failures (status, code,
429 headers, slowness).  Every call is appended to `store.requests` (never
with the app secret).  Error bodies and HTTP statuses follow the spec: the
token endpoints fail with HTTP 200 + code, IM/auth errors with HTTP 400.
"""

import asyncio
import json
import logging
import re
import secrets

from sim_cards import CARD_ERROR, card_error, card_problem
from sim_http import Response, json_response, text_response
from sim_state import FailRule, now_ms

log = logging.getLogger("sim.openapi")

ENDPOINT_PATH = "/callback/ws/endpoint"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
CHATS_PATH = "/open-apis/im/v1/chats"
BOT_INFO_PATH = "/open-apis/bot/v3/info"
_REPLY_RE = re.compile(r"^/open-apis/im/v1/messages/([^/]+)/reply$")
_MESSAGE_RE = re.compile(r"^/open-apis/im/v1/messages/([^/]+)$")
_URGENT_RE = re.compile(r"^/open-apis/im/v1/messages/([^/]+)/urgent_app$")

MSG_TYPES = ("text", "post", "interactive")
RECEIVE_ID_TYPES = ("open_id", "union_id", "user_id", "email", "chat_id")
TEXT_LIMIT = 150 * 1024  # request body limits (§4.4)
CARD_POST_LIMIT = 30 * 1024

CODE_BAD_PARAM = 230001
CODE_TOO_LONG = 230025
CODE_NO_TOKEN = 99991661
CODE_BAD_TOKEN = 99991663
CODE_RATE_LIMIT = 99991400

_MSGS = {
    1: "system busy",
    10003: "invalid app credentials",
    1000040343: "internal error",
    1000040345: "system busy",
    CODE_RATE_LIMIT: "request trigger frequency limit",
    CODE_NO_TOKEN: "Missing access token for authorization. "
                   "Please make a request with token attached.",
    CODE_BAD_TOKEN: "Invalid access token for authorization. "
                    "Please make a request with token attached.",
}


class ApiError(Exception):
    """An error answer: HTTP status plus Feishu code and msg."""

    def __init__(self, status: int, code: int, msg: str = ""):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg or _MSGS.get(code, "error")


def _error(status: int, code: int, msg: str = "") -> Response:
    err = ApiError(status, code, msg)
    return json_response(status, {"code": err.code, "msg": err.msg,
                                  "error": {"log_id": secrets.token_hex(12)}})


def _json_body(req) -> dict:
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, CODE_BAD_PARAM, "request body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, CODE_BAD_PARAM, "request body is not a JSON object")
    return body


class OpenApi:
    """Routes one OpenAPI request; state lives in the shared Store."""

    def __init__(self, store):
        self.store = store
        # (method, compiled path or exact path, handler, needs bearer token)
        self.routes = [
            ("POST", ENDPOINT_PATH, self.ws_endpoint, False),
            ("POST", TOKEN_PATH, self.tenant_token, False),
            ("GET", BOT_INFO_PATH, self.bot_info, True),
            ("POST", MESSAGES_PATH, self.send_message, True),
            ("POST", _REPLY_RE, self.reply_message, True),
            ("PATCH", _MESSAGE_RE, self.patch_message, True),
            ("PATCH", _URGENT_RE, self.urgent_app, True),
            ("POST", CHATS_PATH, self.create_chat, True),
        ]

    def _route(self, req):
        for method, pattern, handler, auth in self.routes:
            if isinstance(pattern, str):
                params = () if req.path == pattern else None
            else:
                found = pattern.match(req.path)
                params = found.groups() if found else None
            if params is not None and req.method == method:
                return handler, auth, params
        return None

    async def handle(self, req) -> Response:
        counters = self.store.counters
        if req.path == ENDPOINT_PATH:
            counters["endpoint_calls"] += 1
        elif req.path == TOKEN_PATH:
            counters["token_fetches"] += 1
        resp = await self._answer(req)
        resp.headers.setdefault("X-Tt-Logid", secrets.token_hex(12))
        self._record(req, resp)
        return resp

    async def _answer(self, req) -> Response:
        rule = self.store.take_fail_rule(req.path)
        if rule is not None:
            if rule.delay_ms:
                await asyncio.sleep(rule.delay_ms / 1000)
            if rule.status not in (None, 200) or rule.code is not None:
                return self._injected(rule)
        route = self._route(req)
        if route is None:
            return text_response(404, "404 page not found")
        handler, needs_auth, params = route
        try:
            if needs_auth:
                self._check_auth(req)
            return handler(req, *params)
        except ApiError as err:
            return _error(err.status, err.code, err.msg)

    @staticmethod
    def _injected(rule: FailRule) -> Response:
        status = rule.status or 200
        code = rule.code if rule.code is not None else (
            CODE_RATE_LIMIT if status == 429 else 1000040343)
        headers = {}
        if status == 429:
            headers = {"x-ogw-ratelimit-limit": "50",
                       "x-ogw-ratelimit-reset": str(rule.reset)}
        body = {"code": code, "msg": rule.msg or _MSGS.get(code, "simulated failure")}
        return json_response(status, body, headers)

    def _check_auth(self, req) -> None:
        auth = req.headers.get("authorization", "")
        # A token without the "Bearer " prefix counts as missing (§3).
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ApiError(400, CODE_NO_TOKEN)
        if not self.store.token_valid(auth[7:].strip()):
            raise ApiError(400, CODE_BAD_TOKEN)

    def _record(self, req, resp: Response) -> None:
        code = send_uuid = None
        try:
            code = json.loads(resp.body).get("code")
        except (ValueError, AttributeError):
            pass
        try:
            body = req.json() if req.body else None
            if isinstance(body, dict) and isinstance(body.get("uuid"), str):
                send_uuid = body["uuid"]
        except (ValueError, UnicodeDecodeError):
            pass
        # Method, path, query and outcome only: bodies may hold the app secret.
        self.store.requests.append({
            "method": req.method, "path": req.path, "query": req.query,
            "status": resp.status, "code": code, "uuid": send_uuid, "time": now_ms()})
        log.info("%s %s -> %d code=%s", req.method, req.path, resp.status, code)

    # -- bootstrap and token ---------------------------------------------------

    def ws_endpoint(self, req) -> Response:
        store = self.store
        injected = store.take_counted(store.endpoint_fail)
        if injected:
            status = injected.get("http_status") or 200
            code = injected.get("code")
            if code is None:
                code = 1000040343
            body = {"code": code, "msg": _MSGS.get(code, "simulated failure")}
            return json_response(status, body)
        try:
            body = _json_body(req)
        except ApiError:
            body = {}
        if not store.creds_ok(body.get("AppID"), body.get("AppSecret")):
            return json_response(200, {"code": 10003, "msg": "invalid app credentials"})
        ticket, info = store.issue_ticket()
        url = (f"{store.ws_scheme}://127.0.0.1:{store.ws_port}/ws/v2?fpid=493&aid=552564"
               f"&device_id={info.device_id}&access_key={info.access_key}"
               f"&service_id={info.service_id}&ticket={ticket}")
        return json_response(200, {"code": 0, "msg": "ok", "data": {
            "URL": url, "ClientConfig": store.config.client_config()}})

    def tenant_token(self, req) -> Response:
        try:
            body = _json_body(req)
        except ApiError:
            return json_response(200, {"code": 10003, "msg": "invalid param"})
        if not self.store.creds_ok(body.get("app_id"), body.get("app_secret")):
            return json_response(200, {"code": 10014, "msg": "app not found"})
        token, expire = self.store.get_token()
        return json_response(200, {"code": 0, "msg": "ok",
                                   "tenant_access_token": token, "expire": expire})

    def bot_info(self, req) -> Response:
        return json_response(200, {"code": 0, "msg": "ok", "bot": {
            "open_id": self.store.bot_open_id, "app_name": "collabd-sim",
            "avatar_url": "", "activate_status": 2}})

    # -- chats ----------------------------------------------------------------------

    def create_chat(self, req) -> Response:
        """POST /open-apis/im/v1/chats: a new group with the bot and user_id_list.
        The optional uuid query parameter makes the call idempotent."""
        if req.query.get("user_id_type", "open_id") != "open_id":
            raise ApiError(400, CODE_BAD_PARAM, "this simulator takes open_id only")
        body = _json_body(req)
        name, members = body.get("name"), body.get("user_id_list")
        if not isinstance(name, str) or not name or not isinstance(members, list) \
                or not all(isinstance(m, str) and m for m in members):
            raise ApiError(400, CODE_BAD_PARAM, "name and user_id_list are required")
        uuid = req.query.get("uuid")
        for chat in self.store.chats:
            if uuid and chat["uuid"] == uuid:
                return json_response(200, {"code": 0, "msg": "success", "data": {"chat_id": chat["chat_id"]}})
        chat = {"chat_id": "oc_" + secrets.token_hex(16), "name": name, "members": members, "uuid": uuid,
                "chat_mode": body.get("chat_mode"), "chat_type": body.get("chat_type")}
        self.store.chats.append(chat)
        return json_response(200, {"code": 0, "msg": "success", "data": {"chat_id": chat["chat_id"],
                                                                         "name": name}})

    # -- messages -------------------------------------------------------------------

    def send_message(self, req) -> Response:
        rtype = req.query.get("receive_id_type")
        if rtype not in RECEIVE_ID_TYPES:
            raise ApiError(400, CODE_BAD_PARAM, "invalid receive_id_type")
        body = _json_body(req)
        receive_id = body.get("receive_id")
        if not isinstance(receive_id, str) or not receive_id:
            raise ApiError(400, CODE_BAD_PARAM, "receive_id is required")
        chat_id = receive_id if rtype == "chat_id" else ""
        return self._create(req, body, chat_id=chat_id, reply_to=None,
                            extra={"receive_id_type": rtype, "receive_id": receive_id})

    def reply_message(self, req, message_id: str) -> Response:
        body = _json_body(req)
        known = self.store.known_messages.get(message_id, {})
        return self._create(req, body, chat_id=known.get("chat_id", ""), reply_to=message_id,
                            extra={"reply_in_thread": bool(body.get("reply_in_thread", False))})

    def _check_card(self, parsed: dict) -> None:
        bad = card_problem(parsed, self.store.left_users)
        if bad:
            raise ApiError(400, CARD_ERROR, card_error(*bad))

    @staticmethod
    def _parse_content(req, msg_type, content):
        """content must be a string holding JSON of the right shape and size."""
        if not isinstance(content, str):
            raise ApiError(400, CODE_BAD_PARAM, "content must be a JSON string")
        try:
            parsed = json.loads(content)
        except ValueError:
            raise ApiError(400, CODE_BAD_PARAM, "content is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, CODE_BAD_PARAM, "content is not a JSON object")
        if msg_type == "text" and not isinstance(parsed.get("text"), str):
            raise ApiError(400, CODE_BAD_PARAM, "text content needs a \"text\" string")
        limit = TEXT_LIMIT if msg_type == "text" else CARD_POST_LIMIT
        if len(req.body) > limit:
            raise ApiError(400, CODE_TOO_LONG, "content too long")
        return parsed

    def _create(self, req, body: dict, chat_id: str, reply_to, extra: dict) -> Response:
        store = self.store
        msg_type = body.get("msg_type")
        if msg_type not in MSG_TYPES:
            raise ApiError(400, CODE_BAD_PARAM, f"unsupported msg_type {msg_type!r}")
        parsed = self._parse_content(req, msg_type, body.get("content"))
        if msg_type == "interactive":
            self._check_card(parsed)
        send_uuid = body.get("uuid")
        if send_uuid is not None:
            if not isinstance(send_uuid, str) or len(send_uuid) > 50:
                raise ApiError(400, CODE_BAD_PARAM, "uuid must be a string of <= 50 chars")
            previous = store.uuid_hit(send_uuid)
            if previous is not None:
                # Idempotent: same message back, nothing new posted (§3.2).
                store.counters["dup_uuid_hits"] += 1
                return json_response(200, {"code": 0, "msg": "success", "data": previous})
        message_id = "om_" + secrets.token_hex(16)
        created = str(now_ms())
        data = {
            "message_id": message_id, "root_id": reply_to or "", "parent_id": reply_to or "",
            "thread_id": "", "msg_type": msg_type, "create_time": created,
            "update_time": created, "deleted": False, "updated": False, "chat_id": chat_id,
            "sender": {"id": store.app_id, "id_type": "app_id", "sender_type": "app",
                       "tenant_key": store.tenant_key},
            "body": {"content": body["content"]},
        }
        record = {"message_id": message_id, "chat_id": chat_id, "reply_to": reply_to,
                  "msg_type": msg_type, "content": parsed, "uuid": send_uuid,
                  "patches": [], "callback_cards": [], "shown": parsed, "time": int(created), **extra}
        store.messages.append(record)
        store.bot_messages[message_id] = record
        store.known_messages[message_id] = {"chat_id": chat_id, "from_bot": True,
                                            "msg_type": msg_type}
        if send_uuid is not None:
            store.remember_uuid(send_uuid, data)
        return json_response(200, {"code": 0, "msg": "success", "data": data})

    def patch_message(self, req, message_id: str) -> Response:
        record = self.store.bot_messages.get(message_id)
        if record is None or record["msg_type"] != "interactive":
            raise ApiError(400, CODE_BAD_PARAM,
                           "only interactive messages sent by this bot can be patched")
        body = _json_body(req)
        parsed = self._parse_content(req, "interactive", body.get("content"))
        if self.store.card_locks.locked(message_id):
            raise ApiError(400, CARD_ERROR, card_error(11310, "card action is lock", message_id))
        self._check_card(parsed)
        record["patches"].append(parsed)
        record["shown"] = parsed  # the card as users see it now
        return json_response(200, {"code": 0, "msg": "ok", "data": {}})

    def urgent_app(self, req, message_id: str) -> Response:
        """PATCH .../messages/:message_id/urgent_app?user_id_type=open_id with
        {"user_id_list": [...]}: an in-app buzz of a message the bot sent.  The
        message's record keeps every buzz (its "urgent" list of id lists)."""
        if req.query.get("user_id_type") != "open_id":
            raise ApiError(400, CODE_BAD_PARAM, "user_id_type is required (this simulator takes open_id)")
        record = self.store.bot_messages.get(message_id)
        if record is None:
            raise ApiError(400, CODE_BAD_PARAM, "only messages sent by this bot can be buzzed")
        users = _json_body(req).get("user_id_list")
        if not isinstance(users, list) or not users or not all(isinstance(u, str) and u for u in users):
            raise ApiError(400, CODE_BAD_PARAM, "user_id_list must be a non-empty list of ids")
        record.setdefault("urgent", []).append(users)
        return json_response(200, {"code": 0, "msg": "success", "data": {"invalid_user_id_list": []}})
