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
 *   - model_max_length (0 when absent, null, 0 or transformers' 1e30 "no limit") and
 *     truncation_side ("left" keeps the end of a truncated text) serve slm_tokenize_truncated;
 *   - clean_up_tokenization_spaces true appends transformers' clean_up_tokenization to the
 *     decoder (" ." -> ".", " ' " -> "'", ...), except for BPE models, as transformers 5 does.
 * tokenizer.json's own truncation and padding are ignored, as transformers ignores them unless
 * asked: they are batch-training settings.
 * Models: BPE (also when an old file leaves the type out but has merges) and WordPiece.
 * A folder without tokenizer.json but with vocab.txt (BERT as the hub publishes it) gets the
 * pipeline transformers builds from vocab.txt + tokenizer_config.json (from_vocab.c).
 */
#include <stdio.h>
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
    if (type && !cJSON_IsString(type))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model.type must be a string", tok->path);
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

/* Records what id decodes from (replacing what an earlier call set). The table was sized for
 * every id build_id_table sets. */
static void set_id_info(slm_tokenizer *tok, int32_t id, slm_tok_id_info info)
{
    int32_t k = slm_id_map_get(&tok->id_index, id);
    if (k < 0) {
        k = (int32_t)tok->n_infos++;
        slm_id_map_put(&tok->id_index, id, k);
    }
    tok->ids[k] = info;
    if ((size_t)id + 1 > tok->n_ids)
        tok->n_ids = (size_t)id + 1;
}

/* Fills the id table: the piece each id decodes from and whether skip_special drops it. Sized by
 * the pieces and added tokens there are, never by the largest id. */
static slm_status build_id_table(slm_tokenizer *tok, slm_error *err)
{
    const slm_vocab *v = slm_tokenizer_model_vocab(tok);
    size_t n = v->n_pieces + tok->added.n;
    tok->ids = malloc((n ? n : 1) * sizeof *tok->ids);
    if (!tok->ids || !slm_id_map_init(&tok->id_index, n))
        return slm_fail_nomem(err, "id table");
    tok->n_ids = v->n_ids;
    for (size_t k = 0; k < v->n_pieces; k++) {
        const slm_vocab_entry *e = &v->entries[k];
        if (slm_id_map_get(&v->by_id, e->id) == (int32_t)k) /* the piece the id decodes to */
            set_id_info(tok, e->id, (slm_tok_id_info){v->arena.data + e->offset, e->length,
                                                      false});
    }
    /* Added tokens decode from their normalized form when they have one (Hugging Face's
     * normalized cache); they are special when that string is a special token's content. */
    for (size_t i = 0; i < tok->added.n; i++) {
        const slm_added_token *t = &tok->added.v[i];
        const slm_added_token *same = slm_added_find(&tok->added, t->pattern, t->pattern_len);
        set_id_info(tok, t->id, (slm_tok_id_info){t->pattern, (uint32_t)t->pattern_len,
                                                  same && same->special});
    }
    return SLM_OK;
}

/* Every key and string of tokenizer.json must be UTF-8, as Hugging Face requires (it reads the file
 * into a Rust String): the pipeline works on well-formed text, and a piece, added token or
 * normalizer string with stray bytes would break that promise (an added token's content runs
 * through the normalizer). `at` is the JSON path so far, for the message. */
static slm_status check_utf8(const slm_tokenizer *tok, const cJSON *v, char *at, size_t used,
                             size_t cap, slm_error *err)
{
    size_t bad;
    if (cJSON_IsString(v) && !slm_tok_utf8_valid(v->valuestring, strlen(v->valuestring), &bad))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s: string is not valid UTF-8 (byte %zu)",
                        tok->path, used ? at : "(top)", bad);
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return SLM_OK;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (e->string && !slm_tok_utf8_valid(e->string, strlen(e->string), &bad))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s: a key is not valid UTF-8 (byte %zu)",
                            tok->path, used ? at : "(top)", bad);
        int k = e->string ? snprintf(at + used, cap - used, "%s%.40s", used ? "." : "", e->string)
                          : snprintf(at + used, cap - used, "[%zu]", i);
        i++;
        size_t next = used + (k > 0 ? (size_t)k : 0);
        SLM_TRY(check_utf8(tok, e, at, next < cap ? next : cap - 1, cap, err));
        at[used] = '\0';
    }
    return SLM_OK;
}

