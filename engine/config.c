/* config.c — config.json / generation_config.json reading (see config.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "path_kind.h"
#include "rope.h"

/* Sane bounds per value: far above any published model, low enough that
   products of a few of them stay inside int64 and the tables sized by one
   of them stay allocatable. Beyond them a config is a mistake or an attack. */
#define MAX_HIDDEN (1 << 16)
#define MAX_INTERMEDIATE (1 << 20)
#define MAX_LAYERS (1 << 10)
#define MAX_HEADS (1 << 10)
#define MAX_HEAD_DIM (1 << 12)
#define MAX_VOCAB (1 << 24)
#define MAX_POSITIONS (1 << 24)
#define MAX_WINDOW (1 << 30)
#define MAX_ROPE_THETA 1e15
#define MAX_ROPE_FACTOR 1e6

/* ============================================================ typed readers */

/* One JSON object being read: its file and, for nested objects such as
   rope_scaling, the prefix that makes key names unambiguous in messages. */
typedef struct {
    const cJSON *obj;
    const char *path;
    const char *prefix; /* "" or e.g. "rope_scaling." */
    slm_error *err;
} reader;

/* The value of key, or NULL when absent or null (transformers writes null
   for unset optional keys). */
static const cJSON *field(const reader *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->obj, key);
    return cJSON_IsNull(v) ? NULL : v;
}

static slm_status wrong_type(const reader *r, const char *key, const char *what)
{
    return slm_fail(r->err, SLM_ERR_FORMAT, "%s: \"%s%s\" must be %s", r->path, r->prefix, key,
                    what);
}

/* The one place a JSON number becomes an int: an integer value in [lo, hi],
   checked as a double before any cast (a cast out of range is undefined). */
static slm_status int_value(const reader *r, const char *key, const cJSON *v, int64_t lo,
                            int64_t hi, int *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble))
        return wrong_type(r, key, "an integer");
    double d = v->valuedouble;
    if (d < (double)lo || d > (double)hi)
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: \"%s%s\" is %.15g, outside [%lld, %lld]",
                        r->path, r->prefix, key, d, (long long)lo, (long long)hi);
    *out = (int)d;
    return SLM_OK;
}

static slm_status req_int(const reader *r, const char *key, int64_t lo, int64_t hi, int *out)
{
    const cJSON *v = field(r, key);
    if (!v)
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: missing required key \"%s%s\"", r->path,
                        r->prefix, key);
    return int_value(r, key, v, lo, hi, out);
}

static slm_status opt_int(const reader *r, const char *key, int64_t lo, int64_t hi, int dflt,
                          int *out)
{
    const cJSON *v = field(r, key);
    if (!v) {
        *out = dflt;
        return SLM_OK;
    }
    return int_value(r, key, v, lo, hi, out);
}

/* An optional finite number in [lo, hi]. */
static slm_status opt_num(const reader *r, const char *key, double lo, double hi, double dflt,
                          double *out)
{
    const cJSON *v = field(r, key);
    if (!v) {
        *out = dflt;
        return SLM_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return wrong_type(r, key, "a number");
    if (v->valuedouble < lo || v->valuedouble > hi)
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: \"%s%s\" is %g, outside [%g, %g]", r->path,
                        r->prefix, key, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return SLM_OK;
}

/* opt_num into a float field. */
static slm_status opt_float(const reader *r, const char *key, double lo, double hi, double dflt,
                            float *out)
{
    double d;
    SLM_TRY(opt_num(r, key, lo, hi, dflt, &d));
    *out = (float)d;
    return SLM_OK;
}

static slm_status opt_bool(const reader *r, const char *key, bool dflt, bool *out)
{
    const cJSON *v = field(r, key);
    if (v && !cJSON_IsBool(v))
        return wrong_type(r, key, "true or false");
    *out = v ? cJSON_IsTrue(v) : dflt;
    return SLM_OK;
}

/* An optional string copied into buf; one that does not fit is refused
   rather than cut (a cut name could match another one). */
static slm_status opt_str(const reader *r, const char *key, const char *dflt, char *buf,
                          size_t cap)
{
    const cJSON *v = field(r, key);
    if (v && !cJSON_IsString(v))
        return wrong_type(r, key, "a string");
    const char *s = v ? v->valuestring : dflt;
    if (strlen(s) >= cap)
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: \"%s%s\" is longer than %zu bytes", r->path,
                        r->prefix, key, cap - 1);
    memcpy(buf, s, strlen(s) + 1);
    return SLM_OK;
}

