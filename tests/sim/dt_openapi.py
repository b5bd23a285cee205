"""HTTP side of the DingTalk simulator (PLATFORMS.md Part 2 §1.2, §3, §4, §5).

Implements the Stream registration call, the access token, the sessionWebhook,
the robot group send and the card instance API, with the platform's two error
shapes: api.dingtalk.com answers non-2xx with {"code","message","requestid"}
and an `x-acs-request-id` header (§5.5); the webhook answers HTTP 200 with
{"errcode","errmsg"}.  Every call is logged in store.requests (never a secret).
"""

import asyncio
import copy
import json
import logging
import re
import secrets

from dt_cards import generic_problems, text_problems
from dt_state import api_error, now_ms, request_id
from sim_http import Response, json_response, text_response

log = logging.getLogger("dtsim.api")

MSG_PARAM_MAX = 15000  # bytes (§3.2, §5.4)
OUT_TRACK_ID_MAX = 64  # characters (§4.1)
CARD_KEY_MAX = 100  # bytes (§4.1)
CARD_VALUE_MAX = 1024  # bytes (§4.1; enforcement is the simulator's reading of the doc)
WEBHOOK_SESSION_GONE = 300005  # UNCONFIRMED code for an expired/unknown sessionWebhook
WEBHOOK_BAD_PARAM = 40035  # UNCONFIRMED: legacy "不合法的参数" for a malformed webhook body

