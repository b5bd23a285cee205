/*
 * dingtalk_card_template.c - the generic card as a file for the DingTalk card
 * platform's import (卡片平台 → 导入).
 *
 * The shape follows what the card editor exports (read from a public project
 * that ships such exports; see deploy/dingtalk/SETUP.md): a JSON object with
 * "editorData" (the editor's low-code schema, schemaVersion 3.0.0, as a JSON
 * *string*), "type": "im" and "mode": "card".  Exports also hold
 * "widgetInfo", the layout the editor compiles on saving; we leave it out for
 * the editor to build (UNCONFIRMED that the import accepts that -- the setup
 * guide gives the same template click by click as the fallback).
 */
#include "collabd/dingtalk_card.h"

#include <stdlib.h>

#include "collabd/util.h"

static json_t *text_prop(const char *content)
{
	return json_pack("{s:b,s:s,s:s}", "i18n", 0, "type", "dynamicString", "content", content);
}

/* Visible when the global variable var is "true". */
static json_t *visible_if(const char *var)
{
	return json_pack("{s:s,s:b,s:s,s:{s:s,s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:s}]}}", "type", "dynamicVisible", "value", 1,
			 "valueType", "condition", "condition", "op", "and", "conditions", "value", "true", "op", "eq",
			 "variable", var, "variableType", "global", "type", "variable", "valueType", "fixed",
			 "valueVariableType", "global");
}

static json_t *node(const char *component, const char *id, json_t *props, json_t *children)
{
	json_t *n = json_pack("{s:s,s:s,s:o,s:b,s:s,s:b,s:b,s:s}", "componentName", component, "id", id, "props", props,
			      "hidden", 0, "title", "", "isLocked", 0, "condition", 1, "conditionGroup", "");
	if (children)
		json_object_set_new(n, "children", children);
	return n;
}

/* A request ("回传请求") with the given params, as the editor's event chain. */
static json_t *request_event(json_t *params)
{
	return json_pack("[{s:{s:s,s:o,s:o},s:{s:{},s:{}}}]", "event", "actionType", "request", "actionId",
			 text_prop("collabd"), "params", params, "callbacks", "success", "failure");
}

static json_t *components_tree(void)
{
	json_t *children = json_array();
	json_array_append_new(children, node("CardHeaderV2", "node_collabd_title", json_pack("{s:o}", "title",
									       text_prop("${title}")), NULL));
	static const char *const parts[][2] = { { "content", "node_collabd_md1" }, { "content_2", "node_collabd_md2" },
						{ "content_3", "node_collabd_md3" }, { "content_4", "node_collabd_md4" } };
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		json_array_append_new(children, node("MarkdownBlock", parts[i][1],
						     json_pack("{s:{s:s,s:s,s:s},s:b,s:i}", "content", "variable",
							       parts[i][0], "variableType", "global", "type",
							       "variableValue", "isStreaming", 0, "mdVer", 0),
						     NULL));
	/* The loop over "buttons": each a request carrying the item's value. */
	json_t *btn = node("SingleButton", "node_collabd_button",
			   json_pack("{s:{s:b,s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s},s:s,s:o}", "text", "i18n", 0, "type",
				     "dynamicString", "content", "${loop.label}", "status", "type", "dynamicSelect",
				     "valueType", "variable", "value", "normal", "variable", "buttons[0].style",
				     "variableType", "loop", "actionType", "eventChain", "events",
				     request_event(json_pack("[{s:s,s:s,s:s,s:s,s:s,s:s}]", "type", "variable", "variable",
							     "buttons[0].value", "value", "", "name", "value",
							     "variableType", "loop", "id", "1"))),
			   NULL);
	json_array_append_new(children, node("Loop", "node_collabd_buttons",
					     json_pack("{s:{s:s,s:s,s:s},s:s,s:o}", "listData", "type", "variableValue",
						       "variableType", "global", "variable", "buttons", "direction",
						       "horizontal", "visible", visible_if("has_buttons")),
					     json_pack("[o]", btn)));
	/* The one input: it asks for the text and sends it with input_value. */
	json_array_append_new(children,
			      node("Input", "node_collabd_input",
				   json_pack("{s:o,s:o,s:o,s:o,s:s,s:b,s:o,s:[{s:s,s:s,s:s,s:s,s:s,s:s},"
					     "{s:s,s:s,s:s,s:s,s:s,s:s}]}",
					     "title", text_prop("${input_label}"), "placeholder", text_prop("${input_placeholder}"),
					     "currentValue", text_prop("${input_default}"), "message",
					     text_prop("${input_label}"), "actionType", "request", "textArea", 1, "id",
					     text_prop("input"), "params", "type", "builtIn", "variable", "", "value", "",
					     "name", "input", "variableType", "global", "id", "__built_in_inputResult__",
					     "type", "variable", "variable", "input_value", "value", "", "name", "value",
					     "variableType", "global", "id", "2"),
				   NULL));
	json_object_set_new(json_object_get(json_array_get(children, json_array_size(children) - 1), "props"),
			    "visible", visible_if("has_input"));
	return json_pack("[o]", node("Card", "node_collabd_card", json_pack("{s:b}", "hasCardHeader", 1), children));
}

