/*
 * from_vocab.c — BERT-family folders as the hub publishes them: vocab.txt + tokenizer_config.json
 * (+ special_tokens_map.json) and no tokenizer.json. transformers' BertTokenizer (and
 * DistilBertTokenizer, which only changes defaults it does not use here) builds a `tokenizers`
 * pipeline from them; this file writes that same pipeline down as the tokenizer.json document
 * transformers' backend_tokenizer.to_str() gives, which tokenizer.c then loads with the ordinary
 * loaders (so every check and component is shared with tokenizer.json folders):
 *   normalizer      BertNormalizer(clean_text true, handle_chinese_chars = tokenize_chinese_chars,
 *                   strip_accents as given (null: stripped iff lowercased), lowercase =
 *                   do_lower_case); defaults true, true, null, true
 *   pre_tokenizer   BertPreTokenizer
 *   model           WordPiece(vocab.txt: line k (from 0) is id k, unk_token,
 *                   continuing_subword_prefix "##", max_input_chars_per_word 100)
 *   added_tokens    unk, sep, pad, cls, mask tokens (special, normalized false) and the entries
 *                   of tokenizer_config.json's added_tokens_decoder, in id order
 *   post_processor  TemplateProcessing "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1"
 *   decoder         WordPiece(prefix "##", cleanup true)
 * Special tokens come from tokenizer_config.json, overridden by special_tokens_map.json when the
 * config has no added_tokens_decoder (transformers reads the map only then); each may be a string
 * or an {"content": ..., "lstrip": ...} object.
 *
 * vocab.txt is untrusted: at most SLM_VOCAB_TXT_MAX bytes of UTF-8. transformers 5 hands the file
 * to tokenizers' WordPiece reader, which splits it at \n only and trims each line's trailing
 * White_Space (so \r\n works, a trailing space or \r is dropped, leading spaces and a \r inside a
 * line stay); the same is done here. A line left empty, a NUL byte or a token listed twice is
 * refused naming the line (tokenizers would give "" or the token the later id and leave the
 * earlier id without a token). Special tokens must be lines of vocab.txt, and
 * added_tokens_decoder entries must name the line their id is: a tokenizer that would grow ids
 * past vocab.txt is refused as unsupported, as are additional special tokens and added_tokens.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "tokenizer_internal.h"

#define N_SPECIAL 5

/* In transformers' order of the BertTokenizer arguments. */
static const char *const SPECIAL_KEYS[N_SPECIAL] = {"unk_token", "sep_token", "pad_token",
                                                    "cls_token", "mask_token"};
static const char *const SPECIAL_DEFAULTS[N_SPECIAL] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]",
                                                        "[MASK]"};
enum { UNK, SEP, PAD, CLS, MASK };

/* One added token as tokenizer.json spells it. */
typedef struct {
    const char *content; /* points into a cJSON parse or SPECIAL_DEFAULTS */
    int32_t id;
    bool single_word, lstrip, rstrip, normalized, special;
} added_entry;

/* The settings transformers reads for BertTokenizer. */
typedef struct {
    bool lowercase, chinese;
    int strip_accents;             /* -1: null */
    added_entry special[N_SPECIAL]; /* content NULL: the token is null (pad and mask only) */
    added_entry *extra;            /* added_tokens_decoder entries */
    size_t n_extra;
} bert_settings;

/* ------------------------------------------------------------------ vocab.txt */

/* The lines of vocab.txt, each [start, start + len) of the text. */
typedef struct {
    const char *text;
    size_t *start;
    size_t *len;
    size_t n;
} vocab_lines;

/* The line starting at i (s valid UTF-8): *end receives where its token ends, trailing
 * White_Space trimmed; returns where the next line starts. */
static size_t next_line(const char *s, size_t n, size_t i, size_t *end)
{
    const char *nl = memchr(s + i, '\n', n - i);
    size_t stop = nl ? (size_t)(nl - s) : n;
    *end = i;
    while (i < stop) {
        size_t len;
        uint32_t cp = slm_tok_utf8_decode(s + i, &len);
        i += len;
        if (!slm_tok_unicode_is_space(cp))
            *end = i;
    }
    return nl ? stop + 1 : n;
}