slm_status slm_json_get_int(const cJSON *obj, const char *key, const char *path, int64_t lo,
                            int64_t hi, int *out, slm_error *err)
{
    reader r = {obj, path, "", err};
    return req_int(&r, key, lo, hi, out);
}

slm_status slm_json_opt_int(const cJSON *obj, const char *key, const char *path, int64_t lo,
                            int64_t hi, int dflt, int *out, slm_error *err)
{
    reader r = {obj, path, "", err};
    return opt_int(&r, key, lo, hi, dflt, out);
}

/* ============================================================ eos ids */

/* eos_token_id may be a number or a list of numbers; the ids are checked
   against the vocabulary by slm_config_check. */
static slm_status read_eos(const reader *r, slm_config *cfg)
{
    const cJSON *v = field(r, "eos_token_id");
    if (!v)
        return SLM_OK;
    cfg->n_eos = 0;
    if (cJSON_IsNumber(v))
        return int_value(r, "eos_token_id", v, 0, INT32_MAX, &cfg->eos_ids[cfg->n_eos++]);
    if (!cJSON_IsArray(v))
        return wrong_type(r, "eos_token_id", "an integer or a list of integers");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (cfg->n_eos == SLM_MAX_EOS)
            return slm_fail(r->err, SLM_ERR_UNSUPPORTED, "%s: more than %d eos_token_id values",
                            r->path, SLM_MAX_EOS);
        SLM_TRY(int_value(r, "eos_token_id", e, 0, INT32_MAX, &cfg->eos_ids[cfg->n_eos++]));
    }
    return SLM_OK;
}

/* ============================================================ config.json */

static slm_status read_architecture(const reader *r, slm_config *cfg)
{
    SLM_TRY(opt_str(r, "model_type", "", cfg->model_type, sizeof cfg->model_type));
    const cJSON *archs = field(r, "architectures");
    if (archs && (!cJSON_IsArray(archs) || !cJSON_IsString(cJSON_GetArrayItem(archs, 0))))
        return wrong_type(r, "architectures", "a list of class names");
    if (archs) {
        const char *name = cJSON_GetArrayItem(archs, 0)->valuestring;
        if (strlen(name) >= sizeof cfg->architecture)
            return slm_fail(r->err, SLM_ERR_FORMAT, "%s: \"architectures\" name is too long",
                            r->path);
        memcpy(cfg->architecture, name, strlen(name) + 1);
    } else if (!cfg->model_type[0]) {
        return slm_fail(r->err, SLM_ERR_FORMAT,
                        "%s: neither \"architectures\" nor \"model_type\" is given", r->path);
    }
    return SLM_OK;
}

/* Some model types spell the common sizes their own way (transformers'
   attribute_map); each entry maps a standard key to the model's key. */
static const struct {
    const char *model_type, *standard, *own;
} key_aliases[] = {
    {"distilbert", "hidden_size", "dim"},
    {"distilbert", "intermediate_size", "hidden_dim"},
    {"distilbert", "num_hidden_layers", "n_layers"},
    {"distilbert", "num_attention_heads", "n_heads"},
};

static const char *key_for(const slm_config *cfg, const char *standard)
{
    for (size_t i = 0; i < sizeof key_aliases / sizeof key_aliases[0]; i++)
        if (strcmp(cfg->model_type, key_aliases[i].model_type) == 0 &&
            strcmp(standard, key_aliases[i].standard) == 0)
            return key_aliases[i].own;
    return standard;
}

/* BERT-style encoders: head size is always hidden / heads (no head_dim key,
   no grouped-query attention), LayerNorm rather than RMSNorm, no RoPE. */
static bool is_encoder(const slm_config *cfg)
{
    return strstr(cfg->model_type, "bert") != NULL || strstr(cfg->architecture, "Bert") != NULL;
}