static json_t *variable(const char *name, const char *type, const char *description)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:b}", "id", name, "name", name, "type", type, "private", 0,
			 "editorVarType", "variables", "description", description, "disabled", 0);
}

static json_t *variable_list(void)
{
	json_t *vars = json_array();
	json_array_append_new(vars, variable("title", "string", "标题"));
	json_array_append_new(vars, variable("content", "markdown", "正文（第 1 段）"));
	json_array_append_new(vars, variable("content_2", "markdown", "正文（第 2 段）"));
	json_array_append_new(vars, variable("content_3", "markdown", "正文（第 3 段）"));
	json_array_append_new(vars, variable("content_4", "markdown", "正文（第 4 段）"));
	json_t *buttons = variable("buttons", "loopArray", "按钮列表");
	json_object_set_new(buttons, "schema",
			    json_pack("[o,o,o]", variable("buttons[0].label", "string", "按钮文字"),
				      variable("buttons[0].style", "string", "primary / danger / default"),
				      variable("buttons[0].value", "string", "点击时回传的 value（JSON 字符串）")));
	json_array_append_new(vars, buttons);
	json_array_append_new(vars, variable("has_buttons", "string", "\"true\" 时显示按钮"));
	json_array_append_new(vars, variable("has_input", "string", "\"true\" 时显示输入框"));
	json_array_append_new(vars, variable("input_label", "string", "输入框标题"));
	json_array_append_new(vars, variable("input_placeholder", "string", "输入框提示"));
	json_array_append_new(vars, variable("input_default", "string", "输入框预填内容"));
	json_array_append_new(vars, variable("input_value", "string", "提交输入时回传的 value（JSON 字符串）"));
	return vars;
}

static json_t *mock_data(void)
{
	return json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s}],s:s,s:s,s:s,s:s,s:s,s:s}}",
			 "cardData", "title", "📋 跨部门协作需求 · 待审批", "content", "@李主管\n\n请审批需求 **R1**（第 1 版）",
			 "content_2", "", "content_3", "", "content_4", "", "buttons", "label", "批准", "style",
			 "primary", "value", "{\"action\":\"req.approve\",\"id\":\"R1\"}", "label", "驳回", "style",
			 "danger", "value", "{\"action\":\"req.reject\",\"id\":\"R1\"}", "has_buttons", "true",
			 "has_input", "true", "input_label", "驳回：填写原因后提交", "input_placeholder", "驳回原因（必填）",
			 "input_default", "", "input_value",
			 "{\"action\":\"req.reject\",\"id\":\"R1\",\"_input\":\"reason\"}");
}

json_t *dingtalk_card_template_new(void)
{
	static const char *const components[] = { "Card", "CardHeaderV2", "MarkdownBlock", "Loop", "SingleButton", "Input" };
	json_t *map = json_array();
	for (size_t i = 0; i < ARRAY_LEN(components); i++)
		json_array_append_new(map, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s}", "package", "@ali/dxComponent",
						     "version", "1.0.0", "exportName", components[i], "main",
						     "./src/index.tsx", "destructuring", 0, "subName", "",
						     "componentName", components[i]));
	json_t *editor = json_pack("{s:s,s:{s:o,s:o,s:{},s:s},s:o,s:{},s:i,s:s,s:b,s:o,s:[],s:[],s:[],s:[],s:[],s:[],"
				   "s:{},s:{s:s,s:[]}}",
				   "schemaVersion", "3.0.0", "schema", "componentsMap", map, "componentsTree",
				   components_tree(), "i18n", "version", "1.0.0", "mockData", mock_data(), "renderContext",
				   "editVersion", 0, "customWidgetInfo", "", "useCustomWidgetInfo", 0, "variableList",
				   variable_list(), "formList", "customContextList", "expList", "localList", "hsfList",
				   "lwpList", "pageData", "extension", "extendType", "NORMAL", "fileTypeList");
	char *text = json_dumps(editor, JSON_COMPACT);
	json_decref(editor);
	json_t *file = json_pack("{s:s,s:s,s:s}", "editorData", text, "type", "im", "mode", "card");
	free(text);
	return file;
}