/* The 1-based line holding byte off. */
static size_t line_of(const char *s, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

static slm_status split_lines(const char *s, size_t n, const char *path, vocab_lines *out,
                              slm_error *err)
{
    size_t bad;
    if (!slm_tok_utf8_valid(s, n, &bad))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: line %zu is not valid UTF-8 (byte %zu of the file)",
                        path, line_of(s, bad), bad);
    const char *nul = memchr(s, '\0', n);
    if (nul)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: line %zu holds a NUL byte", path,
                        line_of(s, (size_t)(nul - s)));
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '\n';
    count += n > 0 && s[n - 1] != '\n';
    if (count == 0)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: the file is empty (no tokens)", path);
    if (count > (size_t)SLM_TOK_MAX_ID)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: more than %d lines", path, SLM_TOK_MAX_ID);
    out->text = s;
    out->start = malloc(count * sizeof *out->start);
    out->len = malloc(count * sizeof *out->len);
    if (!out->start || !out->len)
        return slm_fail_nomem(err, "vocab.txt lines");
    out->n = 0;
    for (size_t i = 0, end; i < n;) {
        size_t next = next_line(s, n, i, &end);
        if (end == i)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: line %zu is empty or only whitespace (every line is a token)",
                            path, out->n + 1);
        out->start[out->n] = i;
        out->len[out->n++] = end - i;
        i = next;
    }
    SLM_ASSERT(out->n == count);
    return SLM_OK;
}

static void lines_free(vocab_lines *l)
{
    free(l->start);
    free(l->len);
}

/* {"piece": line index} for model.vocab; a token on two lines is refused. `v` is scratch that
 * finds the line a token was first seen on. */
static slm_status vocab_object(const vocab_lines *l, const char *path, slm_vocab *v,
                               cJSON **out, slm_error *err)
{
    size_t bytes = 0, max_len = 0;
    for (size_t k = 0; k < l->n; k++) {
        bytes += l->len[k] + 1;
        max_len = l->len[k] > max_len ? l->len[k] : max_len;
    }
    char *key = malloc(max_len + 1);
    cJSON *obj = cJSON_CreateObject();
    if (!key || !obj || !slm_vocab_init(v, l->n, bytes)) {
        free(key);
        cJSON_Delete(obj);
        return slm_fail_nomem(err, "vocab.txt");
    }
    for (size_t k = 0; k < l->n; k++) {
        const char *p = l->text + l->start[k];
        int32_t first = slm_vocab_find(v, p, l->len[k]);
        if (first >= 0) {
            free(key);
            cJSON_Delete(obj);
            return slm_fail(err, SLM_ERR_FORMAT, "%s: line %zu repeats the token of line %d (\"%.*s\")",
                            path, k + 1, first + 1, (int)(l->len[k] > 60 ? 60 : l->len[k]), p);
        }
        slm_vocab_add(v, p, l->len[k], (int32_t)k);
        memcpy(key, p, l->len[k]);
        key[l->len[k]] = '\0';
        cJSON *num = cJSON_CreateNumber((double)k);
        if (!num || !cJSON_AddItemToObject(obj, key, num)) {
            cJSON_Delete(num);
            free(key);
            cJSON_Delete(obj);
            return slm_fail_nomem(err, "vocab.txt");
        }
    }
    free(key);
    *out = obj;
    return SLM_OK;
}

/* ------------------------------------------------------------------ settings */

static slm_status check_class(const cJSON *cfg, const char *path, slm_error *err)
{
    static const char *const ok[] = {"BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer",
                                     "DistilBertTokenizerFast"};
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class");
    if (!c || cJSON_IsNull(c))
        return SLM_OK; /* the hub's older files leave it out; BERT is what vocab.txt means */
    if (!cJSON_IsString(c))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tokenizer_class must be a string", path);
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcmp(c->valuestring, ok[i]) == 0)
            return SLM_OK;
    return slm_fail(err, SLM_ERR_UNSUPPORTED,
                    "%s: tokenizer_class '%.80s': only BertTokenizer and DistilBertTokenizer "
                    "folders can be built from vocab.txt (give the folder a tokenizer.json)",
                    path, c->valuestring);
}

