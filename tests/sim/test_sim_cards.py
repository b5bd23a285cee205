"""Self-tests of the Feishu simulator's card rules (sim_cards.py): the limits a
JSON 2.0 card must keep, unresolvable mentions, and the click lock.  These are
the rules collabd's e2e tests rely on to catch a card Feishu would refuse.

Run: /usr/bin/python3 -m pytest -q tests/sim
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_cards import CardLocks, card_problem  # noqa: E402


def card(*elements):
    return {"schema": "2.0", "body": {"elements": list(elements)}}


def test_input_max_length_must_lie_in_1_to_1000():
    for ok in (1, 500, 1000):
        assert card_problem(card({"tag": "input", "name": "x", "max_length": ok}), set()) is None
    for bad in (0, 1001, 3000, "500", True):
        code, what, _ = card_problem(card({"tag": "input", "name": "x", "max_length": bad}), set())
        assert code == 200621 and "max_length" in what


def test_components_and_size_are_limited():
    options = [{"text": {"tag": "plain_text", "content": str(i)}, "value": str(i)} for i in range(199)]
    assert card_problem(card({"tag": "select_static", "name": "s", "options": options}), set()) is None
    options.append({"text": {"tag": "plain_text", "content": "x"}, "value": "x"})
    assert card_problem(card({"tag": "select_static", "name": "s", "options": options}), set())[1] == \
        "card element number over limit"
    big = card({"tag": "markdown", "content": "汉" * 11000})
    assert card_problem(big, set())[1] == "card size over limit"
    assert card_problem({"elements": [{"tag": "input", "max_length": 5000}]}, set()) is None  # JSON 1.0: not ours


def test_a_mention_of_someone_who_left_refuses_the_card():
    c = card({"tag": "markdown", "content": "<at id=ou_a></at> <at id=ou_gone></at> 请审批"})
    assert card_problem(c, set()) is None
    assert card_problem(c, {"ou_gone"}) == (100290, "there is an invalid user resource (at/person) in your card",
                                             "ou_gone")
    assert card_problem(card({"tag": "markdown", "content": "@离职的人 请审批"}), {"ou_gone"}) is None


def test_a_card_is_locked_until_its_click_is_answered():
    locks = CardLocks()
    locks.lock("om_1")
    assert locks.locked("om_1") and not locks.locked("om_2")
    locks.answered("om_1")
    assert not locks.locked("om_1")
    locks.linger = 0.05
    locks.lock("om_1")
    locks.answered("om_1")
    assert locks.locked("om_1")
    time.sleep(0.06)
    assert not locks.locked("om_1")
    locks.lock("om_3", seconds=0.01)
    time.sleep(0.02)
    assert not locks.locked("om_3")  # the 3 s window passed: the platform gave up on the handler