static slm_status read_sizes(const reader *r, slm_config *cfg)
{
    SLM_TRY(req_int(r, key_for(cfg, "hidden_size"), 1, MAX_HIDDEN, &cfg->hidden_size));
    SLM_TRY(req_int(r, key_for(cfg, "intermediate_size"), 1, MAX_INTERMEDIATE,
                    &cfg->intermediate_size));
    SLM_TRY(req_int(r, key_for(cfg, "num_hidden_layers"), 1, MAX_LAYERS, &cfg->n_layers));
    SLM_TRY(req_int(r, key_for(cfg, "num_attention_heads"), 1, MAX_HEADS, &cfg->n_heads));
    SLM_TRY(req_int(r, "vocab_size", 1, MAX_VOCAB, &cfg->vocab_size));
    SLM_TRY(opt_int(r, "max_position_embeddings", 1, MAX_POSITIONS, 2048, &cfg->max_positions));
    if (is_encoder(cfg)) {
        /* DistilBERT's attention splits dim into n_heads equal parts; the
           divisibility is checked by slm_config_check */
        cfg->n_kv_heads = cfg->n_heads;
        cfg->head_dim = cfg->hidden_size / cfg->n_heads;
        return SLM_OK;
    }
    SLM_TRY(opt_int(r, "num_key_value_heads", 1, MAX_HEADS, cfg->n_heads, &cfg->n_kv_heads));
    return opt_int(r, "head_dim", 1, MAX_HEAD_DIM, cfg->hidden_size / cfg->n_heads,
                   &cfg->head_dim);
}

/* A list of positive numbers into out[]; *n 0 = accept any length, else
   the list must have *n entries. */
static slm_status read_factors(const reader *r, const char *key, float *out, int *n)
{
    const cJSON *arr = field(r, key);
    if (!cJSON_IsArray(arr))
        return wrong_type(r, key, "a list of numbers");
    int len = cJSON_GetArraySize(arr);
    if (len > SLM_MAX_ROPE_FACTORS || (*n && len != *n))
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: %s%s has %d entries (expected %s%d)",
                        r->path, r->prefix, key, len, *n ? "" : "at most ",
                        *n ? *n : SLM_MAX_ROPE_FACTORS);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !(v->valuedouble > 0) ||
            v->valuedouble > MAX_ROPE_FACTOR)
            return slm_fail(r->err, SLM_ERR_FORMAT,
                            "%s: %s%s[%d] must be a number in (0, %g]", r->path, r->prefix, key,
                            i, MAX_ROPE_FACTOR);
        out[i++] = (float)v->valuedouble;
    }
    *n = len;
    return SLM_OK;
}

/* The keys inside rope_scaling / rope_parameters. */
static slm_status read_rope_object(const reader *rs, const reader *root, slm_config *cfg)
{
    slm_rope_config *rc = &cfg->rope;
    /* transformers accepts both spellings of the key */
    SLM_TRY(opt_str(rs, "rope_type", "", rc->type, sizeof rc->type));
    if (!rc->type[0])
        SLM_TRY(opt_str(rs, "type", "default", rc->type, sizeof rc->type));
    if (strcmp(rc->type, "su") == 0) /* the name Phi-3 128k first shipped with */
        snprintf(rc->type, sizeof rc->type, "longrope");
    SLM_TRY(opt_float(rs, "factor", 0, MAX_ROPE_FACTOR, 0, &rc->factor));
    SLM_TRY(opt_float(rs, "attention_factor", 0, MAX_ROPE_FACTOR, 0, &rc->attention_factor));
    /* Phi-3 keeps it at the top level, which wins (as in Phi3Config) */
    if (!field(root, "original_max_position_embeddings"))
        SLM_TRY(opt_int(rs, "original_max_position_embeddings", 1, MAX_POSITIONS,
                        rc->original_max_positions, &rc->original_max_positions));
    if (strcmp(rc->type, "longrope") == 0) {
        SLM_TRY(read_factors(rs, "short_factor", rc->short_factor, &rc->n_factors));
        SLM_TRY(read_factors(rs, "long_factor", rc->long_factor, &rc->n_factors));
    } else if (strcmp(rc->type, "linear") == 0 && !(rc->factor > 0)) {
        return slm_fail(rs->err, SLM_ERR_FORMAT,
                        "%s: rope_scaling type linear needs a factor > 0", rs->path);
    }
    return SLM_OK;
}

