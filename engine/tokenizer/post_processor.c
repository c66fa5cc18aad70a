/*
 * post_processor.c — what add_special_tokens puts around an encoded text or pair of texts, from
 * tokenizer.json's "post_processor":
 *   TemplateProcessing   the "single" template (specials around $A) and the "pair" template
 *                        (specials around and between $A and $B); type ids are not kept
 *   BertProcessing       [cls] A [sep]          pair: [cls] A [sep] B [sep]
 *   RobertaProcessing    <s> A </s>             pair: <s> A </s> </s> B </s>
 *   ByteLevel            nothing (it only adjusts offsets); pair: A B
 *   Sequence             each processor wraps the result of the previous one (for pairs, at
 *                        most one of them may add tokens)
 * No post_processor adds nothing. tokenizer.c may then rebuild both templates from
 * tokenizer_config.json (add_bos_token / add_eos_token), as transformers does for
 * Llama-family tokenizers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

static bool append_ids(slm_id_list *l, const int32_t *ids, size_t k, bool front)
{
    if (k == 0)
        return true;
    int32_t *p = l->ids;
    if (l->n + k > l->cap) { /* doubling: a template may list thousands of ids */
        size_t cap = l->cap ? 2 * l->cap : 4;
        while (cap < l->n + k)
            cap *= 2;
        if (!(p = realloc(l->ids, cap * sizeof *p)))
            return false;
        l->cap = cap;
    }
    if (front) {
        memmove(p + k, p, l->n * sizeof *p);
        memcpy(p, ids, k * sizeof *p);
    } else {
        memcpy(p + l->n, ids, k * sizeof *p);
    }
    l->ids = p;
    l->n += k;
    return true;
}

static bool append_list(slm_id_list *l, const slm_id_list *x, bool front)
{
    return append_ids(l, x->ids, x->n, front);
}

static void free_list(slm_id_list *l)
{
    free(l->ids);
    l->ids = NULL;
    l->n = l->cap = 0;
}

/* The ids a template's SpecialToken entry stands for (special_tokens[name].ids). */
static slm_status special_ids(const cJSON *json, const char *name, const char *path,
                              slm_id_list *to, slm_error *err)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(json, "special_tokens");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(map, name), "ids");
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: post_processor: special token '%s' has no ids in special_tokens",
                        path, name);
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, list)
    {
        char what[300];
        snprintf(what, sizeof what, "post_processor.special_tokens['%.200s'].ids[%zu]", name, i++);
        int32_t id;
        SLM_TRY(slm_tok_json_id(e, path, what, &id, err));
        if (!append_ids(to, &id, 1, false))
            return slm_fail_nomem(err, "post_processor");
    }
    return SLM_OK;
}

/* Reads one template: the specials before, between and after its sequences go to parts[0..2];
 * *n_seq receives how many sequences ($A, $B) it has, and *b_first whether $B comes first. */
static slm_status read_template(const cJSON *json, const char *key, const char *path,
                                slm_id_list parts[3], int *n_seq, bool *b_first, slm_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, key);
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: TemplateProcessing.%s must be "
                                             "a list", path, key);
    *n_seq = 0;
    *b_first = false;
    size_t i = 0;
    const cJSON *piece;
    cJSON_ArrayForEach(piece, list)
    {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(piece, "Sequence");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(piece, "SpecialToken");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(special, "id");
        char where[300];
        snprintf(where, sizeof where, "post_processor.%s[%zu].%s", key, i++,
                 seq ? "Sequence" : "SpecialToken");
        int64_t type_id; /* not kept, but Hugging Face requires a u32 */
        SLM_TRY(slm_tok_json_int(seq ? seq : special, "type_id", 0, UINT32_MAX, 0, path, where,
                                 &type_id, err));
        if (seq) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(seq, "id");
            if (!cJSON_IsString(id) ||
                (strcmp(id->valuestring, "A") != 0 && strcmp(id->valuestring, "B") != 0))
                return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: TemplateProcessing.%s: "
                                "a Sequence's id must be \"A\" or \"B\"", path, key);
            if (*n_seq == 0 && strcmp(id->valuestring, "B") == 0)
                *b_first = true;
            (*n_seq)++;
            continue;
        }
        if (!cJSON_IsString(sp))
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: post_processor: template entries must be Sequence or "
                            "SpecialToken", path);
        SLM_TRY(special_ids(json, sp->valuestring, path, &parts[*n_seq < 2 ? *n_seq : 2], err));
    }
    return SLM_OK;
}

static slm_status load_template(slm_postproc *pp, const cJSON *json, const char *path,
                                slm_error *err)
{
    slm_id_list single[3] = {{0}};
    int n_seq;
    bool b_first;
    slm_status st = read_template(json, "single", path, single, &n_seq, &b_first, err);
    pp->prefix = single[0];
    pp->suffix = single[1];
    free_list(&single[2]);
    SLM_TRY(st);
    if (n_seq != 1)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: TemplateProcessing.single must "
                                             "hold exactly one sequence", path);
    if (!cJSON_GetObjectItemCaseSensitive(json, "pair")) {
        pp->pair_problem = "TemplateProcessing has no pair template";
        return SLM_OK;
    }
    slm_id_list pair[3] = {{0}};
    st = read_template(json, "pair", path, pair, &n_seq, &b_first, err);
    pp->pair_prefix = pair[0];
    pp->pair_middle = pair[1];
    pp->pair_suffix = pair[2];
    SLM_TRY(st);
    if (n_seq != 2 || b_first)
        pp->pair_problem = "the pair template is not $A ... $B";
    return SLM_OK;
}