/* Additional special tokens would be added tokens of their own; refused rather than ignored. */
static slm_status check_no_extra(const cJSON *obj, const char *path, slm_error *err)
{
    static const char *const keys[] = {"additional_special_tokens", "extra_special_tokens"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);
        if (v && !cJSON_IsNull(v) && !((cJSON_IsArray(v) || cJSON_IsObject(v)) &&
                                       cJSON_GetArraySize(v) == 0))
            return slm_fail(err, SLM_ERR_UNSUPPORTED,
                            "%s: %s is not supported for a vocab.txt tokenizer", path, keys[i]);
    }
    return SLM_OK;
}

/* The flags of an AddedToken object (content already read); absent flags keep *e's. */
static slm_status token_flags(const cJSON *obj, const char *path, const char *where,
                              added_entry *e, slm_error *err)
{
    SLM_TRY(slm_tok_json_bool(obj, "single_word", e->single_word, path, where, &e->single_word,
                              err));
    SLM_TRY(slm_tok_json_bool(obj, "lstrip", e->lstrip, path, where, &e->lstrip, err));
    SLM_TRY(slm_tok_json_bool(obj, "rstrip", e->rstrip, path, where, &e->rstrip, err));
    SLM_TRY(slm_tok_json_bool(obj, "normalized", e->normalized, path, where, &e->normalized,
                              err));
    return SLM_OK;
}

/* A special token's value: "[UNK]" or {"content": "[UNK]", "lstrip": ...}; null clears it. */
static slm_status read_special(const cJSON *v, const char *path, int k, bert_settings *s,
                               slm_error *err)
{
    added_entry *e = &s->special[k];
    *e = (added_entry){.special = true, .id = -1};
    if (cJSON_IsNull(v)) {
        if (k == UNK || k == SEP || k == CLS)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must not be null for a BERT tokenizer",
                            path, SPECIAL_KEYS[k]);
        return SLM_OK;
    }
    const cJSON *c = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "content") : v;
    if (!cJSON_IsString(c) || !c->valuestring[0])
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: %s must be a non-empty string or an object with a string \"content\"",
                        path, SPECIAL_KEYS[k]);
    e->content = c->valuestring;
    return cJSON_IsObject(v) ? token_flags(v, path, SPECIAL_KEYS[k], e, err) : SLM_OK;
}

/* added_tokens_decoder: {"<id>": {"content": ..., flags, "special": ...}, ...}. */
static slm_status read_decoder(const cJSON *dec, const char *path, bert_settings *s,
                               slm_error *err)
{
    if (!cJSON_IsObject(dec))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: added_tokens_decoder must be an object", path);
    size_t n = (size_t)cJSON_GetArraySize(dec);
    if (!(s->extra = calloc(n ? n : 1, sizeof *s->extra)))
        return slm_fail_nomem(err, "added_tokens_decoder");
    const cJSON *t;
    cJSON_ArrayForEach(t, dec)
    {
        char where[96];
        snprintf(where, sizeof where, "added_tokens_decoder.%.40s", t->string);
        char *end = NULL;
        long long id = strtoll(t->string, &end, 10);
        if (!t->string[0] || *end || id < 0 || id > SLM_TOK_MAX_ID || t->string[0] == '-' ||
            t->string[0] == '+' || t->string[0] == ' ')
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s: the key must be a token id", path,
                            where);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(t, "content");
        if (!cJSON_IsObject(t) || !cJSON_IsString(c) || !c->valuestring[0])
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: %s must be an object with a non-empty string \"content\"", path,
                            where);
        added_entry *e = &s->extra[s->n_extra++];
        *e = (added_entry){.content = c->valuestring, .id = (int32_t)id};
        SLM_TRY(slm_tok_json_bool(t, "special", false, path, where, &e->special, err));
        e->normalized = !e->special; /* AddedToken's default */
        SLM_TRY(token_flags(t, path, where, e, err));
    }
    return SLM_OK;
}