/* tokenizer.json's "truncation" / "padding": unused (see the top), but checked as Hugging Face
 * reads them, so a broken file is refused instead of half-trusted. */
static slm_status check_batch_settings(const slm_tokenizer *tok, const cJSON *root,
                                       slm_error *err)
{
    static const char *const trunc_keys[] = {"max_length", "stride"};
    static const char *const pad_keys[] = {"pad_id", "pad_type_id", "pad_to_multiple_of"};
    const cJSON *trunc = cJSON_GetObjectItemCaseSensitive(root, "truncation");
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
    if ((trunc && !cJSON_IsNull(trunc) && !cJSON_IsObject(trunc)) ||
        (pad && !cJSON_IsNull(pad) && !cJSON_IsObject(pad)))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must be null or an object", tok->path,
                        trunc && !cJSON_IsNull(trunc) && !cJSON_IsObject(trunc) ? "truncation"
                                                                                : "padding");
    int64_t x;
    for (int i = 0; i < 2; i++)
        SLM_TRY(slm_tok_json_int(trunc, trunc_keys[i], 0, SLM_TOK_JSON_MAX_INT, 0, tok->path,
                                 "truncation", &x, err));
    for (int i = 0; i < 3; i++)
        SLM_TRY(slm_tok_json_int(pad, pad_keys[i], 0, i < 2 ? UINT32_MAX : SLM_TOK_JSON_MAX_INT,
                                 0, tok->path, "padding", &x, err));
    const cJSON *strategy = cJSON_GetObjectItemCaseSensitive(pad, "strategy");
    return slm_tok_json_int(strategy, "Fixed", 0, SLM_TOK_JSON_MAX_INT, 0, tok->path,
                            "padding.strategy", &x, err);
}

static slm_status load_pipeline(slm_tokenizer *tok, const cJSON *root, slm_error *err)
{
    if (!cJSON_IsObject(root))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", tok->path);
    char at[512] = "";
    SLM_TRY(check_utf8(tok, root, at, 0, sizeof at, err));
    SLM_TRY(check_batch_settings(tok, root, err));
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

/* bos_token / eos_token: "<s>" or {"content": "<s>", ...}; -1 when absent, null or not a
 * token of this tokenizer. */
static slm_status config_token(const slm_tokenizer *tok, const cJSON *cfg, const char *key,
                               const char *path, int32_t *id, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    *id = -1;
    if (!v || cJSON_IsNull(v))
        return SLM_OK;
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: %s must be a string or an object with a string \"content\"", path,
                        key);
    *id = slm_tokenizer_token_id(tok, v->valuestring);
    return SLM_OK;
}

/* add_bos_token / add_eos_token: *flag 1 / 0, or -1 when the key is absent or null. */
static slm_status config_flag(const cJSON *cfg, const char *key, const char *path, int *flag,
                              slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    bool b;
    SLM_TRY(slm_tok_json_bool(cfg, key, false, path, "", &b, err));
    *flag = cJSON_IsBool(v) ? b : -1;
    return SLM_OK;
}

/* model_max_length: a count of tokens, 0 (unknown) when absent or null; transformers writes
 * int(1e30) for "no limit", so anything from HUGE_MODEL_MAX_LENGTH up is 0 as well. */
static slm_status config_max_length(const cJSON *cfg, const char *path, size_t *out,
                                    slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, "model_max_length");
    *out = 0;
    if (cJSON_IsNumber(v) && v->valuedouble >= HUGE_MODEL_MAX_LENGTH)
        return SLM_OK;
    int64_t n;
    SLM_TRY(slm_tok_json_int(cfg, "model_max_length", 0, (int64_t)HUGE_MODEL_MAX_LENGTH, 0, path,
                             "", &n, err));
    *out = (size_t)n;
    return SLM_OK;
}

