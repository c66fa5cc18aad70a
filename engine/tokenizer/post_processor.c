/*
 * post_processor.c — what add_special_tokens puts around an encoded text, from tokenizer.json's
 * "post_processor" (single-sequence case only; pairs are not part of the API):
 *   TemplateProcessing   the "single" template: the special tokens before and after $A
 *   BertProcessing / RobertaProcessing   [cls] ... [sep]
 *   ByteLevel            nothing (it only adjusts offsets)
 *   Sequence             each processor wraps the result of the previous one
 * tokenizer.c may then replace either side from tokenizer_config.json (add_bos_token /
 * add_eos_token), as transformers does for Llama-family tokenizers.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

static bool append_ids(int32_t **v, size_t *n, const int32_t *ids, size_t k, bool front)
{
    if (k == 0)
        return true;
    int32_t *p = realloc(*v, (*n + k + 1) * sizeof *p);
    if (!p)
        return false;
    if (front) {
        memmove(p + k, p, *n * sizeof *p);
        memcpy(p, ids, k * sizeof *p);
    } else {
        memcpy(p + *n, ids, k * sizeof *p);
    }
    *v = p;
    *n += k;
    return true;
}

/* The ids a template's SpecialToken entry stands for (special_tokens[name].ids). */
static slm_status special_ids(const cJSON *json, const char *name, const char *path,
                              int32_t *ids, size_t *n, size_t cap, slm_error *err)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(json, "special_tokens");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(map, name), "ids");
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: post_processor: special token '%s' has no ids in special_tokens",
                        path, name);
    *n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || *n == cap)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: bad ids for '%s'", path,
                            name);
        ids[(*n)++] = (int32_t)e->valuedouble;
    }
    return SLM_OK;
}

static slm_status load_template(slm_postproc *pp, const cJSON *json, const char *path,
                                slm_error *err)
{
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(json, "single");
    if (!cJSON_IsArray(single))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: post_processor: TemplateProcessing.single must be a list", path);
    bool after = false;
    const cJSON *piece;
    cJSON_ArrayForEach(piece, single)
    {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(piece, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(piece, "SpecialToken"), "id");
        if (seq) {
            after = true;
            continue;
        }
        if (!cJSON_IsString(sp))
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: post_processor: template entries must be Sequence or "
                            "SpecialToken", path);
        int32_t ids[64];
        size_t n;
        SLM_TRY(special_ids(json, sp->valuestring, path, ids, &n, 64, err));
        bool ok = after ? append_ids(&pp->suffix, &pp->n_suffix, ids, n, false)
                        : append_ids(&pp->prefix, &pp->n_prefix, ids, n, false);
        if (!ok)
            return slm_fail_nomem(err, "post_processor");
    }
    return SLM_OK;
}

/* BertProcessing / RobertaProcessing: "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]. */
static slm_status load_cls_sep(slm_postproc *pp, const cJSON *json, const char *path,
                               slm_error *err)
{
    const cJSON *cls = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(json, "cls"), 1);
    const cJSON *sep = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(json, "sep"), 1);
    if (!cJSON_IsNumber(cls) || !cJSON_IsNumber(sep))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: cls / sep must be [token, id]",
                        path);
    int32_t c = (int32_t)cls->valuedouble, s = (int32_t)sep->valuedouble;
    if (!append_ids(&pp->prefix, &pp->n_prefix, &c, 1, false) ||
        !append_ids(&pp->suffix, &pp->n_suffix, &s, 1, false))
        return slm_fail_nomem(err, "post_processor");
    return SLM_OK;
}

static slm_status load_one(slm_postproc *pp, const cJSON *json, const char *path,
                           slm_error *err);

/* Each processor of a Sequence wraps what the previous ones produced. */
static slm_status load_sequence(slm_postproc *pp, const cJSON *json, const char *path,
                                slm_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "processors");
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: post_processor: processors must be a list",
                        path);
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        slm_postproc inner = {0};
        slm_status st = load_one(&inner, e, path, err);
        if (st == SLM_OK &&
            (!append_ids(&pp->prefix, &pp->n_prefix, inner.prefix, inner.n_prefix, true) ||
             !append_ids(&pp->suffix, &pp->n_suffix, inner.suffix, inner.n_suffix, false)))
            st = slm_fail_nomem(err, "post_processor");
        slm_postproc_free(&inner);
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
        return load_cls_sep(pp, json, path, err);
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

bool slm_postproc_set_prefix(slm_postproc *pp, int32_t id)
{
    pp->n_prefix = 0;
    return id < 0 || append_ids(&pp->prefix, &pp->n_prefix, &id, 1, false);
}

bool slm_postproc_set_suffix(slm_postproc *pp, int32_t id)
{
    pp->n_suffix = 0;
    return id < 0 || append_ids(&pp->suffix, &pp->n_suffix, &id, 1, false);
}

void slm_postproc_free(slm_postproc *pp)
{
    free(pp->prefix);
    free(pp->suffix);
    memset(pp, 0, sizeof *pp);
}
