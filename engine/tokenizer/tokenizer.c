/*
 * tokenizer.c — slm_tokenizer: loads tokenizer.json (+ tokenizer_config.json) into the pipeline
 * described in tokenizer_internal.h, and implements the encoding half of the public API.
 *
 * Contract (see slm.h): behaviour equals Hugging Face `tokenizers` on the same file —
 *   encode: added tokens matched whole in the raw text; every other stretch normalized on its
 *           own, split again around normalized added tokens, pre-tokenized, encoded by the model;
 *           add_special wraps the result with the post-processor's prefix / suffix, where
 *           tokenizer_config.json's add_bos_token / add_eos_token, when present, decide the
 *           BOS / EOS side (as transformers does);
 *   decode: see stream_decoder.c.
 * Input must be valid UTF-8 (SLM_ERR_INVALID_ARG naming the byte offset otherwise).
 * tokenizer.json's truncation and padding are ignored: they are batch-training settings.
 * bos / eos ids come from tokenizer_config.json's bos_token / eos_token (a string or an
 * {"content": ...} object); -1 when absent.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "tokenizer_internal.h"

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
    bool bpe = cJSON_IsString(type) ? strcmp(type->valuestring, "BPE") == 0
                                    : cJSON_GetObjectItemCaseSensitive(model, "merges") != NULL;
    if (!bpe)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: model type '%s' is not supported",
                        tok->path, cJSON_IsString(type) ? type->valuestring : "(none)");
    tok->model_kind = SLM_TOK_MODEL_BPE;
    return slm_bpe_load(&tok->bpe, model, tok->path, err);
}

/* Fills tok->ids: the piece each id decodes from and whether skip_special drops it. */
static slm_status build_id_table(slm_tokenizer *tok, slm_error *err)
{
    const slm_vocab *v = &tok->bpe.vocab;
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
                           &tok->bpe.vocab, &tok->normalizer, tok->path, err));
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

static slm_status apply_config(slm_tokenizer *tok, const cJSON *cfg, const char *path,
                               slm_error *err)
{
    if (!cJSON_IsObject(cfg))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", path);
    tok->bos_id = config_token(tok, cfg, "bos_token");
    tok->eos_id = config_token(tok, cfg, "eos_token");
    const cJSON *add_bos = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token");
    const cJSON *add_eos = cJSON_GetObjectItemCaseSensitive(cfg, "add_eos_token");
    if (cJSON_IsBool(add_bos) &&
        !slm_postproc_set_prefix(&tok->post, cJSON_IsTrue(add_bos) ? tok->bos_id : -1))
        return slm_fail_nomem(err, "post_processor");
    if (cJSON_IsBool(add_eos) &&
        !slm_postproc_set_suffix(&tok->post, cJSON_IsTrue(add_eos) ? tok->eos_id : -1))
        return slm_fail_nomem(err, "post_processor");
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
    return t ? t->id : slm_vocab_find(&tok->bpe.vocab, piece, n);
}

const slm_tok_id_info *slm_tokenizer_id_info(const slm_tokenizer *tok, int32_t id)
{
    if (id < 0 || (size_t)id >= tok->n_ids || !tok->ids[id].text)
        return NULL;
    return &tok->ids[id];
}

/* ------------------------------------------------------------------ encoding */

/* Scratch of one slm_tokenize call. */
typedef struct {
    slm_tok_segment_list raw, norm;
    slm_tok_buf normalized, tmp;
    slm_tok_split_list splits, splits_tmp;
    slm_bpe_work bpe;
} encode_work;

static void encode_work_free(encode_work *w)
{
    slm_tok_segment_list_free(&w->raw);
    slm_tok_segment_list_free(&w->norm);
    slm_tok_buf_free(&w->normalized);
    slm_tok_buf_free(&w->tmp);
    slm_tok_split_list_free(&w->splits);
    slm_tok_split_list_free(&w->splits_tmp);
    slm_bpe_work_free(&w->bpe);
}

