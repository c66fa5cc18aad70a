/*
 * tokenizer.c — slm_tokenizer: loads tokenizer.json (+ tokenizer_config.json) into the pipeline
 * described in tokenizer_internal.h, and answers the queries of the public API.
 *
 * Contract (see slm.h): behaviour equals Hugging Face `tokenizers` on the same file (encoding:
 * encode.c, decoding: stream_decoder.c). From tokenizer_config.json (optional):
 *   - bos_token / eos_token (a string or an {"content": ...} object) give the bos / eos ids,
 *     -1 when absent;
 *   - add_bos_token / add_eos_token, when present, rebuild the special-token templates as
 *     transformers does for Llama-family tokenizers;
 *   - model_max_length (0 when absent, not positive, or transformers' 1e30 "no limit") and
 *     truncation_side ("left" keeps the end of a truncated text) serve slm_tokenize_truncated.
 * tokenizer.json's own truncation and padding are ignored, as transformers ignores them unless
 * asked: they are batch-training settings.
 * Models: BPE (also when an old file leaves the type out but has merges) and WordPiece.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "tokenizer_internal.h"

/* transformers writes int(1e30) for "no limit"; anything this large means no limit. */
#define HUGE_MODEL_MAX_LENGTH 1e15

/* ------------------------------------------------------------------ slm_tokens */

void slm_tokens_free(slm_tokens *tokens)
{
    if (!tokens)
        return;
    free(tokens->ids);
    tokens->ids = NULL;
    tokens->n = tokens->cap = 0;
}

slm_status slm_tokens_push(slm_tokens *tokens, int32_t id)
{
    if (tokens->n == tokens->cap) {
        size_t cap = tokens->cap ? 2 * tokens->cap : 64;
        int32_t *ids = realloc(tokens->ids, cap * sizeof *ids);
        if (!ids)
            return SLM_ERR_NOMEM;
        tokens->ids = ids;
        tokens->cap = cap;
    }
    tokens->ids[tokens->n++] = id;
    return SLM_OK;
}

/* ------------------------------------------------------------------ loading */

static slm_status load_model(slm_tokenizer *tok, const cJSON *model, slm_error *err)
{
    if (!cJSON_IsObject(model))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: no \"model\" object", tok->path);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    /* Very old files leave the type out; a BPE model is the one with merges. */
    const char *t = cJSON_IsString(type) ? type->valuestring
                    : cJSON_GetObjectItemCaseSensitive(model, "merges") ? "BPE"
                                                                        : "(none)";
    if (strcmp(t, "BPE") == 0) {
        tok->model_kind = SLM_TOK_MODEL_BPE;
        return slm_bpe_load(&tok->bpe, model, tok->path, err);
    }
    if (strcmp(t, "WordPiece") == 0) {
        tok->model_kind = SLM_TOK_MODEL_WORDPIECE;
        return slm_wordpiece_load(&tok->wordpiece, model, tok->path, err);
    }
    return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: model type '%s' is not supported", tok->path,
                    t);
}

const slm_vocab *slm_tokenizer_model_vocab(const slm_tokenizer *tok)
{
    return tok->model_kind == SLM_TOK_MODEL_WORDPIECE ? &tok->wordpiece.vocab : &tok->bpe.vocab;
}

/* Fills tok->ids: the piece each id decodes from and whether skip_special drops it. */
static slm_status build_id_table(slm_tokenizer *tok, slm_error *err)
{
    const slm_vocab *v = slm_tokenizer_model_vocab(tok);
    size_t n = v->n_ids;
    for (size_t i = 0; i < tok->added.n; i++)
        if ((size_t)tok->added.v[i].id + 1 > n)
            n = (size_t)tok->added.v[i].id + 1;
    tok->n_ids = n;
    tok->ids = calloc(n ? n : 1, sizeof *tok->ids);
    if (!tok->ids)
        return slm_fail_nomem(err, "id table");
    for (size_t id = 0; id < v->n_ids; id++) {
        size_t len;
        const char *p = slm_vocab_piece(v, (int32_t)id, &len);
        tok->ids[id] = (slm_tok_id_info){p, (uint32_t)len, false};
    }
    /* Added tokens decode from their normalized form when they have one (Hugging Face's
     * normalized cache); they are special when that string is a special token's content. */
    for (size_t i = 0; i < tok->added.n; i++) {
        const slm_added_token *t = &tok->added.v[i];
        tok->ids[t->id] = (slm_tok_id_info){t->pattern, (uint32_t)t->pattern_len, false};
    }
    for (size_t i = 0; i < tok->added.n; i++) {
        const slm_added_token *t = &tok->added.v[i];
        slm_tok_id_info *info = &tok->ids[t->id];
        for (size_t j = 0; j < tok->added.n && !info->special; j++) {
            const slm_added_token *s = &tok->added.v[j];
            info->special = s->special && s->content_len == info->len &&
                            memcmp(s->content, info->text, info->len) == 0;
        }
    }
    return SLM_OK;
}

