/*
 * store_card.c - what a card we sent shows: the notice it was drawn from.
 *
 * When a click decides something, the card is redrawn with the outcome; a
 * card the handler does not redraw itself is redrawn from the notice it was
 * first sent as (its kind and body, kept in the outbox row that sent it).
 */
#include "store_internal.h"

enum store_rc store_outbox_sent_notice(struct store *st, const char *platform, const char *message_id,
				       json_t **notice)
{
	return store_row(st, notice,
			 "SELECT kind, body FROM outbox WHERE platform = ?1 AND platform_message_id = ?2 "
			 "AND state = 'sent' ORDER BY id DESC LIMIT 1",
			 "[s,s]", platform, message_id);
}

enum store_rc store_outbox_subject_notice(struct store *st, const char *subject, json_t **notice)
{
	return store_row(st, notice, "SELECT kind, body FROM outbox WHERE subject = ?1 ORDER BY id LIMIT 1", "[s]",
			 subject);
}
