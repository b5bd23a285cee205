/*
 * fuzz_command.c - libFuzzer target for the slash-command parser.
 *
 * Message text from any chat member reaches cmd_parse().  The input is copied
 * into a NUL-terminated string (an embedded NUL simply ends it early, as it
 * would in a C string from the event parser), parsed, and every part of the
 * result is read: the name is looked up with cmd_find(), the common field
 * names go through cmd_field(), and utf8_count() runs over the whole text and
 * over each piece the parser produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/command.h"
#include "collabd/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const field_keys[][2] = {
	{ "名称", "name" },
	{ "背景", "background" },
	{ "截止", "deadline" },
	{ "负责人", "owner" },
	{ "优先级", "priority" },
	{ "x", NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	volatile long n = utf8_count(text);

	struct cmd_args args;
	if (cmd_parse(text, &args)) {
		n += utf8_count(args.name);
		(void)cmd_find(args.name);
		for (size_t i = 0; i < args.nwords; i++)
			n += utf8_count(args.words[i]);
		for (size_t i = 0; i < args.nfields; i++) {
			n += utf8_count(args.fields[i].key) + utf8_count(args.fields[i].value);
			/* Every parsed key must be found again by its own name. */
			if (!cmd_field(&args, args.fields[i].key, NULL))
				abort();
		}
		for (size_t i = 0; i < args.nlines; i++)
			n += utf8_count(args.lines[i]);
		for (size_t i = 0; i < sizeof field_keys / sizeof field_keys[0]; i++) {
			const char *v = cmd_field(&args, field_keys[i][0], field_keys[i][1]);
			if (v)
				n += utf8_count(v);
		}
		cmd_args_free(&args);
	}
	(void)n;
	free(text);
	return 0;
}