static slm_status apply_config(slm_tokenizer *tok, const cJSON *cfg, const char *path,
                               slm_error *err)
{
    if (!cJSON_IsObject(cfg))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", path);
    SLM_TRY(config_token(tok, cfg, "bos_token", path, &tok->bos_id, err));
    SLM_TRY(config_token(tok, cfg, "eos_token", path, &tok->eos_id, err));
    int add_bos, add_eos;
    SLM_TRY(config_flag(cfg, "add_bos_token", path, &add_bos, err));
    SLM_TRY(config_flag(cfg, "add_eos_token", path, &add_eos, err));
    if (!slm_postproc_override(&tok->post, add_bos, tok->bos_id, add_eos, tok->eos_id))
        return slm_fail_nomem(err, "post_processor");
    SLM_TRY(config_max_length(cfg, path, &tok->model_max_length, err));
    const cJSON *side = cJSON_GetObjectItemCaseSensitive(cfg, "truncation_side");
    if (side && !cJSON_IsNull(side) &&
        !(cJSON_IsString(side) && (strcmp(side->valuestring, "left") == 0 ||
                                   strcmp(side->valuestring, "right") == 0)))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: truncation_side must be \"left\" or \"right\"",
                        path);
    tok->truncate_left = cJSON_IsString(side) && strcmp(side->valuestring, "left") == 0;
    /* transformers 5 cleans decoded text up only for non-BPE models unless told otherwise */
    bool cleanup, force;
    SLM_TRY(slm_tok_json_bool(cfg, "clean_up_tokenization_spaces", false, path, "", &cleanup,
                              err));
    SLM_TRY(slm_tok_json_bool(cfg, "clean_up_tokenization_spaces_for_bpe_even_though_it_will_"
                              "corrupt_output", false, path, "", &force, err));
    if (cleanup && (tok->model_kind != SLM_TOK_MODEL_BPE || force))
        SLM_TRY(slm_detok_add_cleanup(&tok->decoder, err));
    return SLM_OK;
}

/* Applies dir/tokenizer_config.json when present; its parse is handed to the
 * caller through *keep (NULL: freed here) so the model's chat template is read
 * from the same parse instead of a second one. */
static slm_status load_config(slm_tokenizer *tok, const char *dir, cJSON **keep, slm_error *err)
{
    char *path = slm_path_join(dir, "tokenizer_config.json");
    if (!path)
        return slm_fail_nomem(err, "path");
    slm_status st = SLM_OK;
    cJSON *cfg = NULL;
    if (slm_file_exists(path)) {
        st = slm_json_load(path, &cfg, err);
        if (st == SLM_OK)
            st = apply_config(tok, cfg, path, err);
    }
    if (st == SLM_OK && keep)
        *keep = cfg;
    else
        cJSON_Delete(cfg);
    free(path);
    return st;
}

/* A tokenizer with nothing loaded, whose messages name dir/name. */
static slm_tokenizer *new_tokenizer(const char *dir, const char *name)
{
    slm_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok || !(tok->path = slm_path_join(dir, name))) {
        free(tok);
        return NULL;
    }
    tok->bos_id = tok->eos_id = -1;
    return tok;
}

