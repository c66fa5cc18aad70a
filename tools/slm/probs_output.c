/* probs_output.c — per-step top-K probabilities as text or JSON Lines (see
   probs_output.h). */
#define _POSIX_C_SOURCE 200809L
#include "probs_output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "token_piece.h"

bool cli_probs_open(cli_probs_out *o, const char *verb, const slm_tokenizer *tok,
                    const char *json_path)
{
    *o = (cli_probs_out){.tok = tok, .path = json_path};
    o->f = json_path ? fopen(json_path, "w") : tmpfile();
    if (!o->f)
        fprintf(stderr, "slm %s: cannot write %s: %s\n", verb,
                json_path ? json_path : "a temporary file for --n-probs", strerror(errno));
    return o->f != NULL;
}

/* "id 'piece' p": %.6g keeps six significant digits of a small p too. */
static void write_text_entry(cli_probs_out *o, const slm_token_prob *t)
{
    fprintf(o->f, "%" PRId32 " ", t->id);
    cli_write_piece(o->f, o->tok, t->id);
    fprintf(o->f, " %.6g\n", (double)t->p);
}

static void write_text(cli_probs_out *o, const slm_step_probs *sp)
{
    if (sp->step == 0)
        fprintf(o->f, "[slm] the %zu most probable next tokens at each step (softmax of the "
                      "model's logits, temperature 1, before sampling):\n", sp->n_top);
    fprintf(o->f, "step %d: ", sp->step);
    write_text_entry(o, &sp->chosen);
    for (size_t i = 0; i < sp->n_top; i++) {
        fputs("  ", o->f);
        write_text_entry(o, &sp->top[i]);
    }
}

/* {"id":.., "piece":.., "p":..}, added to `to` (an array, or an object
   under `key`); false when out of memory. */
static bool add_entry(cli_probs_out *o, cJSON *to, const char *key, const slm_token_prob *t)
{
    char *piece = cli_piece_dup(o->tok, t->id);
    cJSON *e = cJSON_CreateObject();
    bool ok = piece && e && cJSON_AddNumberToObject(e, "id", t->id) &&
              cJSON_AddStringToObject(e, "piece", piece) &&
              cJSON_AddNumberToObject(e, "p", (double)t->p);
    free(piece);
    ok = ok && (key ? cJSON_AddItemToObject(to, key, e) : cJSON_AddItemToArray(to, e));
    if (!ok)
        cJSON_Delete(e);
    return ok;
}

static bool write_json(cli_probs_out *o, const slm_step_probs *sp)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *top = NULL;
    bool ok = root && cJSON_AddNumberToObject(root, "step", sp->step) &&
              add_entry(o, root, "token", &sp->chosen) &&
              (top = cJSON_AddArrayToObject(root, "top"));
    for (size_t i = 0; ok && i < sp->n_top; i++)
        ok = add_entry(o, top, NULL, &sp->top[i]);
    char *line = ok ? cJSON_PrintUnformatted(root) : NULL;
    if (line)
        fprintf(o->f, "%s\n", line);
    free(line);
    cJSON_Delete(root);
    return line != NULL;
}

void cli_probs_write(cli_probs_out *o, const slm_step_probs *sp)
{
    if (!o->f || o->failed)
        return;
    if (o->path)
        o->failed = !write_json(o, sp);
    else
        write_text(o, sp);
    o->failed = o->failed || ferror(o->f);
}

/* Copies the temporary file to stderr. */
static bool copy_to_stderr(FILE *f)
{
    char buf[8192];
    size_t n;
    rewind(f);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    return !ferror(f);
}

bool cli_probs_finish(cli_probs_out *o, const char *verb)
{
    bool ok = !o->failed;
    if (ok && !o->path) {
        fflush(stdout); /* the generated text first */
        ok = copy_to_stderr(o->f);
    }
    ok = fclose(o->f) == 0 && ok;
    o->f = NULL;
    if (!ok)
        fprintf(stderr, "slm %s: cannot write the --n-probs output%s%s\n", verb,
                o->path ? " to " : "", o->path ? o->path : "");
    return ok;
}

void cli_probs_close(cli_probs_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
}