static slm_status push_ids(slm_tokens *out, const int32_t *ids, size_t n, slm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (slm_tokens_push(out, ids[i]) != SLM_OK)
            return slm_fail_nomem(err, "token ids");
    return SLM_OK;
}

/* Pre-tokenizes one normalized stretch and runs the model on each word. */
static slm_status encode_words(const slm_tokenizer *tok, const char *s, size_t n, bool at_origin,
                               encode_work *w, slm_tokens *out, slm_error *err)
{
    if (tok->pretokenizer.n == 0)
        return slm_bpe_tokenize(&tok->bpe, s, n, &w->bpe, out, err);
    slm_tok_buf_clear(&w->splits.text);
    w->splits.n = 0;
    if (!slm_tok_buf_append(&w->splits.text, s, n) ||
        !slm_tok_split_list_push(&w->splits, 0, n, at_origin) ||
        !slm_pretokenizer_apply(&tok->pretokenizer, &w->splits, &w->splits_tmp))
        return slm_fail_nomem(err, "pre-tokenized text");
    for (size_t i = 0; i < w->splits.n; i++) {
        const slm_tok_split *sp = &w->splits.v[i];
        SLM_TRY(slm_bpe_tokenize(&tok->bpe, w->splits.text.data + sp->off, sp->len, &w->bpe, out,
                                 err));
    }
    return SLM_OK;
}

/* Encodes one stretch of raw text between added tokens. */
static slm_status encode_stretch(const slm_tokenizer *tok, const char *s, size_t n,
                                 bool at_origin, encode_work *w, slm_tokens *out, slm_error *err)
{
    w->norm.n = 0;
    if (!slm_normalizer_apply(&tok->normalizer, s, n, &w->normalized, &w->tmp) ||
        !slm_added_split(&tok->added, true, w->normalized.data, w->normalized.len, &w->norm))
        return slm_fail_nomem(err, "normalized text");
    for (size_t i = 0; i < w->norm.n; i++) {
        const slm_tok_segment *seg = &w->norm.v[i];
        if (seg->id >= 0) {
            SLM_TRY(push_ids(out, &seg->id, 1, err));
            continue;
        }
        SLM_TRY(encode_words(tok, w->normalized.data + seg->start, seg->end - seg->start,
                             at_origin && seg->start == 0, w, out, err));
    }
    return SLM_OK;
}

static slm_status encode(const slm_tokenizer *tok, const char *text, size_t len,
                         bool add_special, encode_work *w, slm_tokens *out, slm_error *err)
{
    if (add_special)
        SLM_TRY(push_ids(out, tok->post.prefix, tok->post.n_prefix, err));
    if (!slm_added_split(&tok->added, false, text, len, &w->raw))
        return slm_fail_nomem(err, "token segments");
    for (size_t i = 0; i < w->raw.n; i++) {
        const slm_tok_segment *seg = &w->raw.v[i];
        if (seg->id >= 0)
            SLM_TRY(push_ids(out, &seg->id, 1, err));
        else
            SLM_TRY(encode_stretch(tok, text + seg->start, seg->end - seg->start,
                                   seg->start == 0, w, out, err));
    }
    if (add_special)
        SLM_TRY(push_ids(out, tok->post.suffix, tok->post.n_suffix, err));
    return SLM_OK;
}

slm_status slm_tokenize(const slm_tokenizer *tok, const char *text, size_t len,
                        bool add_special, slm_tokens *out, slm_error *err)
{
    if (!tok || !out || (!text && len))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_tokenize: NULL argument");
    size_t bad;
    if (len && !slm_tok_utf8_valid(text, len, &bad))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "slm_tokenize: input is not valid UTF-8 (byte offset %zu, byte 0x%02X)",
                        bad, (unsigned char)text[bad]);
    size_t n0 = out->n;
    encode_work w = {0};
    slm_status st = encode(tok, len ? text : "", len, add_special, &w, out, err);
    encode_work_free(&w);
    if (st != SLM_OK)
        out->n = n0; /* leave the caller's list as it was */
    return st;
}