static slm_status read_rope(const reader *r, slm_config *cfg)
{
    slm_rope_config *rc = &cfg->rope;
    /* transformers 4 writes rope_scaling (and a top-level rope_theta);
       transformers 5 writes rope_parameters holding rope_theta too */
    const char *key = "rope_scaling";
    const cJSON *rs = field(r, key);
    if (!rs) {
        key = "rope_parameters";
        rs = field(r, key);
    }
    if (rs && !cJSON_IsObject(rs))
        return wrong_type(r, key, "an object or null");
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.", key);
    reader sub = {rs, r->path, prefix, r->err};
    double theta = 10000.0;
    if (rs)
        SLM_TRY(opt_num(&sub, "rope_theta", 1, MAX_ROPE_THETA, theta, &theta));
    SLM_TRY(opt_num(r, "rope_theta", 1, MAX_ROPE_THETA, theta, &theta));
    cfg->rope_theta = (float)theta;
    SLM_TRY(opt_float(r, "partial_rotary_factor", 0, 1, 1, &rc->partial_rotary_factor));
    SLM_TRY(opt_int(r, "original_max_position_embeddings", 1, MAX_POSITIONS, cfg->max_positions,
                    &rc->original_max_positions));
    return rs ? read_rope_object(&sub, r, cfg) : SLM_OK;
}

/* id2label {"0": "NEGATIVE", "1": "POSITIVE"}: ids must be 0..n-1. */
static slm_status read_labels(const reader *r, slm_config *cfg)
{
    const cJSON *map = field(r, "id2label");
    if (!map)
        return SLM_OK;
    int n = cJSON_IsObject(map) ? cJSON_GetArraySize(map) : -1;
    if (n < 0 || n > SLM_MAX_LABELS)
        return slm_fail(r->err, SLM_ERR_FORMAT,
                        "%s: \"id2label\" must be an object of at most %d labels", r->path,
                        SLM_MAX_LABELS);
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
        if (!cJSON_IsString(v))
            return slm_fail(r->err, SLM_ERR_FORMAT, "%s: id2label has no string for id %d",
                            r->path, i);
        snprintf(cfg->labels[i], sizeof cfg->labels[i], "%s", v->valuestring);
    }
    cfg->n_labels = n;
    return SLM_OK;
}

static slm_status read_config(const reader *r, slm_config *cfg)
{
    if (!cJSON_IsObject(r->obj))
        return slm_fail(r->err, SLM_ERR_FORMAT, "%s: not a JSON object", r->path);
    SLM_TRY(read_architecture(r, cfg));
    SLM_TRY(read_sizes(r, cfg));
    /* RMSNorm models say rms_norm_eps (default 1e-6), BERT-style ones
       layer_norm_eps; DistilBERT hard-codes 1e-12 in its modeling code */
    bool encoder = is_encoder(cfg);
    SLM_TRY(opt_float(r, encoder ? "layer_norm_eps" : "rms_norm_eps", 0, 1,
                      encoder ? 1e-12 : 1e-6, &cfg->norm_eps));
    SLM_TRY(opt_bool(r, "tie_word_embeddings", false, &cfg->tie_word_embeddings));
    /* DistilBERT calls it "activation" */
    SLM_TRY(opt_str(r, field(r, "activation") ? "activation" : "hidden_act",
                    encoder ? "gelu" : "silu", cfg->hidden_act, sizeof cfg->hidden_act));
    SLM_TRY(read_labels(r, cfg));
    SLM_TRY(read_rope(r, cfg));
    SLM_TRY(opt_int(r, "sliding_window", 0, MAX_WINDOW, 0, &cfg->sliding_window));
    SLM_TRY(opt_int(r, "bos_token_id", 0, INT32_MAX, -1, &cfg->bos_id));
    return read_eos(r, cfg);
}

/* ============================================================ cross-checks */

/* a * b into *out unless it leaves [0, limit]. */
static bool mul_within(int64_t a, int64_t b, int64_t limit, int64_t *out)
{
    if (a < 0 || b < 0 || (a != 0 && b > limit / a))
        return false;
    *out = a * b;
    return true;
}