/* "cls": ["[CLS]", 101]: the id of a [token, id] pair. */
static slm_status token_id_pair(const cJSON *json, const char *key, const char *path,
                                int32_t *id, slm_error *err)
{
    const cJSON *pair = cJSON_GetObjectItemCaseSensitive(json, key);
    if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
        !cJSON_IsString(cJSON_GetArrayItem(pair, 0)))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor.%s must be [token, id]", path,
                        key);
    char what[64];
    snprintf(what, sizeof what, "post_processor.%s[1]", key);
    return slm_tok_json_id(cJSON_GetArrayItem(pair, 1), path, what, id, err);
}

/* BertProcessing / RobertaProcessing: "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]. */
static slm_status load_cls_sep(slm_postproc *pp, const cJSON *json, bool roberta,
                               const char *path, slm_error *err)
{
    int32_t c, s;
    SLM_TRY(token_id_pair(json, "cls", path, &c, err));
    SLM_TRY(token_id_pair(json, "sep", path, &s, err));
    int32_t mid[2] = {s, s};
    if (!append_ids(&pp->prefix, &c, 1, false) || !append_ids(&pp->suffix, &s, 1, false) ||
        !append_ids(&pp->pair_prefix, &c, 1, false) ||
        !append_ids(&pp->pair_middle, mid, roberta ? 2 : 1, false) ||
        !append_ids(&pp->pair_suffix, &s, 1, false))
        return slm_fail_nomem(err, "post_processor");
    return SLM_OK;
}

static slm_status load_one(slm_postproc *pp, const cJSON *json, const char *path,
                           slm_error *err);

static bool adds_pair_tokens(const slm_postproc *pp)
{
    return pp->pair_prefix.n || pp->pair_middle.n || pp->pair_suffix.n;
}

/* Each processor of a Sequence wraps what the previous ones produced. */
static slm_status load_sequence(slm_postproc *pp, const cJSON *json, const char *path,
                                slm_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "processors");
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: processors must be a list",
                        path);
    if (cJSON_GetArraySize(list) > SLM_TOK_MAX_STEPS)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: post_processor: more than %d processors",
                        path, SLM_TOK_MAX_STEPS);
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        slm_postproc in = {0};
        slm_status st = load_one(&in, e, path, err);
        if (st == SLM_OK && adds_pair_tokens(pp) && adds_pair_tokens(&in))
            pp->pair_problem = "several processors of the Sequence add tokens to pairs";
        if (in.pair_problem)
            pp->pair_problem = in.pair_problem;
        if (st == SLM_OK &&
            (!append_list(&pp->prefix, &in.prefix, true) ||
             !append_list(&pp->suffix, &in.suffix, false) ||
             !append_list(&pp->pair_prefix, &in.pair_prefix, true) ||
             !append_list(&pp->pair_middle, &in.pair_middle, false) ||
             !append_list(&pp->pair_suffix, &in.pair_suffix, false)))
            st = slm_fail_nomem(err, "post_processor");
        slm_postproc_free(&in);
        SLM_TRY(st);
    }
    return SLM_OK;
}

static slm_status load_one(slm_postproc *pp, const cJSON *json, const char *path,
                           slm_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    if (!cJSON_IsString(type))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor has no \"type\"", path);
    const char *t = type->valuestring;
    if (strcmp(t, "TemplateProcessing") == 0)
        return load_template(pp, json, path, err);
    if (strcmp(t, "BertProcessing") == 0 || strcmp(t, "RobertaProcessing") == 0)
        return load_cls_sep(pp, json, t[0] == 'R', path, err);
    if (strcmp(t, "ByteLevel") == 0)
        return SLM_OK;
    if (strcmp(t, "Sequence") == 0)
        return load_sequence(pp, json, path, err);
    return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: post_processor type '%s' is not supported",
                    path, t);
}

slm_status slm_postproc_load(slm_postproc *pp, const cJSON *json, const char *path,
                             slm_error *err)
{
    memset(pp, 0, sizeof *pp);
    if (!json || cJSON_IsNull(json))
        return SLM_OK;
    slm_status st = load_one(pp, json, path, err);
    if (st != SLM_OK)
        slm_postproc_free(pp);
    return st;
}

/* Sets a list to just `id`, or to nothing when id < 0. */
static bool set_one(slm_id_list *l, int32_t id)
{
    l->n = 0;
    return id < 0 || append_ids(l, &id, 1, false);
}

bool slm_postproc_override(slm_postproc *pp, int bos, int32_t bos_id, int eos, int32_t eos_id)
{
    if (bos < 0 && eos < 0)
        return true;
    if ((bos >= 0 && !set_one(&pp->prefix, bos ? bos_id : -1)) ||
        (eos >= 0 && !set_one(&pp->suffix, eos ? eos_id : -1)))
        return false;
    /* transformers' update_post_processor: pair = single, then bos? $B eos? */
    free_list(&pp->pair_prefix);
    free_list(&pp->pair_middle);
    free_list(&pp->pair_suffix);
    pp->pair_problem = NULL;
    return append_list(&pp->pair_prefix, &pp->prefix, false) &&
           append_list(&pp->pair_middle, &pp->suffix, false) &&
           append_list(&pp->pair_middle, &pp->prefix, false) &&
           append_list(&pp->pair_suffix, &pp->suffix, false);
}

void slm_postproc_free(slm_postproc *pp)
{
    free_list(&pp->prefix);
    free_list(&pp->suffix);
    free_list(&pp->pair_prefix);
    free_list(&pp->pair_middle);
    free_list(&pp->pair_suffix);
    memset(pp, 0, sizeof *pp);
}
