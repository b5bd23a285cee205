"""Card rules of the DingTalk simulator: what a real client would show wrongly
or never deliver, and what a click on collabd's generic card sends back.

- Card text is shown as it is: an "@<userId>" line shows the raw id (the
  notification comes from atUserIds), and a heading repeating the title shows
  it twice (issue 17 §3).  Both are problems, on every card.
- The generic template (`collabd dingtalk card-template`, config
  generic_template_id) has a fixed set of parameters; a card of it must fill
  them with the right shapes, or the client shows blanks and dead buttons.
- Clicks reach the app over Stream only for a card created with
  callbackType STREAM; StandardCard (互动卡片普通版, robot interactiveCards/send)
  clicks never do (developerpedia card FAQ).  The simulator refuses to
  produce such a callback, as the platform would never send one.
"""

import json
import re

GENERIC_KEYS = ("title", "content", "content_2", "content_3", "content_4", "buttons",
                "has_buttons", "has_input", "input_label", "input_placeholder", "input_default",
                "input_value")
BUTTON_STYLES = ("primary", "danger", "default")


class ClickRefused(Exception):
    """The platform would not deliver this click over Stream."""


def _json_object(text, where, problems):
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        problems.append(f"{where} is not JSON: {text!r:.80}")
        return None
    if not isinstance(value, dict):
        problems.append(f"{where} is not a JSON object")
        return None
    return value


def text_problems(params: dict, at_user_ids) -> list:
    """Raw userIds and a repeated title in a card's text parameters."""
    problems = []
    title = params.get("title") or ""
    for key, value in params.items():
        if not isinstance(value, str) or key in ("buttons", "input_value"):
            continue
        for uid in at_user_ids:
            if re.search("@" + re.escape(uid) + r"(?![\w.-])", value):
                problems.append(f"{key} shows the raw userId @{uid}: put the name in the text")
    for key in ("content", "text", "markdown"):
        text = params.get(key)
        if title and isinstance(text, str) and re.match(r"\s*#+\s*" + re.escape(title), text):
            problems.append(f"{key} repeats the title {title!r} as a heading")
    return problems


def generic_problems(params: dict) -> list:
    """The generic template's parameters, as its components read them."""
    problems = [f"missing parameter {k}" for k in ("title", "content", "buttons", "has_buttons",
                                                    "has_input") if k not in params]
    unknown = sorted(set(params) - set(GENERIC_KEYS) - {"toast"})
    if unknown:
        problems.append(f"parameters the template does not have: {unknown}")
    if not params.get("title"):
        problems.append("empty title")
    for flag in ("has_buttons", "has_input"):
        if flag in params and params[flag] not in ("true", "false"):
            problems.append(f"{flag} must be \"true\" or \"false\", got {params[flag]!r}")
    try:
        buttons = json.loads(params.get("buttons", "[]"))
    except ValueError:
        buttons = None
    if not isinstance(buttons, list):
        problems.append("buttons is not a JSON array")
        buttons = []
    for i, b in enumerate(buttons):
        if not isinstance(b, dict) or not isinstance(b.get("label"), str) or not b.get("label"):
            problems.append(f"buttons[{i}] has no label")
            continue
        if b.get("style") not in BUTTON_STYLES:
            problems.append(f"buttons[{i}].style {b.get('style')!r} is not one of {BUTTON_STYLES}")
        value = _json_object(b.get("value"), f"buttons[{i}].value", problems)
        if value is not None and not (isinstance(value.get("action"), str) or
                                      isinstance(value.get("typed"), str)):
            problems.append(f"buttons[{i}].value has neither action nor typed")
    if params.get("has_buttons") == "true" and not buttons:
        problems.append("has_buttons is true but there are no buttons")
    if params.get("has_input") == "true":
        if not params.get("input_label"):
            problems.append("the input has no label")
        _json_object(params.get("input_value"), "input_value", problems)
    return problems


def click_params(card: dict, store, label=None, text=None) -> dict:
    """The params of a click on the card as it is now: a button by its label, or
    (label None) the input submitted with text.  Raises ClickRefused."""
    if card.get("card_template_id") == "StandardCard":
        raise ClickRefused("StandardCard (互动卡片普通版) clicks are not delivered over Stream")
    if card.get("callback_type") != "STREAM":
        raise ClickRefused(f"the card was created with callbackType {card.get('callback_type')!r}: "
                           "its clicks do not come over Stream")
    if card.get("card_template_id") != store.config.generic_template_id:
        raise ClickRefused("only cards of the generic template can be clicked by label")
    data = card["card_data"]
    if label is None:
        if data.get("has_input") != "true":
            raise ClickRefused("the card shows no input")
        return {"value": data.get("input_value", "{}"), "input": text or ""}
    try:
        buttons = json.loads(data.get("buttons") or "[]")
    except ValueError:
        buttons = []
    if data.get("has_buttons") == "true":
        for b in buttons:
            if isinstance(b, dict) and b.get("label") == label:
                return {"value": b.get("value", "{}")}
    shown = [b.get("label") for b in buttons if isinstance(b, dict)]
    raise ClickRefused(f"no button {label!r} on the card (it shows {shown})")
