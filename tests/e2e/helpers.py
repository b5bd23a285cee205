"""Small helpers shared by the end-to-end tests."""


def reply_texts(sim):
    """The text of every text message the bot posted, in order."""
    return [m["content"]["text"] for m in sim.messages() if m["msg_type"] == "text"]


def replies_to(sim, message_id):
    return [m for m in sim.messages() if m["reply_to"] == message_id]


def acks_for(sim, event_id):
    return [a for a in sim.acks() if a["event_id"] == event_id and a["code"] == 200]
