/*
 * model_hint.h — what to tell a user whose -m is not a Hugging Face model
 * folder but something people coming from other tools try: a GGUF file, a
 * hub repo id ("TinyLlama/TinyLlama-1.1B-Chat-v1.0") or a hub cache entry
 * (models--org--name, with the folder itself under snapshots/<hash>/).
 */
#ifndef SLM_CLI_MODEL_HINT_H
#define SLM_CLI_MODEL_HINT_H

#include <stdio.h>

#include "slm.h"

/* Writes "slm: hint: ..." lines to f when `path` is one of those; nothing
 * otherwise (a real folder, or a path no hint applies to). Returns whether
 * it wrote one. */
bool cli_model_hint(FILE *f, const char *path);

/* cli_report(err), then cli_model_hint(stderr, path): how every verb reports
 * a failure with a model path. Returns CLI_FAIL. */
int cli_report_model(const char *path, const slm_error *err);

#endif
