/*
 * json_field.c — the one place where tokenizer files' scalar fields are read and checked.
 *
 * Every loader of engine/tokenizer/ reads booleans, one-character strings and integers through
 * these helpers, so a value of the wrong type, a fraction where an integer belongs or a number
 * out of range is an SLM_ERR_FORMAT naming the file and the JSON path, never a silent default
 * or a cast of an out-of-range double (undefined behaviour in C). An optional field may be
 * absent or null; present, it must be right.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* "where.key", or "key" for a top-level field (where NULL or ""). */
static const char *field_name(const char *where, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", where ? where : "", where && *where ? "." : "", key);
    return buf;
}

slm_status slm_tok_json_char(const cJSON *json, const char *key, const char *path,
                             const char *where, char out[5], size_t *len, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    char name[512];
    if (n == 0 || n > 4 || slm_tok_utf8_char_len(v->valuestring, n) != n)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must be a single character", path,
                        field_name(where, key, name, sizeof name));
    memcpy(out, v->valuestring, n + 1);
    *len = n;
    return SLM_OK;
}

slm_status slm_tok_json_bool(const cJSON *json, const char *key, bool dflt, const char *path,
                             const char *where, bool *out, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    *out = dflt;
    if (!v || cJSON_IsNull(v))
        return SLM_OK;
    char name[512];
    if (!cJSON_IsBool(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must be true or false", path,
                        field_name(where, key, name, sizeof name));
    *out = cJSON_IsTrue(v);
    return SLM_OK;
}

/* What a rejected value was, for the message. */
static void describe(const cJSON *v, char *out, size_t size)
{
    if (!v)
        snprintf(out, size, "missing");
    else if (cJSON_IsNumber(v))
        snprintf(out, size, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(out, size, "a string");
    else if (cJSON_IsBool(v))
        snprintf(out, size, "a boolean");
    else if (cJSON_IsNull(v))
        snprintf(out, size, "null");
    else
        snprintf(out, size, cJSON_IsArray(v) ? "a list" : "an object");
}

slm_status slm_tok_json_int_value(const cJSON *v, int64_t lo, int64_t hi, const char *path,
                                  const char *what, int64_t *out, slm_error *err)
{
    /* The comparisons are in double: exact, since |lo| and |hi| stay below 2^53. NaN and
     * infinities fail them too (cJSON turns an overflowing literal into inf). */
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi) || d != floor(d)) {
        char got[64];
        describe(v, got, sizeof got);
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must be an integer in [%lld, %lld], not %s",
                        path, what, (long long)lo, (long long)hi, got);
    }
    *out = (int64_t)d;
    return SLM_OK;
}

slm_status slm_tok_json_int(const cJSON *json, const char *key, int64_t lo, int64_t hi,
                            int64_t dflt, const char *path, const char *where, int64_t *out,
                            slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    *out = dflt;
    if (!v || cJSON_IsNull(v))
        return SLM_OK;
    char name[512];
    return slm_tok_json_int_value(v, lo, hi, path, field_name(where, key, name, sizeof name), out,
                                  err);
}

slm_status slm_tok_json_id(const cJSON *v, const char *path, const char *what, int32_t *out,
                           slm_error *err)
{
    int64_t x = 0;
    SLM_TRY(slm_tok_json_int_value(v, 0, SLM_TOK_MAX_ID, path, what, &x, err));
    *out = (int32_t)x;
    return SLM_OK;
}
