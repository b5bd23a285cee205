/*
 * tool.h - operator subcommands of the collabd binary.
 */
#ifndef COLLABD_TOOL_H
#define COLLABD_TOOL_H

struct config;

/* `collabd calendar VERB ARGS...`: argv[0] is "calendar".  Returns the exit code. */
int calendar_tool(const struct config *cfg, int argc, char **argv);

/* `collabd import-directory FILE`: argv[0] is "import-directory". */
int directory_tool(const struct config *cfg, int argc, char **argv);

/* `collabd backup FILE`: argv[0] is "backup". */
int backup_tool(const struct config *cfg, int argc, char **argv);

/* `collabd export ID [DIR]`: argv[0] is "export" (archive_tool.c). */
int export_tool(const struct config *cfg, int argc, char **argv);

/* `collabd dingtalk card-template`: argv[0] is "dingtalk"; prints the
 * generic card template to import into the DingTalk card platform. */
int dingtalk_tool(int argc, char **argv);
/* `collabd dead-letters [--retry ID]`: argv[0] is "dead-letters" (dead_letter.c). */
int dead_letters_tool(const struct config *cfg, int argc, char **argv);

#endif
