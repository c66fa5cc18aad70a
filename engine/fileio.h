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

/* Reads `path` into a NUL-terminated malloc'd buffer; *len excludes the NUL. */
slm_status slm_read_file(const char *path, char **data, size_t *len, slm_error *err);

/* Joins dir and name with one '/', into a malloc'd string (NULL on OOM). */
char *slm_path_join(const char *dir, const char *name);

bool slm_file_exists(const char *path);

/* Parses `path` as JSON. Malformed JSON is SLM_ERR_FORMAT naming line:column. */
slm_status slm_json_load(const char *path, cJSON **out, slm_error *err);

/* Parses an in-memory JSON text; `what` names it in messages. */
slm_status slm_json_parse(const char *text, size_t len, const char *what, cJSON **out,
                          slm_error *err);

#endif /* SLM_FILEIO_H */
