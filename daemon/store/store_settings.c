/*
 * store_settings.c - the cluster's shared settings (schema step 16).
 */
#include "collabd/store_settings.h"
#include "store_internal.h"

#include <stdlib.h>

#include "collabd/util.h"

enum store_rc store_settings_generation(struct store *st, int64_t *gen)
{
	json_t *row = NULL;
	enum store_rc rc = store_row(st, &row, "SELECT generation FROM shared_settings WHERE name = 'company'", NULL);
	*gen = rc == STORE_OK ? (int64_t)json_integer_value(json_object_get(row, "generation")) : 0;
	json_decref(row);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

enum store_rc store_settings_get(struct store *st, int64_t *gen, char **doc, char **by, ms_t *at)
{
	json_t *row = NULL;
	enum store_rc rc = store_row(st, &row,
				     "SELECT generation, settings, published_by, published_at FROM shared_settings "
				     "WHERE name = 'company'", NULL);
	if (rc != STORE_OK)
		return rc;
	*gen = (int64_t)json_integer_value(json_object_get(row, "generation"));
	*doc = xstrdup(json_string_value(json_object_get(row, "settings")));
	if (by)
		*by = xstrdup(json_string_value(json_object_get(row, "published_by")));
	if (at)
		*at = (ms_t)json_integer_value(json_object_get(row, "published_at"));
	json_decref(row);
	return STORE_OK;
}

enum store_rc store_settings_publish(struct store *st, const char *doc, ms_t now, int64_t *gen, int *changed)
{
	if (store_in_transaction(st) || store_begin(st) != STORE_OK)
		return STORE_ERR;
	/* One statement on both engines: the row is locked by the upsert, so a
	 * concurrent publisher waits and then bumps from this generation. */
	int n = 0;
	enum store_rc rc = store_run(
		st, &n,
		"INSERT INTO shared_settings (name, generation, settings, published_by, published_at) "
		"VALUES ('company', 1, ?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
		"generation = shared_settings.generation + 1, settings = excluded.settings, "
		"published_by = excluded.published_by, published_at = excluded.published_at "
		"WHERE shared_settings.settings <> excluded.settings",
		"[s,s,I]", doc, store_instance_id(st), (json_int_t)now);
	if (rc == STORE_OK)
		rc = store_settings_generation(st, gen);
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK) {
		store_rollback(st);
		return STORE_ERR;
	}
	*changed = n > 0;
	return STORE_OK;
}

enum store_rc store_settings_seed(struct store *st, const char *doc, ms_t now, int *seeded)
{
	int n = 0;
	enum store_rc rc = store_run(st, &n,
				     "INSERT INTO shared_settings (name, generation, settings, published_by, published_at) "
				     "VALUES ('company', 1, ?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
				     "[s,s,I]", doc, store_instance_id(st), (json_int_t)now);
	*seeded = rc == STORE_OK && n > 0;
	return rc;
}