static slm_status load_pipeline(slm_tokenizer *tok, const cJSON *root, slm_error *err)
{
    if (!cJSON_IsObject(root))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", tok->path);
    SLM_TRY(slm_normalizer_load(&tok->normalizer,
                                cJSON_GetObjectItemCaseSensitive(root, "normalizer"), tok->path,
                                err));
    SLM_TRY(slm_pretokenizer_load(&tok->pretokenizer,
                                  cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"),
                                  tok->path, err));
    SLM_TRY(load_model(tok, cJSON_GetObjectItemCaseSensitive(root, "model"), err));
    SLM_TRY(slm_added_load(&tok->added, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"),
                           slm_tokenizer_model_vocab(tok), &tok->normalizer, tok->path, err));
    SLM_TRY(slm_postproc_load(&tok->post,
                              cJSON_GetObjectItemCaseSensitive(root, "post_processor"), tok->path,
                              err));
    SLM_TRY(slm_detok_load(&tok->decoder, cJSON_GetObjectItemCaseSensitive(root, "decoder"),
                           tok->path, err));
    return build_id_table(tok, err);
}

/* bos_token / eos_token: "<s>" or {"content": "<s>", ...}; -1 when absent or unknown. */
static int32_t config_token(const slm_tokenizer *tok, const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? slm_tokenizer_token_id(tok, v->valuestring) : -1;
}

/* add_bos_token / add_eos_token: 1 / 0, or -1 when the key is absent. */
static int config_flag(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

static slm_status apply_config(slm_tokenizer *tok, const cJSON *cfg, const char *path,
                               slm_error *err)
{
    if (!cJSON_IsObject(cfg))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", path);
    tok->bos_id = config_token(tok, cfg, "bos_token");
    tok->eos_id = config_token(tok, cfg, "eos_token");
    if (!slm_postproc_override(&tok->post, config_flag(cfg, "add_bos_token"), tok->bos_id,
                               config_flag(cfg, "add_eos_token"), tok->eos_id))
        return slm_fail_nomem(err, "post_processor");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(cfg, "model_max_length");
    if (max && !cJSON_IsNull(max) && !cJSON_IsNumber(max))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model_max_length must be a number", path);
    if (cJSON_IsNumber(max) && max->valuedouble >= 1 && max->valuedouble < HUGE_MODEL_MAX_LENGTH)
        tok->model_max_length = (size_t)max->valuedouble;
    const cJSON *side = cJSON_GetObjectItemCaseSensitive(cfg, "truncation_side");
    if (side && !cJSON_IsNull(side) &&
        !(cJSON_IsString(side) && (strcmp(side->valuestring, "left") == 0 ||
                                   strcmp(side->valuestring, "right") == 0)))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: truncation_side must be \"left\" or \"right\"",
                        path);
    tok->truncate_left = cJSON_IsString(side) && strcmp(side->valuestring, "left") == 0;
    return SLM_OK;
}

static slm_status load_config(slm_tokenizer *tok, const char *dir, slm_error *err)
{
    char *path = slm_path_join(dir, "tokenizer_config.json");
    if (!path)
        return slm_fail_nomem(err, "path");
    slm_status st = SLM_OK;
    if (slm_file_exists(path)) {
        cJSON *cfg = NULL;
        st = slm_json_load(path, &cfg, err);
        if (st == SLM_OK)
            st = apply_config(tok, cfg, path, err);
        cJSON_Delete(cfg);
    }
    free(path);
    return st;
}

slm_status slm_tokenizer_load(const char *dir, slm_tokenizer **out, slm_error *err)
{
    *out = NULL;
    if (!dir)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_tokenizer_load: no directory given");
    slm_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok || !(tok->path = slm_path_join(dir, "tokenizer.json"))) {
        free(tok);
        return slm_fail_nomem(err, "tokenizer");
    }
    tok->bos_id = tok->eos_id = -1;
    cJSON *root = NULL;
    slm_status st = slm_json_load(tok->path, &root, err);
    if (st == SLM_OK)
        st = load_pipeline(tok, root, err);
    cJSON_Delete(root);
    if (st == SLM_OK)
        st = load_config(tok, dir, err);
    if (st != SLM_OK) {
        slm_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return SLM_OK;
}

void slm_tokenizer_free(slm_tokenizer *tok)
{
    if (!tok)
        return;
    slm_normalizer_free(&tok->normalizer);
    slm_pretokenizer_free(&tok->pretokenizer);
    slm_bpe_free(&tok->bpe);
    slm_wordpiece_free(&tok->wordpiece);
    slm_added_free(&tok->added);
    slm_postproc_free(&tok->post);
    slm_detok_free(&tok->decoder);
    free(tok->ids);
    free(tok->path);
    free(tok);
}

/* ------------------------------------------------------------------ queries */

size_t slm_tokenizer_vocab_size(const slm_tokenizer *tok)
{
    return tok->n_ids;
}

int32_t slm_tokenizer_bos_id(const slm_tokenizer *tok)
{
    return tok->bos_id;
}

int32_t slm_tokenizer_eos_id(const slm_tokenizer *tok)
{
    return tok->eos_id;
}

int32_t slm_tokenizer_token_id(const slm_tokenizer *tok, const char *piece)
{
    size_t n = strlen(piece);
    const slm_added_token *t = slm_added_find(&tok->added, piece, n);
    return t ? t->id : slm_vocab_find(slm_tokenizer_model_vocab(tok), piece, n);
}

size_t slm_tokenizer_model_max_length(const slm_tokenizer *tok)
{
    return tok->model_max_length;
}

const slm_tok_id_info *slm_tokenizer_id_info(const slm_tokenizer *tok, int32_t id)
{
    if (id < 0 || (size_t)id >= tok->n_ids || !tok->ids[id].text)
        return NULL;
    return &tok->ids[id];
}
