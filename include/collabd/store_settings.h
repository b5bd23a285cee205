/*
 * store_settings.h - the cluster's shared settings (schema step 16): one
 * JSON document (the calendar and admins, shared_settings.c builds it) with
 * a generation number that grows by one at every change.
 *
 * Instances sharing a database poll the generation (one indexed row) and
 * read the document only when it moved, so a change published by one
 * instance reaches every other without a message of our own.
 */
#ifndef COLLABD_STORE_SETTINGS_H
#define COLLABD_STORE_SETTINGS_H

#include <stdint.h>

#include "collabd/clock.h"
#include "collabd/store.h"

/* The current generation in *gen: 0 when nothing was ever published.
 * STORE_OK, or STORE_ERR (logged) -- never a 0 for a failure. */
enum store_rc store_settings_generation(struct store *st, int64_t *gen);

/* The shared document: *doc (a new string, caller frees), its generation,
 * the instance that published it (*by, a new string, caller frees; may be
 * NULL to skip) and when (*at, may be NULL).  STORE_NOTFOUND when nothing was
 * ever published, STORE_ERR on a failure. */
enum store_rc store_settings_get(struct store *st, int64_t *gen, char **doc, char **by, ms_t *at);

/* Makes doc the shared document in one transaction of its own (no other
 * may be open): a first document gets generation 1, a different one the
 * next generation, the same text changes nothing.  *gen gets the generation
 * now current, *changed 1 when this call published.  Two instances
 * publishing at once serialize on the row: each bump is seen by the next. */
enum store_rc store_settings_publish(struct store *st, const char *doc, ms_t now, int64_t *gen, int *changed);

/* Makes doc the first shared document (generation 1) unless there is one
 * already: of several instances starting at once on an empty database, one
 * seeds and the others find its copy.  *seeded 1 when this call wrote it. */
enum store_rc store_settings_seed(struct store *st, const char *doc, ms_t now, int *seeded);

#endif