static slm_status read_settings(const cJSON *cfg, const char *cfg_path, const cJSON *map,
                                const char *map_path, bert_settings *s, slm_error *err)
{
    SLM_TRY(check_class(cfg, cfg_path, err));
    SLM_TRY(check_no_extra(cfg, cfg_path, err));
    SLM_TRY(slm_tok_json_bool(cfg, "do_lower_case", true, cfg_path, "", &s->lowercase, err));
    SLM_TRY(slm_tok_json_bool(cfg, "tokenize_chinese_chars", true, cfg_path, "", &s->chinese,
                              err));
    const cJSON *strip = cJSON_GetObjectItemCaseSensitive(cfg, "strip_accents");
    bool b;
    SLM_TRY(slm_tok_json_bool(cfg, "strip_accents", false, cfg_path, "", &b, err));
    s->strip_accents = cJSON_IsBool(strip) ? b : -1;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(cfg, "added_tokens_decoder");
    if (dec && !cJSON_IsNull(dec))
        SLM_TRY(read_decoder(dec, cfg_path, s, err));
    else if (map)
        SLM_TRY(check_no_extra(map, map_path, err));
    for (int k = 0; k < N_SPECIAL; k++) {
        const cJSON *v = NULL;
        const char *from = cfg_path;
        if (map && !(dec && !cJSON_IsNull(dec)) &&
            (v = cJSON_GetObjectItemCaseSensitive(map, SPECIAL_KEYS[k])))
            from = map_path;
        else
            v = cJSON_GetObjectItemCaseSensitive(cfg, SPECIAL_KEYS[k]);
        if (v) {
            SLM_TRY(read_special(v, from, k, s, err));
        } else {
            s->special[k] = (added_entry){.content = SPECIAL_DEFAULTS[k], .special = true};
        }
        /* A special token the decoder lists takes that entry's flags, as transformers maps it. */
        for (size_t i = 0; i < s->n_extra && s->special[k].content; i++)
            if (strcmp(s->extra[i].content, s->special[k].content) == 0) {
                s->special[k] = s->extra[i];
                s->special[k].special = true;
            }
    }
    return SLM_OK;
}

/* ------------------------------------------------------------------ the document */