/* Every matrix row count the architectures derive must fit the int the
   kernels index with: q (H*d), k and v (K*d), Phi-3's fused qkv and
   gate_up. */
static slm_status check_products(const slm_config *c, const char *path, slm_error *err)
{
    int64_t q_rows, kv_rows, ffn2;
    bool ok = mul_within(c->n_heads, c->head_dim, INT32_MAX, &q_rows) &&
              mul_within(c->n_kv_heads, c->head_dim, INT32_MAX, &kv_rows) &&
              mul_within(2, c->intermediate_size, INT32_MAX, &ffn2) &&
              q_rows + 2 * kv_rows <= INT32_MAX;
    if (!ok)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: num_attention_heads %d x head_dim %d (or the key/value and fused "
                        "projections) exceeds %d rows",
                        path, c->n_heads, c->head_dim, INT32_MAX);
    return SLM_OK;
}

static slm_status check_heads(const slm_config *c, const char *path, slm_error *err)
{
    if (is_encoder(c)) {
        if (c->hidden_size % c->n_heads != 0)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: %s %d is not a multiple of %s %d (each head takes an equal "
                            "part)",
                            path, key_for(c, "hidden_size"), c->hidden_size,
                            key_for(c, "num_attention_heads"), c->n_heads);
        return SLM_OK;
    }
    if (c->head_dim < 2 || c->head_dim % 2 != 0)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: head_dim %d (hidden_size / num_attention_heads when absent) must "
                        "be positive and even",
                        path, c->head_dim);
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                        path, c->n_heads, c->n_kv_heads);
    return SLM_OK;
}

/* bos and eos ids index the embedding and logits rows. */
static slm_status check_ids(const slm_config *c, const char *path, slm_error *err)
{
    if (c->bos_id >= c->vocab_size)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: bos_token_id %d is not below vocab_size %d",
                        path, c->bos_id, c->vocab_size);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] >= c->vocab_size)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: eos_token_id %d is not below vocab_size %d (of config.json)",
                            path, c->eos_ids[i], c->vocab_size);
    return SLM_OK;
}

/* Decoders rotate with RoPE: its parameters are valid when its tables build
   (one definition of validity, in rope.c). */
static slm_status check_rope(const slm_config *c, const char *path, slm_error *err)
{
    if (is_encoder(c))
        return SLM_OK;
    slm_rope rope;
    slm_status s = slm_rope_init(&rope, c, path, err);
    slm_rope_free(&rope);
    return s;
}

slm_status slm_config_check(const slm_config *cfg, const char *path, slm_error *err)
{
    SLM_TRY(check_heads(cfg, path, err));
    SLM_TRY(check_products(cfg, path, err));
    SLM_TRY(check_ids(cfg, path, err));
    return check_rope(cfg, path, err);
}

/* ============================================================ entry points */

/* config.json's parsed root into cfg, checked. */
static slm_status read_root(const cJSON *root, const char *path, slm_config *cfg,
                            slm_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bos_id = -1;
    reader r = {root, path, "", err};
    SLM_TRY(read_config(&r, cfg));
    return slm_config_check(cfg, path, err);
}

/* One optional sampling number: stored and its bit set when present. The
   ranges are the ones transformers accepts (temperature and
   repetition_penalty strictly positive there; 0 is read as off here). */
static slm_status sampling_num(const reader *r, const char *key, double lo, double hi,
                               unsigned bit, slm_config *cfg, float *out)
{
    if (!field(r, key))
        return SLM_OK;
    SLM_TRY(opt_float(r, key, lo, hi, 0, out));
    cfg->sampling_set |= bit;
    return SLM_OK;
}

/* The sampling settings a model's authors chose. do_sample false (given
   explicitly) means greedy whatever temperature says, as in transformers;
   an absent do_sample leaves the other fields as they are. */
