/*
 * wordpiece.c — the WordPiece model of tokenizer.json ("type": "WordPiece", BERT and its
 * descendants), as Hugging Face runs it.
 *
 * A word is cut greedily, longest match first, left to right: at each position the longest
 * vocabulary piece that starts there wins, spelled with the continuing_subword_prefix ("##")
 * after the first piece. A word with more than max_input_chars_per_word characters, or with a
 * position where no piece matches, becomes the single unk_token.
 * Two things make it cheap without changing the result: the candidate length starts at the
 * longest piece of the table rather than at the whole word, and pieces after the first are
 * looked up in a second table keyed without the prefix, so no string is ever built.
 * An unk_token that is not in the vocabulary is a load error (Hugging Face fails on the first
 * word that needs it).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* The pieces that start with prefix, keyed by what follows it. */
static bool build_continuations(slm_wordpiece *m, const char *prefix)
{
    const slm_vocab *v = &m->vocab;
    size_t np = strlen(prefix), n = 0, bytes = 0;
    for (size_t i = 0; i < v->n_pieces; i++) {
        const slm_vocab_entry *e = &v->entries[i];
        if (e->length >= np && memcmp(v->arena.data + e->offset, prefix, np) == 0) {
            n++;
            bytes += e->length - np + 1;
        }
    }
    if (!slm_vocab_init(&m->cont, n, bytes))
        return false;
    /* Pieces are distinct, so so are their suffixes: every key is added once. */
    for (size_t i = 0; i < v->n_pieces; i++) {
        const slm_vocab_entry *e = &v->entries[i];
        const char *p = v->arena.data + e->offset;
        if (e->length >= np && memcmp(p, prefix, np) == 0)
            slm_vocab_add(&m->cont, p + np, e->length - np, e->id);
    }
    return true;
}

static slm_status read_string(const cJSON *model, const char *key, const char *dflt,
                              const char *path, char **out, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model.%s must be a string", path, key);
    if (!(*out = strdup(cJSON_IsString(v) ? v->valuestring : dflt)))
        return slm_fail_nomem(err, key);
    return SLM_OK;
}

slm_status slm_wordpiece_load(slm_wordpiece *m, const cJSON *model, const char *path,
                              slm_error *err)
{
    memset(m, 0, sizeof *m);
    char what[4200];
    snprintf(what, sizeof what, "%s: model.vocab", path);
    SLM_TRY(slm_vocab_from_json(&m->vocab, cJSON_GetObjectItemCaseSensitive(model, "vocab"), what,
                                err));
    char *prefix = NULL;
    slm_status st = read_string(model, "continuing_subword_prefix", "##", path, &prefix, err);
    if (st == SLM_OK)
        st = read_string(model, "unk_token", "[UNK]", path, &m->unk_token, err);
    if (st == SLM_OK && !build_continuations(m, prefix))
        st = slm_fail_nomem(err, "WordPiece vocabulary");
    free(prefix);
    SLM_TRY(st);
    int64_t max;
    SLM_TRY(slm_tok_json_int(model, "max_input_chars_per_word", 0, SLM_TOK_JSON_MAX_INT, 100,
                             path, "model", &max, err));
    m->max_chars = (size_t)max;
    m->unk_id = slm_vocab_find(&m->vocab, m->unk_token, strlen(m->unk_token));
    if (m->unk_id < 0)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model.unk_token '%s' is not in model.vocab",
                        path, m->unk_token);
    return SLM_OK;
}

void slm_wordpiece_free(slm_wordpiece *m)
{
    slm_vocab_free(&m->vocab);
    slm_vocab_free(&m->cont);
    free(m->unk_token);
    memset(m, 0, sizeof *m);
}

static bool is_continuation_byte(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static size_t count_chars(const char *s, size_t n, size_t stop_after)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k <= stop_after; i++)
        k += !is_continuation_byte(s[i]);
    return k;
}

/* The id of the longest piece starting at `start`; *end receives where it stops. -1 when no
 * piece starts there. */
static int32_t longest_piece(const slm_wordpiece *m, const char *s, size_t n, size_t start,
                             size_t *end)
{
    const slm_vocab *v = start == 0 ? &m->vocab : &m->cont;
    size_t e = n - start > v->max_len ? start + v->max_len : n;
    while (e < n && is_continuation_byte(s[e])) /* whole characters only */
        e--;
    while (e > start) {
        int32_t id = slm_vocab_find(v, s + start, e - start);
        if (id >= 0) {
            *end = e;
            return id;
        }
        do /* one character shorter */
            e--;
        while (e > start && is_continuation_byte(s[e]));
    }
    return -1;
}

slm_status slm_wordpiece_tokenize(const slm_wordpiece *m, const char *word, size_t n,
                                  slm_tokens *out, slm_error *err)
{
    size_t n0 = out->n;
    bool bad = count_chars(word, n, m->max_chars) > m->max_chars;
    for (size_t start = 0; start < n && !bad;) {
        size_t end;
        int32_t id = longest_piece(m, word, n, start, &end);
        if (id < 0) {
            bad = true;
            break;
        }
        if (slm_tokens_push(out, id) != SLM_OK)
            return slm_fail_nomem(err, "token ids");
        start = end;
    }
    if (!bad)
        return SLM_OK;
    out->n = n0; /* the whole word becomes [UNK] */
    return slm_tokens_push(out, m->unk_id) == SLM_OK ? SLM_OK : slm_fail_nomem(err, "token ids");
}