static cJSON *token_json(const added_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = cJSON_AddNumberToObject(o, "id", e->id) &&
              cJSON_AddStringToObject(o, "content", e->content) &&
              cJSON_AddBoolToObject(o, "single_word", e->single_word) &&
              cJSON_AddBoolToObject(o, "lstrip", e->lstrip) &&
              cJSON_AddBoolToObject(o, "rstrip", e->rstrip) &&
              cJSON_AddBoolToObject(o, "normalized", e->normalized) &&
              cJSON_AddBoolToObject(o, "special", e->special);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int by_id(const void *a, const void *b)
{
    const added_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Gives each added token its vocab.txt id (refusing one that is not a line, or not the line its
 * added_tokens_decoder key says) and lists them in id order, each once. */
static slm_status added_list(bert_settings *s, const slm_vocab *v, const char *vocab_path,
                             const char *cfg_path, cJSON *list, slm_error *err)
{
    for (size_t i = 0; i < s->n_extra; i++) {
        added_entry *e = &s->extra[i];
        int32_t id = slm_vocab_find(v, e->content, strlen(e->content));
        if (id != e->id)
            return slm_fail(err, SLM_ERR_UNSUPPORTED,
                            "%s: added_tokens_decoder.%d \"%.60s\" is not line %d of %s (tokens "
                            "beyond vocab.txt are not supported)",
                            cfg_path, e->id, e->content, e->id + 1, vocab_path);
    }
    size_t n = s->n_extra;
    added_entry *all = malloc((n + N_SPECIAL) * sizeof *all);
    if (!all)
        return slm_fail_nomem(err, "added tokens");
    if (n)
        memcpy(all, s->extra, n * sizeof *all);
    for (int k = 0; k < N_SPECIAL; k++) {
        added_entry e = s->special[k];
        if (!e.content)
            continue;
        e.id = slm_vocab_find(v, e.content, strlen(e.content));
        if (e.id < 0) {
            free(all);
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s \"%.60s\" is not a line of %s",
                            cfg_path, SPECIAL_KEYS[k], e.content, vocab_path);
        }
        s->special[k].id = e.id;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = all[i].id == e.id;
        if (!seen)
            all[n++] = e;
    }
    qsort(all, n, sizeof *all, by_id);
    for (size_t i = 0; i < n; i++) {
        cJSON *t = token_json(&all[i]);
        if (!t || !cJSON_AddItemToArray(list, t)) {
            cJSON_Delete(t);
            free(all);
            return slm_fail_nomem(err, "added tokens");
        }
    }
    free(all);
    return SLM_OK;
}

/* The BertTokenizer pipeline around the vocabulary, as tokenizer.json text (small and fixed),
 * with the settings and the [CLS] / [SEP] tokens filled in. */
static cJSON *pipeline_json(const bert_settings *s)
{
    const added_entry *cls = &s->special[CLS], *sep = &s->special[SEP];
    cJSON *c = cJSON_CreateString(cls->content), *p = cJSON_CreateString(sep->content);
    char *cq = cJSON_PrintUnformatted(c), *sq = cJSON_PrintUnformatted(p);
    cJSON_Delete(c);
    cJSON_Delete(p);
    char *text = NULL;
    cJSON *doc = NULL;
    size_t n = (cq && sq ? strlen(cq) * 3 + strlen(sq) * 6 : 0) + 1500;
    if (cq && sq && (text = malloc(n))) {
        static const char *const strip[] = {"null", "false", "true"};
        snprintf(text, n,
                 "{\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,"
                 "\"handle_chinese_chars\":%s,\"strip_accents\":%s,\"lowercase\":%s},"
                 "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                 "\"post_processor\":{\"type\":\"TemplateProcessing\","
                 "\"single\":[{\"SpecialToken\":{\"id\":%s,\"type_id\":0}},"
                 "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                 "{\"SpecialToken\":{\"id\":%s,\"type_id\":0}}],"
                 "\"pair\":[{\"SpecialToken\":{\"id\":%s,\"type_id\":0}},"
                 "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                 "{\"SpecialToken\":{\"id\":%s,\"type_id\":0}},"
                 "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
                 "{\"SpecialToken\":{\"id\":%s,\"type_id\":1}}],"
                 "\"special_tokens\":{%s:{\"id\":%s,\"ids\":[%d],\"tokens\":[%s]},"
                 "%s:{\"id\":%s,\"ids\":[%d],\"tokens\":[%s]}}},"
                 "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true}}",
                 s->chinese ? "true" : "false", strip[s->strip_accents + 1],
                 s->lowercase ? "true" : "false", cq, sq, cq, sq, sq, cq, cq, cls->id, cq, sq,
                 sq, sep->id, sq);
        doc = cJSON_Parse(text);
    }
    free(text);
    cJSON_free(cq);
    cJSON_free(sq);
    return doc;
}

/* The "model" object around the vocabulary (which it takes over). */
static cJSON *model_json(const bert_settings *s, cJSON *vocab)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "type", "WordPiece") ||
        !cJSON_AddStringToObject(m, "unk_token", s->special[UNK].content) ||
        !cJSON_AddStringToObject(m, "continuing_subword_prefix", "##") ||
        !cJSON_AddNumberToObject(m, "max_input_chars_per_word", 100)) {
        cJSON_Delete(m);
        cJSON_Delete(vocab);
        return NULL;
    }
    cJSON_AddItemToObject(m, "vocab", vocab);
    return m;
}