static slm_status read_sampling(const reader *r, slm_config *cfg)
{
    slm_sampler_params *sp = &cfg->sampling;
    SLM_TRY(sampling_num(r, "temperature", 0, 100, SLM_SAMPLING_TEMPERATURE, cfg,
                         &sp->temperature));
    SLM_TRY(sampling_num(r, "top_p", 0, 1, SLM_SAMPLING_TOP_P, cfg, &sp->top_p));
    SLM_TRY(sampling_num(r, "repetition_penalty", 0.01, 100, SLM_SAMPLING_REPEAT_PENALTY, cfg,
                         &sp->repeat_penalty));
    if (field(r, "top_k")) {
        SLM_TRY(opt_int(r, "top_k", 0, 1 << 30, 0, &sp->top_k));
        cfg->sampling_set |= SLM_SAMPLING_TOP_K;
    }
    bool do_sample = true;
    SLM_TRY(opt_bool(r, "do_sample", true, &do_sample));
    if (!do_sample) {
        sp->temperature = 0;
        cfg->sampling_set |= SLM_SAMPLING_TEMPERATURE;
    }
    return SLM_OK;
}

/* generation_config.json: its eos_token_id replaces config.json's; its
   sampling settings are kept. */
static slm_status read_generation(const cJSON *gen, const char *path, slm_config *cfg,
                                  slm_error *err)
{
    if (!cJSON_IsObject(gen))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: not a JSON object", path);
    reader r = {gen, path, "", err};
    SLM_TRY(read_eos(&r, cfg));
    SLM_TRY(read_sampling(&r, cfg));
    return check_ids(cfg, path, err);
}

/* "dir/name" into buf (messages only). */
static const char *name_in(char *buf, size_t cap, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    snprintf(buf, cap, "%s%s%s", dir, n && dir[n - 1] != '/' ? "/" : "", name);
    return buf;
}

slm_status slm_config_parse(const char *config_text, size_t config_len, const char *gen_text,
                            size_t gen_len, const char *dir, slm_config *cfg, slm_error *err)
{
    char path[4096], gen_path[4096];
    name_in(path, sizeof path, dir, "config.json");
    name_in(gen_path, sizeof gen_path, dir, "generation_config.json");
    cJSON *json = NULL;
    memset(cfg, 0, sizeof *cfg);
    SLM_TRY(slm_json_parse(config_text, config_len, path, &json, err));
    slm_status s = read_root(json, path, cfg, err);
    cJSON_Delete(json);
    json = NULL;
    if (s == SLM_OK && gen_text)
        s = slm_json_parse(gen_text, gen_len, gen_path, &json, err);
    if (s == SLM_OK && json)
        s = read_generation(json, gen_path, cfg, err);
    cJSON_Delete(json);
    return s;
}

/* A model folder must be a directory: say what it is otherwise, rather
   than "cannot open dir/config.json: Not a directory". */
static slm_status check_dir(const char *dir, slm_error *err)
{
    const char *kind = slm_path_kind(dir);
    if (!kind)
        return slm_fail(err, SLM_ERR_IO, "%s: no such model folder", dir);
    if (strcmp(kind, "a directory") != 0)
        return slm_fail(err, SLM_ERR_IO,
                        "%s: is %s, not a model folder (a directory holding config.json and "
                        "model.safetensors)",
                        dir, kind);
    return SLM_OK;
}

/* Loads and reads one JSON file of the folder with `read`. */
static slm_status read_json_file(const char *path, slm_config *cfg, slm_error *err,
                                 slm_status (*read)(const cJSON *, const char *, slm_config *,
                                                    slm_error *))
{
    cJSON *json = NULL;
    SLM_TRY(slm_json_load(path, &json, err));
    slm_status s = read(json, path, cfg, err);
    cJSON_Delete(json);
    return s;
}

slm_status slm_config_load(const char *dir, slm_config *cfg, slm_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    SLM_TRY(check_dir(dir, err));
    char *path = slm_path_join(dir, "config.json");
    char *gen_path = slm_path_join(dir, "generation_config.json");
    slm_status s = path && gen_path ? read_json_file(path, cfg, err, read_root)
                                    : slm_fail_nomem(err, "path");
    /* a generation_config.json that exists but is no file is reported by
       the read, not silently skipped */
    if (s == SLM_OK && slm_path_kind(gen_path))
        s = read_json_file(gen_path, cfg, err, read_generation);
    free(path);
    free(gen_path);
    return s;
}