# msgKey -> required msgParam fields (§3.2; only the ones the bot plausibly uses are checked)
MSG_KEYS = {
    "sampleText": ("content",), "sampleMarkdown": ("title", "text"),
    "sampleActionCard": ("title", "text"), "sampleImageMsg": ("photoURL",),
    "sampleLink": ("text", "title", "messageUrl"),
    "sampleActionCard2": ("title", "text"), "sampleActionCard3": ("title", "text"),
    "sampleActionCard4": ("title", "text"), "sampleActionCard5": ("title", "text"),
    "sampleActionCard6": ("title", "text"), "sampleAudio": ("mediaId",),
    "sampleFile": ("mediaId",), "sampleVideo": ("videoMediaId",),
}
SPACE_RE = re.compile(r"^dtv1\.card//(IM_GROUP|IM_ROBOT|IM_SINGLE|ONE_BOX)\.(.+)$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _api_response(status: int, body) -> Response:
    rid = body.get("requestid") if isinstance(body, dict) else None
    return json_response(status, body, {"x-acs-request-id": rid or request_id()})


def _err(exc: ApiError) -> Response:
    return _api_response(exc.status, api_error(exc.code, exc.message))


def _check_param_map(value, where: str) -> dict:
    """A cardParamMap: string -> string, key <= 100 B, value <= 1 KB (§4.1)."""
    if not isinstance(value, dict):
        raise ApiError(400, "invalidParameter.cardParamMap", f"{where} must be an object")
    for k, v in value.items():
        if not isinstance(v, str):
            raise ApiError(400, "invalidParameter.cardParamMap",
                           f"{where}[{k!r}] must be a string, got {type(v).__name__}")
        if len(k.encode()) > CARD_KEY_MAX:
            raise ApiError(400, "invalidParameter.cardParamMap.keyTooLong",
                           f"{where} key {k[:20]!r}… longer than {CARD_KEY_MAX} bytes")
        if len(v.encode()) > CARD_VALUE_MAX:
            raise ApiError(400, "invalidParameter.cardParamMap.valueTooLong",
                           f"{where}[{k!r}] longer than {CARD_VALUE_MAX} bytes")
    return value


def _card_data(body: dict, key: str):
    cd = body.get(key)
    if cd is None:
        return None
    if not isinstance(cd, dict):
        raise ApiError(400, f"invalidParameter.{key}", f"{key} must be an object")
    return _check_param_map(cd.get("cardParamMap", {}), f"{key}.cardParamMap")


def _private_data(body: dict):
    pd = body.get("privateData")
    if pd is None:
        return None
    if not isinstance(pd, dict):
        raise ApiError(400, "invalidParameter.privateData", "privateData must be an object")
    out = {}
    for user, v in pd.items():
        if not isinstance(v, dict):
            raise ApiError(400, "invalidParameter.privateData",
                           f"privateData[{user!r}] must be an object")
        out[user] = _check_param_map(v.get("cardParamMap", {}),
                                     f"privateData[{user!r}].cardParamMap")
    return out


def _card_text(params: dict) -> str:
    for key in ("markdown", "content", "text", "title"):
        if isinstance(params.get(key), str):
            return params[key]
    return ""


def apply_card_update(card: dict, card_data, private, options, via: str, user_id=None) -> None:
    """Apply a PUT /v1.0/card/instances body or a callback response (§4.3, §4.5).
    card_data: a cardParamMap (via=api) or {"cardParamMap": …} (via=callback);
    private: {userId: cardParamMap} (api) or {"cardParamMap": …} for user_id (callback)."""
    options = options if isinstance(options, dict) else {}
    if via == "callback":
        card_data = card_data.get("cardParamMap") if isinstance(card_data, dict) else None
        private = ({user_id: private["cardParamMap"]} if isinstance(private, dict)
                   and isinstance(private.get("cardParamMap"), dict) else None)
    by_key = bool(options.get("updateCardDataByKey"))
    if card_data is not None:
        if by_key:
            card["card_data"].update(card_data)
        else:
            card["card_data"] = dict(card_data)
    if private:
        by_key_p = bool(options.get("updatePrivateDataByKey"))
        for user, params in private.items():
            if by_key_p:
                card["private_data"].setdefault(user, {}).update(params)
            else:
                card["private_data"][user] = dict(params)
    card["text"] = _card_text(card["card_data"])
    card["updates"].append({"via": via, "time": now_ms(), "card_data": card_data,
                            "private_data": private, "options": options,
                            "user_id": user_id,
                            "result": copy.deepcopy(card["card_data"])})


class DtApi:
    """Routes the platform endpoints; the control API is routed separately."""

    def __init__(self, store):
        self.store = store

    def _log(self, req, status: int, code=None, **extra) -> None:
        self.store.requests.append({"method": req.method, "path": req.path,
                                    "query": req.query, "status": status, "code": code,
                                    "time": now_ms(), **extra})

    async def handle(self, req) -> Response:
        path = req.path
        rule = self.store.take_fail_rule(path)
        if rule is not None:
            if rule.delay_ms:
                await asyncio.sleep(rule.delay_ms / 1000)
            if rule.status is not None:
                resp, code = self._injected(path, rule)
                self._log(req, resp.status, code, injected=True)
                return resp
        routes = {
            ("POST", "/v1.0/gateway/connections/open"): self.open_connection,
            ("POST", "/v1.0/oauth2/accessToken"): self.access_token,
            ("POST", "/robot/sendBySession"): self.send_by_session,
            ("POST", "/v1.0/robot/groupMessages/send"): self.group_send,
            ("POST", "/v1.0/card/instances/createAndDeliver"): self.card_create_and_deliver,
            ("POST", "/v1.0/card/instances"): self.card_create,
            ("POST", "/v1.0/card/instances/deliver"): self.card_deliver,
            ("PUT", "/v1.0/card/instances"): self.card_update,
            ("PUT", "/v1.0/card/streaming"): self.card_streaming,
            ("POST", "/v1.0/im/v1.0/robot/interactiveCards/send"): self.standard_card_send,
        }
        handler = routes.get((req.method, path))
        if handler is None:
            self._log(req, 404)
            return _api_response(404, api_error("InvalidAction.NotFound",
                                                f"Specified api is not found: {req.method} {path}"))
        try:
            return await handler(req)
        except ApiError as exc:
            self._log(req, exc.status, exc.code, error=exc.message)
            log.info("%s %s -> %d %s: %s", req.method, path, exc.status, exc.code, exc.message)
            return _err(exc)

    def _injected(self, path: str, rule) -> tuple:
        body = rule.body
        if isinstance(body, dict) and "errcode" in body:
            body = dict(body)
            body.setdefault("errmsg", "simulated failure")
            return json_response(rule.status, body), body["errcode"]
        if isinstance(body, str):
            return text_response(rule.status, body), None
        if body is None:
            if path.startswith("/robot/"):
                return text_response(rule.status, f"{rule.status} simulated"), None
            body = {403: api_error("Forbidden.AccessDenied.QpsLimitForApi",
                                   "该api的调用已达到流控上限"),
                    429: api_error("system.busy", "系统繁忙"),
                    503: None, 504: None}.get(rule.status, api_error("sim.injected",
                                                                     "simulated failure"))
            if body is None:
                return text_response(rule.status, f"{rule.status} simulated"), None
        body = dict(body)
        body.setdefault("requestid", request_id())
        return _api_response(rule.status, body), body.get("code")

    @staticmethod
    def _json(req) -> dict:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "InvalidParameter", "request body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidParameter", "request body is not a JSON object")
        return body

    def _need_token(self, req) -> None:
        if not self.store.token_valid(req.headers.get("x-acs-dingtalk-access-token")):
            raise ApiError(400, "InvalidAuthentication", "不合法的access_token")

    # -- Stream registration (§1.2) ----------------------------------------------------

    async def open_connection(self, req) -> Response:
        accept = req.headers.get("accept", "")
        accept_json = "application/json" in accept.lower()
        record = {"time": now_ms(), "accept_json": accept_json, "accept": accept,
                  "subscriptions": None, "ua": None, "local_ip": None, "ok": False,
                  "problems": []}
        self.store.opens.append(record)
        injected = self.store.take_open_fail()
        if injected:
            status = injected.get("status") or 500
            body = injected.get("body")
            if body is None:
                body = api_error("sim.injected", "simulated connections/open failure")
            resp = (text_response(status, body) if isinstance(body, str)
                    else _api_response(status, body))
            record["problems"].append("injected failure")
            self._log(req, status, body.get("code") if isinstance(body, dict) else None,
                      injected=True)
            return resp
        body = self._json(req)
        subs = body.get("subscriptions")
        record.update(subscriptions=subs, ua=body.get("ua"), local_ip=body.get("localIp"))
        if not self.store.creds_ok(body.get("clientId"), body.get("clientSecret")):
            raise ApiError(401, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
        if not isinstance(subs, list) or not subs:
            raise ApiError(400, "invalidParameter.subscriptions", "subscriptions is required")
        for sub in subs:
            if not (isinstance(sub, dict) and sub.get("type") in ("EVENT", "CALLBACK")
                    and isinstance(sub.get("topic"), str) and sub["topic"]):
                raise ApiError(400, "invalidParameter.subscriptions",
                               f"bad subscription {sub!r}")
            if sub["type"] == "EVENT" and sub["topic"] != "*":
                record["problems"].append(f"EVENT subscription topic {sub['topic']!r}: "
                                          "only '*' is supported")
        if "ua" in body and not isinstance(body["ua"], str):
            record["problems"].append("ua is not a string")
        ticket = self.store.issue_ticket(subs)
        endpoint = f"{self.store.ws_scheme}://127.0.0.1:{self.store.ws_port}/connect"
        record["ok"] = True
        self._log(req, 200, accept_json=accept_json)
        if not accept_json:  # the Node SDK's warning: without Accept the reply is XML
            xml = ("<?xml version='1.0' encoding='UTF-8'?><OpenConnectionResponse>"
                   f"<endpoint>{endpoint}</endpoint><ticket>{ticket}</ticket>"
                   "</OpenConnectionResponse>")
            return Response(200, xml.encode(), {"Content-Type": "application/xml;charset=utf-8"})
        return _api_response(200, {"endpoint": endpoint, "ticket": ticket})

    # -- token (§3.4) ---------------------------------------------------------------------

    async def access_token(self, req) -> Response:
        body = self._json(req)
        if not self.store.creds_ok(body.get("appKey"), body.get("appSecret")):
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
        self.store.counters["token_fetches"] += 1
        token, expire = self.store.get_token()
        self._log(req, 200)
        return _api_response(200, {"accessToken": token, "expireIn": expire})

    # -- sessionWebhook (§3.1) --------------------------------------------------------------

    async def send_by_session(self, req) -> Response:
        session = req.query.get("session", "")
        info = self.store.sessions.get(session)

        def legacy(errcode: int, errmsg: str) -> Response:
            self._log(req, 200, errcode, session=session)
            return json_response(200, {"errcode": errcode, "errmsg": errmsg})

        if info is None or now_ms() >= info["expires_ms"]:
            return legacy(WEBHOOK_SESSION_GONE, "session不存在或已过期")
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return legacy(WEBHOOK_BAD_PARAM, "缺少参数 json")
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        text = title = None
        if msgtype == "text" and isinstance(part, dict) and isinstance(part.get("content"), str):
            text = part["content"]
        elif (msgtype in ("markdown", "actionCard") and isinstance(part, dict)
              and isinstance(part.get("title"), str) and isinstance(part.get("text"), str)):
            text, title = part["text"], part["title"]
        elif msgtype in ("link", "feedCard") and isinstance(part, dict):
            text, title = part.get("text"), part.get("title")
        else:
            return legacy(WEBHOOK_BAD_PARAM,
                          f"不合法的参数: msgtype {msgtype!r} with a bad or missing body")
        at = body.get("at") if isinstance(body.get("at"), dict) else {}
        at_ids = at.get("atUserIds") if isinstance(at.get("atUserIds"), list) else []
        problems = []
        if text is not None:
            problems += [f"atUserIds has {uid!r} but the text has no '@{uid}'"
                         for uid in at_ids if f"@{uid}" not in text]
            if len(text) > 5000:
                problems.append("text longer than 5000 characters (legacy limit; "
                                "UNCONFIRMED for the webhook)")
        if "at" in body and not isinstance(body["at"], dict):
            problems.append("'at' is not an object")
        self.store.messages.append({
            "via": "webhook", "conversation_id": info["conversation_id"],
            "in_reply_to": info["msg_id"], "session": session, "msgtype": msgtype,
            "text": text, "title": title, "at_user_ids": at_ids,
            "at_mobiles": at.get("atMobiles") or [], "is_at_all": bool(at.get("isAtAll")),
            "problems": problems, "raw": body, "time": now_ms()})
        self._log(req, 200, 0, session=session)
        return json_response(200, {"errcode": 0, "errmsg": "ok"})

    # -- OpenAPI group send (§3.2) --------------------------------------------------------------

    async def group_send(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        if body.get("robotCode") != self.store.client_id:
            raise ApiError(400, "invalidParameter.robotCode", "robotCode 不合法")
        cid = body.get("openConversationId")
        if not isinstance(cid, str) or not cid:
            raise ApiError(400, "invalidParameter.openConversationId",
                           "openConversationId 不能为空")
        key = body.get("msgKey")
        if key not in MSG_KEYS:
            raise ApiError(400, "invalidParameter.msgKey", f"msgKey {key!r} 不合法")
        raw = body.get("msgParam")
        if not isinstance(raw, str):
            raise ApiError(400, "invalidParameter.msgParam", "msgParam must be a JSON string")
        if len(raw.encode()) > MSG_PARAM_MAX:
            raise ApiError(400, "invalidParameter.msgParam.tooLong",
                           f"msgParam longer than {MSG_PARAM_MAX} bytes")
        try:
            param = json.loads(raw)
        except ValueError:
            param = None
        if not isinstance(param, dict):
            raise ApiError(400, "invalidParameter.msgParam", "msgParam is not a JSON object")
        missing = [f for f in MSG_KEYS[key] if not isinstance(param.get(f), str)]
        if missing:
            raise ApiError(400, "invalidParameter.msgParam",
                           f"msgParam for {key} lacks string field(s) {missing}")
        pqk = secrets.token_urlsafe(24)
        text = param.get("content") if key == "sampleText" else param.get("text")
        self.store.messages.append({
            "via": "api", "conversation_id": cid, "msgtype": key, "msg_key": key,
            "text": text, "title": param.get("title"), "at_user_ids": [],
            "msg_param": param, "process_query_key": pqk, "raw": body, "time": now_ms(),
            "problems": []})
        self._log(req, 200)
        return _api_response(200, {"processQueryKey": pqk})

    # -- cards (§4) -------------------------------------------------------------------------------

    def _card_create_fields(self, body: dict) -> dict:
        tid = body.get("cardTemplateId")
        if not isinstance(tid, str) or not tid:
            raise ApiError(400, "invalidParameter.cardTemplateId", "cardTemplateId 不能为空")
        otid = body.get("outTrackId")
        if not isinstance(otid, str) or not otid:
            raise ApiError(400, "invalidParameter.outTrackId", "outTrackId 不能为空")
        if len(otid) > OUT_TRACK_ID_MAX:
            raise ApiError(400, "outTrackId.outOfLimit",
                           f"outTrackId longer than {OUT_TRACK_ID_MAX}")
        if otid in self.store.cards:  # UNCONFIRMED code
            raise ApiError(400, "param.cardAlreadyExist", "card already exists")
        problems = []
        cb = body.get("callbackType")
        if cb is not None and cb not in ("STREAM", "HTTP"):
            raise ApiError(400, "invalidParameter.callbackType", f"callbackType {cb!r}")
        if cb != "STREAM":
            problems.append(f"callbackType is {cb!r}: card callbacks will not come over Stream")
        card_data = _card_data(body, "cardData")
        if card_data is None:
            raise ApiError(400, "invalidParameter.cardData", "cardData 不能为空")
        return {"out_track_id": otid, "card_template_id": tid, "callback_type": cb,
                "card_data": dict(card_data), "private_data": _private_data(body) or {},
                "problems": problems}

    def _card_delivery(self, body: dict, card: dict) -> list:
        spaces = body.get("openSpaceId")
        if not isinstance(spaces, str) or not spaces:
            raise ApiError(400, "invalidParameter.openSpaceId", "openSpaceId 不能为空")
        results = []
        for space in spaces.split(";"):
            m = SPACE_RE.match(space)
            if not m:
                raise ApiError(400, "invalidParameter.openSpaceId",
                               f"openSpaceId {space!r} is not dtv1.card//<TYPE>.<id>")
            stype, sid = m.groups()
            if stype == "IM_GROUP":
                model = body.get("imGroupOpenDeliverModel")
                if not isinstance(model, dict) or model.get("robotCode") != self.store.client_id:
                    raise ApiError(400, "invalidParameter.imGroupOpenDeliverModel",
                                   "imGroupOpenDeliverModel.robotCode must be the client id")
                at = model.get("atUserIds")
                if at is not None and not isinstance(at, dict):
                    raise ApiError(400, "invalidParameter.atUserIds",
                                   "atUserIds must be a map userId -> name")
                card["at_user_ids"] = list((at or {}).keys())
                card["conversation_id"] = sid
            elif stype == "IM_ROBOT":
                model = body.get("imRobotOpenDeliverModel")
                if not isinstance(model, dict) or model.get("spaceType") != "IM_ROBOT":
                    raise ApiError(400, "invalidParameter.imRobotOpenDeliverModel",
                                   "imRobotOpenDeliverModel.spaceType must be IM_ROBOT")
                card.setdefault("conversation_id", None)
                card["user_id"] = sid
            if sid in self.store.config.undeliverable:  # UNCONFIRMED errorMsg text
                results.append({"spaceType": stype, "spaceId": sid, "success": False,
                                "errorMsg": "机器人不在群内或无权限投放"})
                continue
            results.append({"spaceType": stype, "spaceId": sid, "success": True,
                            "carrierId": secrets.token_urlsafe(24)})
        card["spaces"] = results
        return results

    def _new_card(self, fields: dict, body: dict) -> dict:
        card = {"via": "card", "conversation_id": None, "msgtype": "card",
                "text": _card_text(fields["card_data"]), "title": fields["card_data"].get("title"),
                "at_user_ids": [], **fields, "updates": [], "delivered": False,
                "raw": body, "time": now_ms()}
        return card

    def _check_card(self, card: dict) -> None:
        """Notes what a real client would show wrongly (dt_cards.py)."""
        found = text_problems(card["card_data"], card.get("at_user_ids") or [])
        if card.get("card_template_id") == self.store.config.generic_template_id:
            found += generic_problems(card["card_data"])
        for p in found:
            if p not in card["problems"]:
                card["problems"].append(p)

    async def card_create_and_deliver(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        card = self._new_card(self._card_create_fields(body), body)
        results = self._card_delivery(body, card)
        self._check_card(card)
        self.store.cards[card["out_track_id"]] = card
        # A card that reached no space is in no chat.
        card["delivered"] = any(r["success"] for r in results)
        if card["delivered"]:
            self.store.messages.append(card)
        self._log(req, 200, out_track_id=card["out_track_id"])
        return _api_response(200, {"success": True, "result": {
            "outTrackId": card["out_track_id"], "deliverResults": results}})

    async def card_create(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        card = self._new_card(self._card_create_fields(body), body)
        self.store.cards[card["out_track_id"]] = card
        self._log(req, 200, out_track_id=card["out_track_id"])
        return _api_response(200, {"success": True, "result": card["out_track_id"]})

    async def card_deliver(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        card = self.store.cards.get(body.get("outTrackId"))
        if card is None:
            raise ApiError(400, "param.cardNotExist", "卡片不存在")
        results = self._card_delivery(body, card)
        if not card["delivered"]:
            card["delivered"] = True
            self.store.messages.append(card)
        self._log(req, 200, out_track_id=card["out_track_id"])
        return _api_response(200, {"success": True, "result": results})

    async def card_update(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        card = self.store.cards.get(body.get("outTrackId"))
        if card is None:
            raise ApiError(400, "param.cardNotExist", "卡片不存在")
        card_data = _card_data(body, "cardData")
        private = _private_data(body)
        if card_data is None and not private:
            raise ApiError(400, "param.cardDataAndPrivateDataBothEmpty",
                           "cardData 和 privateData 不能同时为空")
        apply_card_update(card, card_data, private, body.get("cardUpdateOptions"), via="api")
        self._check_card(card)
        self._log(req, 200, out_track_id=card["out_track_id"])
        return _api_response(200, {"success": True, "result": True})

    async def card_streaming(self, req) -> Response:
        self._need_token(req)
        body = self._json(req)
        card = self.store.cards.get(body.get("outTrackId"))
        if card is None:
            raise ApiError(400, "param.cardNotExist", "卡片不存在")
        key, content = body.get("key"), body.get("content")
        if not isinstance(key, str) or not isinstance(content, str):
            raise ApiError(400, "invalidParameter", "key and content must be strings")
        if body.get("isFull"):
            card["card_data"][key] = content
        else:
            card["card_data"][key] = card["card_data"].get(key, "") + content
        card["text"] = _card_text(card["card_data"])
        card["updates"].append({"via": "streaming", "time": now_ms(), "key": key,
                                "content": content, "is_full": bool(body.get("isFull")),
                                "is_finalize": bool(body.get("isFinalize")),
                                "is_error": bool(body.get("isError")),
                                "result": copy.deepcopy(card["card_data"])})
        self._log(req, 200, out_track_id=card["out_track_id"])
        return _api_response(200, {"success": True, "result": True})

    async def standard_card_send(self, req) -> Response:
        """Robot interactiveCards/send with StandardCard (互动卡片普通版, §4.6): shown in the
        group, but its clicks never come over Stream (card_click/card_callback refuse)."""
        self._need_token(req)
        body = self._json(req)
        biz = body.get("cardBizId")
        if not isinstance(biz, str) or not biz:
            raise ApiError(400, "invalidParameter.cardBizId", "cardBizId 不能为空")
        if body.get("robotCode") != self.store.client_id:
            raise ApiError(400, "invalidParameter.robotCode", "robotCode must be the client id")
        try:
            data = json.loads(body.get("cardData") or "")
        except ValueError:
            raise ApiError(400, "invalidParameter.cardData", "cardData must be a JSON string") from None
        try:
            at = json.loads((body.get("sendOptions") or {}).get("atUserListJson") or "[]")
        except ValueError:
            raise ApiError(400, "invalidParameter.sendOptions", "atUserListJson is not JSON") from None
        card = {"via": "card", "conversation_id": body.get("openConversationId"), "msgtype": "card",
                "text": json.dumps(data, ensure_ascii=False), "title": None,
                "at_user_ids": [a.get("userId") if isinstance(a, dict) else a for a in at],
                "out_track_id": biz, "card_template_id": body.get("cardTemplateId"),
                "callback_type": None, "card_data": {}, "private_data": {}, "problems": [],
                "updates": [], "delivered": True, "raw": body, "time": now_ms()}
        self.store.cards[biz] = card
        self.store.messages.append(card)
        self._log(req, 200, out_track_id=biz)
        return _api_response(200, {"processQueryKey": secrets.token_urlsafe(16)})