static slm_status build_document(bert_settings *s, const vocab_lines *lines, const char *vocab_path,
                                 const char *cfg_path, cJSON **out, slm_error *err)
{
    slm_vocab v;
    memset(&v, 0, sizeof v);
    cJSON *vocab = NULL, *doc = NULL, *list = NULL;
    slm_status st = vocab_object(lines, vocab_path, &v, &vocab, err);
    if (st == SLM_OK && !(list = cJSON_CreateArray()))
        st = slm_fail_nomem(err, "added tokens");
    if (st == SLM_OK)
        st = added_list(s, &v, vocab_path, cfg_path, list, err);
    if (st == SLM_OK && !(doc = pipeline_json(s)))
        st = slm_fail_nomem(err, "tokenizer document");
    if (st == SLM_OK) {
        cJSON_AddItemToObject(doc, "added_tokens", list);
        list = NULL;
        cJSON *model = model_json(s, vocab);
        vocab = NULL;
        if (!model)
            st = slm_fail_nomem(err, "tokenizer document");
        else
            cJSON_AddItemToObject(doc, "model", model);
    }
    slm_vocab_free(&v);
    cJSON_Delete(vocab);
    cJSON_Delete(list);
    if (st != SLM_OK) {
        cJSON_Delete(doc);
        return st;
    }
    *out = doc;
    return SLM_OK;
}

slm_status slm_tok_vocab_document(const char *vocab, size_t vocab_len, const char *vocab_path,
                                  const cJSON *config, const char *config_path,
                                  const cJSON *special_map, const char *map_path, cJSON **out,
                                  slm_error *err)
{
    *out = NULL;
    if (config && !cJSON_IsObject(config))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", config_path);
    if (special_map && !cJSON_IsObject(special_map))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", map_path);
    if (vocab_len > SLM_VOCAB_TXT_MAX)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: larger than the %zu MiB limit", vocab_path,
                        SLM_VOCAB_TXT_MAX >> 20);
    bert_settings s = {0};
    vocab_lines lines = {0};
    slm_status st = read_settings(config, config_path, special_map, map_path, &s, err);
    if (st == SLM_OK)
        st = split_lines(vocab, vocab_len, vocab_path, &lines, err);
    if (st == SLM_OK)
        st = build_document(&s, &lines, vocab_path, config_path, out, err);
    lines_free(&lines);
    free(s.extra);
    return st;
}

/* Parses dir/name into *out when the file exists (*out NULL otherwise). */
static slm_status optional_json(const char *dir, const char *name, char **path, cJSON **out,
                                slm_error *err)
{
    *out = NULL;
    if (!(*path = slm_path_join(dir, name)))
        return slm_fail_nomem(err, "path");
    return slm_file_exists(*path) ? slm_json_load(*path, out, err) : SLM_OK;
}

slm_status slm_tok_vocab_load_dir(const char *dir, cJSON **out, slm_error *err)
{
    *out = NULL;
    char *vocab_path = slm_path_join(dir, "vocab.txt");
    char *added_path = slm_path_join(dir, "added_tokens.json");
    char *cfg_path = NULL, *map_path = NULL, *text = NULL;
    cJSON *cfg = NULL, *map = NULL;
    size_t len = 0;
    slm_status st = vocab_path && added_path ? SLM_OK : slm_fail_nomem(err, "path");
    if (st == SLM_OK && slm_file_exists(added_path))
        st = slm_fail(err, SLM_ERR_UNSUPPORTED,
                      "%s: added tokens beyond vocab.txt are not supported (give the folder a "
                      "tokenizer.json)",
                      added_path);
    if (st == SLM_OK)
        st = optional_json(dir, "tokenizer_config.json", &cfg_path, &cfg, err);
    if (st == SLM_OK)
        st = optional_json(dir, "special_tokens_map.json", &map_path, &map, err);
    if (st == SLM_OK)
        st = slm_read_file_capped(vocab_path, SLM_VOCAB_TXT_MAX, &text, &len, err);
    if (st == SLM_OK)
        st = slm_tok_vocab_document(text, len, vocab_path, cfg, cfg_path, map, map_path, out,
                                    err);
    free(text);
    cJSON_Delete(cfg);
    cJSON_Delete(map);
    free(vocab_path);
    free(added_path);
    free(cfg_path);
    free(map_path);
    return st;
}