/* Hands tok to the caller, or frees it when loading failed. */
static slm_status finish_load(slm_tokenizer *tok, slm_status st, slm_tokenizer **out)
{
    if (st != SLM_OK) {
        slm_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return SLM_OK;
}

/* tokenizer.json's parse, or when the folder has none but has vocab.txt, the document
 * from_vocab.c converts (*tok then names vocab.txt in messages). */
static slm_status load_document(slm_tokenizer **tok, const char *dir, cJSON **root,
                                slm_error *err)
{
    if (slm_file_exists((*tok)->path))
        return slm_json_load((*tok)->path, root, err);
    slm_tokenizer *v = new_tokenizer(dir, "vocab.txt");
    if (!v)
        return slm_fail_nomem(err, "tokenizer");
    if (!slm_file_exists(v->path)) {
        /* neither: tokenizer.json's own error (which names it), then vocab.txt */
        slm_error first = {0};
        slm_status st = slm_json_load((*tok)->path, root, &first);
        if (st != SLM_OK)
            st = slm_fail(err, st, "%s (and no %s either: a tokenizer needs one of the two)",
                          first.msg, v->path);
        slm_tokenizer_free(v);
        return st;
    }
    slm_tokenizer_free(*tok);
    *tok = v;
    return slm_tok_vocab_load_dir(dir, root, err);
}

slm_status slm_tokenizer_load(const char *dir, slm_tokenizer **out, slm_error *err)
{
    return slm_tokenizer_load_keep_config(dir, out, NULL, err);
}

slm_status slm_tokenizer_load_keep_config(const char *dir, slm_tokenizer **out, cJSON **config,
                                          slm_error *err)
{
    *out = NULL;
    if (config)
        *config = NULL;
    if (!dir)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_tokenizer_load: no directory given");
    slm_tokenizer *tok = new_tokenizer(dir, "tokenizer.json");
    if (!tok)
        return slm_fail_nomem(err, "tokenizer");
    cJSON *root = NULL;
    slm_status st = load_document(&tok, dir, &root, err);
    if (st == SLM_OK)
        st = load_pipeline(tok, root, err);
    cJSON_Delete(root);
    if (st == SLM_OK)
        st = load_config(tok, dir, config, err);
    return finish_load(tok, st, out);
}

slm_status slm_tokenizer_load_json(const char *json, size_t len, const char *config,
                                   size_t config_len, const char *dir, slm_tokenizer **out,
                                   slm_error *err)
{
    *out = NULL;
    slm_tokenizer *tok = new_tokenizer(dir ? dir : "<memory>", "tokenizer.json");
    char *config_path = tok ? slm_path_join(dir ? dir : "<memory>", "tokenizer_config.json")
                            : NULL;
    if (!config_path) {
        slm_tokenizer_free(tok);
        return slm_fail_nomem(err, "tokenizer");
    }
    cJSON *root = NULL;
    slm_status st = slm_json_parse(json, len, tok->path, &root, err);
    if (st == SLM_OK)
        st = load_pipeline(tok, root, err);
    cJSON_Delete(root);
    root = NULL;
    if (st == SLM_OK && config) {
        st = slm_json_parse(config, config_len, config_path, &root, err);
        if (st == SLM_OK)
            st = apply_config(tok, root, config_path, err);
        cJSON_Delete(root);
    }
    free(config_path);
    return finish_load(tok, st, out);
}

/* Parses len bytes at text as dir's `name` into *out (NULL when text is NULL). */
static slm_status parse_side_file(const char *text, size_t len, const char *dir,
                                  const char *name, char **path, cJSON **out, slm_error *err)
{
    *out = NULL;
    if (!(*path = slm_path_join(dir, name)))
        return slm_fail_nomem(err, "path");
    return text ? slm_json_parse(text, len, *path, out, err) : SLM_OK;
}

slm_status slm_tokenizer_load_vocab(const char *vocab, size_t vocab_len, const char *config,
                                    size_t config_len, const char *special_map, size_t map_len,
                                    const char *dir, slm_tokenizer **out, slm_error *err)
{
    *out = NULL;
    dir = dir ? dir : "<memory>";
    slm_tokenizer *tok = new_tokenizer(dir, "vocab.txt");
    if (!tok)
        return slm_fail_nomem(err, "tokenizer");
    char *cfg_path = NULL, *map_path = NULL;
    cJSON *cfg = NULL, *map = NULL, *root = NULL;
    slm_status st = parse_side_file(config, config_len, dir, "tokenizer_config.json", &cfg_path,
                                    &cfg, err);
    if (st == SLM_OK)
        st = parse_side_file(special_map, map_len, dir, "special_tokens_map.json", &map_path,
                             &map, err);
    if (st == SLM_OK)
        st = slm_tok_vocab_document(vocab, vocab_len, tok->path, cfg, cfg_path, map, map_path,
                                    &root, err);
    if (st == SLM_OK)
        st = load_pipeline(tok, root, err);
    if (st == SLM_OK && cfg)
        st = apply_config(tok, cfg, cfg_path, err);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    cJSON_Delete(map);
    free(cfg_path);
    free(map_path);
    return finish_load(tok, st, out);
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
    slm_id_map_free(&tok->id_index);
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

const char *slm_tokenizer_id_piece(const slm_tokenizer *tok, int32_t id, size_t *len)
{
    const slm_tok_id_info *info = slm_tokenizer_id_info(tok, id);
    if (!info)
        return NULL;
    *len = info->len;
    return info->text;
}

size_t slm_tokenizer_model_max_length(const slm_tokenizer *tok)
{
    return tok->model_max_length;
}

const slm_tok_id_info *slm_tokenizer_id_info(const slm_tokenizer *tok, int32_t id)
{
    int32_t k = slm_id_map_get(&tok->id_index, id);
    return k < 0 || !tok->ids[k].text ? NULL : &tok->ids[k];
}
