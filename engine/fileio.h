/*
 * fileio.h — whole-file reads, path joining and JSON files.
 * Errors name the path; JSON parse errors also give line and column.
 */
#ifndef SLM_FILEIO_H
#define SLM_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "slm.h"

/* Reads `path` into a NUL-terminated malloc'd buffer; *len excludes the NUL.
 * A path that is not a regular file (directory, device) is SLM_ERR_IO saying so. */
slm_status slm_read_file(const char *path, char **data, size_t *len, slm_error *err);

/* The same, refusing (SLM_ERR_FORMAT naming the file and the limit) a file
 * larger than max_bytes before reading any of it; 0 = no cap. */
slm_status slm_read_file_capped(const char *path, size_t max_bytes, char **data, size_t *len,
                                slm_error *err);

/* Joins dir and name with one '/', into a malloc'd string (NULL on OOM). */
char *slm_path_join(const char *dir, const char *name);

bool slm_file_exists(const char *path);

/* Size caps of the JSON files slm reads (README "Limits"). Picked by file
 * name: tokenizer.json, tokenizer_config.json, *.index.json, and the default
 * for every other one (config.json, generation_config.json, special_tokens_map.json, ...). */
#define SLM_JSON_MAX_TOKENIZER ((size_t)64 << 20)
#define SLM_JSON_MAX_TOKENIZER_CONFIG ((size_t)16 << 20)
#define SLM_JSON_MAX_INDEX ((size_t)16 << 20)
#define SLM_JSON_MAX_DEFAULT ((size_t)4 << 20)
/* A chat_template.jinja file. */
#define SLM_TEMPLATE_MAX_BYTES ((size_t)1 << 20)

/* The cap slm_json_load applies to `path` (by its base name). */
size_t slm_json_limit(const char *path);

/* Parses `path` as JSON, refusing a file over slm_json_limit(path).
 * Malformed JSON is SLM_ERR_FORMAT naming line:column; so are bytes after
 * the value and nesting past cJSON's depth limit ("nested too deeply"). */
slm_status slm_json_load(const char *path, cJSON **out, slm_error *err);

/* Parses an in-memory JSON text; `what` names it in messages. */
slm_status slm_json_parse(const char *text, size_t len, const char *what, cJSON **out,
                          slm_error *err);

#endif /* SLM_FILEIO_H */
