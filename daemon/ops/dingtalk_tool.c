/*
 * dingtalk_tool.c - `collabd dingtalk card-template`: prints the generic
 * card template, the file the operator imports once into the DingTalk card
 * platform (deploy/dingtalk/SETUP.md).  Needs no configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/dingtalk_card.h"
#include "collabd/tool.h"

int dingtalk_tool(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "card-template")) {
		fprintf(stderr, "usage: collabd dingtalk card-template > collabd-card.json\n");
		return 2;
	}
	json_t *file = dingtalk_card_template_new();
	char *text = json_dumps(file, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(file);
	int ok = text && puts(text) >= 0 && fflush(stdout) == 0;
	free(text);
	if (!ok)
		fprintf(stderr, "collabd: could not write the template\n");
	return ok ? 0 : 1;
}
