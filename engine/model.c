/*
 * model.c — loading a Hugging Face model folder: config.json picks the
 * architecture, the architecture maps the safetensors tensors, and the
 * tokenizer comes from the same folder.
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "error.h"
#include "fileio.h"
#include "kernels.h"
#include "quantize.h"
#include "weight_alloc.h"
#include "tokenizer/tokenizer_internal.h"

static const slm_arch *const arch_table[] = {&slm_arch_llama, &slm_arch_phi3,
                                              &slm_arch_distilbert};
#define N_ARCH (sizeof arch_table / sizeof arch_table[0])

slm_load_options slm_load_options_default(void)
{
    /* Read-in weights by default: on a VM, decode over mmapped weights ran
       ~2x slower and erratically, read-in weights stream at memory speed. */
    return (slm_load_options){.use_mmap = false, .weights = SLM_WEIGHTS_AUTO, .kv = SLM_KV_F32};
}

/* Physical cores: logical CPUs / SMT siblings would be better, but the
   SMT width is not portable to query; logical count is a safe default. */
static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Generation also stops at the tokenizer's eos_token (e.g. a chat model's
   end-of-turn token), when configs do not list it already. */
static void add_stop_id(slm_config *cfg, int32_t id)
{
    if (id < 0 || cfg->n_eos == SLM_MAX_EOS)
        return;
    for (int i = 0; i < cfg->n_eos; i++)
        if (cfg->eos_ids[i] == id)
            return;
    cfg->eos_ids[cfg->n_eos++] = id;
}

static slm_status pick_arch(const slm_config *cfg, const char *dir, const slm_arch **out,
                            slm_error *err)
{
    for (size_t i = 0; i < N_ARCH; i++) {
        if (cfg->architecture[0] ? strcmp(cfg->architecture, arch_table[i]->architecture) == 0
                                 : strcmp(cfg->model_type, arch_table[i]->model_type) == 0) {
            *out = arch_table[i];
            return SLM_OK;
        }
    }
    char list[256] = "";
    for (size_t i = 0; i < N_ARCH; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 arch_table[i]->architecture);
    return slm_fail(err, SLM_ERR_UNSUPPORTED,
                    "%s/config.json: architecture '%s' (model_type '%s') is not supported; "
                    "slm runs %s",
                    dir, cfg->architecture[0] ? cfg->architecture : "?", cfg->model_type, list);
}

slm_status slm_model_check_architecture(const char *dir, slm_error *err)
{
    char *path = slm_path_join(dir, "config.json");
    cJSON *json = NULL;
    /* a missing or unreadable file is slm_config_load's to report */
    if (!path || !slm_file_exists(path) || slm_json_load(path, &json, err) != SLM_OK) {
        free(path);
        memset(err, 0, sizeof *err);
        return SLM_OK;
    }
    free(path);
    slm_config names;
    memset(&names, 0, sizeof names);
    const cJSON *archs = cJSON_GetObjectItem(json, "architectures");
    const cJSON *type = cJSON_GetObjectItem(json, "model_type");
    const cJSON *first = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
    if (cJSON_IsString(first))
        snprintf(names.architecture, sizeof names.architecture, "%s", first->valuestring);
    if (cJSON_IsString(type))
        snprintf(names.model_type, sizeof names.model_type, "%s", type->valuestring);
    cJSON_Delete(json);
    const slm_arch *arch;
    /* neither name given (or of the wrong type): config.c says which */
    if (!names.architecture[0] && !names.model_type[0])
        return SLM_OK;
    return pick_arch(&names, dir, &arch, err);
}

/* The tokenizer, and the chat template from the same tokenizer_config.json
 * parse. A template that fails to load does not fail the model (plain
 * generation needs none): its error is kept for when chat is used. */
static slm_status load_tokenizer_and_template(slm_model *m, const char *dir, slm_error *err)
{
    cJSON *config = NULL;
    SLM_TRY(slm_tokenizer_load_keep_config(dir, &m->tok, &config, err));
    slm_status st = slm_chat_template_from_config(dir, config, &m->chat_template_absent,
                                                  &m->chat_template, &m->chat_template_err);
    cJSON_Delete(config);
    if (st == SLM_ERR_NOMEM) /* not a property of the folder: loading fails */
        return slm_fail(err, st, "%s", m->chat_template_err.msg);
    return SLM_OK;
}

slm_status slm_model_load(const char *dir, const slm_load_options *opts, slm_model **out,
                          slm_error *err)
{
    *out = NULL;
    slm_load_options o = opts ? *opts : slm_load_options_default();
    slm_model *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        free(m);
        return slm_fail_nomem(err, "model");
    }
    m->opts = o;
    m->n_threads = o.n_threads > 0 ? o.n_threads : default_threads();
    m->n_threads_batch = o.n_threads_batch > 0 ? o.n_threads_batch : m->n_threads;
    /* started now: creating threads takes milliseconds, which would
       otherwise be counted in the first prompt's time (and loading
       converts weights on it) */
    m->team = slm_team_new(m->n_threads > m->n_threads_batch ? m->n_threads : m->n_threads_batch);
    /* A mistyped SLM_ISA is refused rather than silently replaced by the
     * best table, so a benchmark never measures another ISA than it asked for. */
    slm_isa forced;
    if (slm_isa_from_env(&forced) < 0) {
        slm_status bad = slm_fail(err, SLM_ERR_INVALID_ARG,
                                  "SLM_ISA='%s' is not one of scalar, avx2, avx512, neon, amx",
                                  getenv("SLM_ISA"));
        slm_team_free(m->team);
        free(m->dir);
        free(m);
        return bad;
    }
    m->pack_x8 = slm_kernels_select()->prefers_x8;
    slm_blas_single_threaded(); /* process-wide, once: before any session exists */
    /* the architecture first: another model family's config (GPT-2's
       n_embd, ...) is "not supported", not "missing hidden_size" */
    slm_status s = slm_model_check_architecture(dir, err);
    if (s == SLM_OK)
        s = slm_config_load(dir, &m->cfg, err);
    if (s == SLM_OK)
        s = pick_arch(&m->cfg, dir, &m->arch, err);
    if (s == SLM_OK)
        s = load_tokenizer_and_template(m, dir, err);
    if (s == SLM_OK)
        add_stop_id(&m->cfg, slm_tokenizer_eos_id(m->tok));
    if (s == SLM_OK)
        s = slm_safetensors_open_dir(dir, o.use_mmap, &m->st, err);
    if (s == SLM_OK && m->arch->forward) { /* encoders have no RoPE */
        char where[4096];
        snprintf(where, sizeof where, "%s/config.json", dir);
        s = slm_rope_init(&m->rope, &m->cfg, where, err);
    }
    /* a decoder's float matrices go x16 where the kernels prefer it; an
       encoder hands its f32 matrices to sgemm as rows (distilbert.c) */
    m->pack_x16 = s == SLM_OK && m->arch->forward && slm_kernels_select()->prefers_x16;
    if (s == SLM_OK)
        s = m->arch->load(m, err);
    if (s == SLM_OK && o.progress) /* unused extra tensors count as done */
        o.progress(o.progress_user, slm_safetensors_count(m->st), slm_safetensors_count(m->st));
    if (s != SLM_OK) {
        slm_model_free(m);
        return s;
    }
    *out = m;
    return SLM_OK;
}

void slm_model_free(slm_model *m)
{
    if (!m)
        return;
    if (m->arch && m->weights)
        m->arch->free_weights(m->weights);
    slm_weight_arena_free(&m->owned);
    slm_rope_free(&m->rope);
    slm_safetensors_free(m->st);
    slm_tokenizer_free(m->tok);
    slm_chat_template_free(m->chat_template);
    slm_team_free(m->team);
    free(m->dir);
    free(m);
}

const slm_chat_template *slm_model_chat_template(const slm_model *m)
{
    return m->chat_template;
}

slm_status slm_model_chat_template_status(const slm_model *m, bool *missing, slm_error *err)
{
    if (missing)
        *missing = m->chat_template_absent;
    if (m->chat_template)
        return SLM_OK;
    return slm_fail(err, m->chat_template_err.status, "%s", m->chat_template_err.msg);
}

/* ============================================================ weights */

/* One more tensor is in place. */
static void tick(slm_model *m)
{
    if (m->opts.progress)
        m->opts.progress(m->opts.progress_user, ++m->n_loaded, slm_safetensors_count(m->st));
}

/* A buffer freed with the model (converted weights). */
static void *own_buffer(slm_model *m, size_t bytes)
{
    return slm_weight_arena_alloc(&m->owned, bytes);
}

static slm_status check_shape(const slm_tensor *t, const int64_t *shape, int n_dims,
                              slm_error *err)
{
    bool same = t->n_dims == n_dims;
    for (int i = 0; same && i < n_dims; i++)
        same = t->shape[i] == shape[i];
    if (same)
        return SLM_OK;
    char want[128], got[128];
    return slm_fail(err, SLM_ERR_FORMAT,
                    "%s: tensor '%s' has shape %s but config.json implies %s", t->file, t->name,
                    slm_shape_str(t->shape, t->n_dims, got, sizeof got),
                    slm_shape_str(shape, n_dims, want, sizeof want));
}

/* A quantized matrix some architecture reads as f32 (e.g. an embedding table
   it indexes directly): dequantized once at load. */
static slm_status dequantized_f32(slm_model *m, const slm_tensor *t, slm_weight_type type,
                                  int cols, const int64_t *shape, const float **out,
                                  slm_error *err)
{
    if (t->shape[0] != shape[0] || cols != shape[1])
        return slm_fail(err, SLM_ERR_FORMAT, "%s: quantized tensor '%s' has the wrong shape",
                        t->file, t->name);
    float *buf = own_buffer(m, (size_t)shape[0] * cols * sizeof(float));
    if (!buf)
        return slm_fail_nomem(err, t->name);
    size_t row = slm_weight_row_bytes(type, cols);
    for (int64_t r = 0; r < shape[0]; r++)
        slm_dequantize_row(type, (const uint8_t *)t->data + r * row, buf + r * cols, cols);
    *out = buf;
    return SLM_OK;
}

/* slm_model_weight_f32 without the missing-tensor error (*out = NULL then). */
static slm_status find_weight_f32(slm_model *m, const char *name, const int64_t *shape,
                                  int n_dims, const float **out, slm_error *err)
{
    *out = NULL;
    const slm_tensor *t = slm_safetensors_find(m->st, name);
    if (!t)
        return SLM_OK;
    tick(m);
    slm_weight_type qtype;
    int qcols;
    slm_status q = slm_quantized_info(m->st, t, &qtype, &qcols, err);
    if (q == SLM_OK && n_dims == 2)
        return dequantized_f32(m, t, qtype, qcols, shape, out, err);
    if (q != SLM_ERR_UNSUPPORTED && q != SLM_OK)
        return q;
    SLM_TRY(check_shape(t, shape, n_dims, err));
    if (t->dtype != SLM_DTYPE_F32 && t->dtype != SLM_DTYPE_F16 && t->dtype != SLM_DTYPE_BF16)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16",
                        t->file, name, slm_dtype_name(t->dtype));
    if (t->dtype == SLM_DTYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0) {
        *out = t->data; /* zero copy */
        return SLM_OK;
    }
    float *buf = own_buffer(m, t->n_elements * sizeof(float));
    if (!buf)
        return slm_fail_nomem(err, name);
    if (t->dtype == SLM_DTYPE_F32)
        memcpy(buf, t->data, t->n_bytes);
    else
        slm_convert_to_f32(buf, t->data, t->dtype, t->n_elements);
    *out = buf;
    return SLM_OK;
}

/* ------------------------------------------------------- typed matrices */

static slm_weight_type stored_type(slm_dtype d)
{
    return d == SLM_DTYPE_F16 ? SLM_WEIGHT_F16 : d == SLM_DTYPE_BF16 ? SLM_WEIGHT_BF16 : SLM_WEIGHT_F32;
}

static slm_weight_type target_type(const slm_model *m, const slm_tensor *t, int64_t cols)
{
    static const slm_weight_type from_option[] = {
        [SLM_WEIGHTS_F32] = SLM_WEIGHT_F32,   [SLM_WEIGHTS_F16] = SLM_WEIGHT_F16,
        [SLM_WEIGHTS_BF16] = SLM_WEIGHT_BF16, [SLM_WEIGHTS_Q8_0] = SLM_WEIGHT_Q8_0,
        [SLM_WEIGHTS_Q4_0] = SLM_WEIGHT_Q4_0,
    };
    if (m->opts.weights == SLM_WEIGHTS_AUTO)
        return stored_type(t->dtype);
    slm_weight_type w = from_option[m->opts.weights];
    /* blocks of 32 must tile a row; such odd matrices are tiny, keep them exact */
    if ((w == SLM_WEIGHT_Q8_0 || w == SLM_WEIGHT_Q4_0) && cols % SLM_QBLOCK != 0)
        return SLM_WEIGHT_F32;
    return w;
}


typedef struct {
    const slm_tensor *t;
    slm_weight_type type;
    uint8_t *dst;
    size_t row_bytes, src_row;
    int rows, cols, tasks;
    float **row; /* per worker */
    const slm_kernel_table *kernels; /* its quantizers: the same bytes as quant.c's */
} encode_job;

static void encode_task(void *ctx, int i, int worker)
{
    const encode_job *j = ctx;
    int r0, r1;
    slm_task_range(i, j->tasks, j->rows, 1, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        slm_convert_to_f32(j->row[worker], (const uint8_t *)j->t->data + (size_t)r * j->src_row,
                           j->t->dtype, (size_t)j->cols);
        slm_encode_row_with(j->kernels, j->type, j->row[worker],
                            j->dst + (size_t)r * j->row_bytes, j->cols);
    }
}

/* Converts every row through f32 into the target encoding, rows split
   across the team (quantizing a 1B model is worth it), one row buffer per
   worker. */
static slm_status encode_matrix(slm_model *m, const slm_tensor *t, slm_weight *w, slm_error *err)
{
    size_t row_bytes = slm_weight_row_bytes(w->type, w->cols);
    uint8_t *dst = own_buffer(m, row_bytes * (size_t)w->rows);
    if (!dst)
        return slm_fail_nomem(err, t->name);
    int nt = w->rows >= 256 ? m->n_threads : 1;
    if (nt > SLM_TEAM_MAX_THREADS)
        nt = SLM_TEAM_MAX_THREADS;
    float *rows[SLM_TEAM_MAX_THREADS] = {0};
    bool oom = false;
    for (int k = 0; k < nt; k++)
        oom |= !(rows[k] = malloc((size_t)w->cols * sizeof(float) + 1));
    encode_job j = {.t = t, .type = w->type, .dst = dst, .row_bytes = row_bytes,
                    .src_row = (size_t)w->cols * slm_dtype_size(t->dtype), .rows = w->rows,
                    .cols = w->cols, .tasks = slm_task_count(w->rows, 1, nt), .row = rows,
                    .kernels = slm_kernels_select()};
    if (!oom)
        slm_team_run(m->team, nt, j.tasks, encode_task, &j);
    for (int k = 0; k < nt; k++)
        free(rows[k]);
    if (oom)
        return slm_fail_nomem(err, t->name);
    w->data = dst;
    slm_safetensors_release(t); /* computed from dst from now on */
    return SLM_OK;
}

/* Quantized matrices of whole groups of 8 rows (x8), and a decoder's float
   matrices of whole groups of 16 (x16), are interleaved (pack.c) when the
   kernels run faster on that layout. In place when the bytes are ours
   (converted, or read in: each tensor is turned into a matrix once, so no
   one else reads the file's row layout afterwards); into a copy when they
   are the file's read-only mapping. */
static slm_status pack_matrix(slm_model *m, slm_weight *w, bool bytes_are_ours, const char *name,
                              slm_error *err)
{
    bool quant = w->type == SLM_WEIGHT_Q8_0 || w->type == SLM_WEIGHT_Q4_0;
    if (!(quant ? m->pack_x8 : m->pack_x16) || !slm_weight_packable(w))
        return SLM_OK;
    void *dst = bytes_are_ours ? (void *)w->data
                               : own_buffer(m, slm_weight_row_bytes(w->type, w->cols) * w->rows);
    if (!dst || slm_weight_pack(w, dst) != 0)
        return slm_fail_nomem(err, name);
    return SLM_OK;
}

/* An slm-quantized tensor: used as stored, or re-encoded when --weights asks
   for another format. *ours: whether out's bytes may be rewritten (packed). */
static slm_status quantized_matrix(slm_model *m, const slm_tensor *t, slm_weight_type stored,
                                   int stored_cols, int64_t rows, int64_t cols, slm_weight *out,
                                   bool *ours, slm_error *err)
{
    if (t->shape[0] != rows || stored_cols != cols)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: quantized tensor '%s' is [%lld, %d] but config.json implies "
                        "[%lld, %lld]",
                        t->file, t->name, (long long)t->shape[0], stored_cols, (long long)rows,
                        (long long)cols);
    *out = (slm_weight){.type = stored, .data = t->data, .rows = (int)rows, .cols = (int)cols};
    slm_weight_type want = m->opts.weights == SLM_WEIGHTS_AUTO
                               ? stored
                               : slm_weight_type_of_format(m->opts.weights);
    m->weight_bytes += slm_weight_row_bytes(want, out->cols) * (size_t)out->rows;
    *ours = !m->opts.use_mmap; /* read-in file bytes are ours, a mapping's are not */
    if (want == stored)
        return SLM_OK;
    size_t src_row = slm_weight_row_bytes(stored, out->cols);
    size_t dst_row = slm_weight_row_bytes(want, out->cols);
    uint8_t *dst = own_buffer(m, dst_row * (size_t)out->rows);
    float *tmp = malloc((size_t)out->cols * sizeof *tmp);
    if (!dst || !tmp) {
        free(tmp);
        return slm_fail_nomem(err, t->name);
    }
    for (int r = 0; r < out->rows; r++) {
        slm_dequantize_row(stored, (const uint8_t *)t->data + (size_t)r * src_row, tmp, out->cols);
        slm_encode_row(want, tmp, dst + (size_t)r * dst_row, out->cols);
    }
    free(tmp);
    slm_safetensors_release(t); /* computed from dst from now on */
    out->type = want;
    out->data = dst;
    *ours = true;
    return SLM_OK;
}

/* slm_model_matrix before packing; *ours: whether out's bytes may be
   rewritten in place. */
static slm_status load_matrix(slm_model *m, const char *name, int64_t rows, int64_t cols,
                              bool optional, slm_weight *out, bool *ours, slm_error *err)
{
    memset(out, 0, sizeof *out);
    *ours = false;
    const slm_tensor *t = slm_safetensors_find(m->st, name);
    if (!t)
        return optional ? SLM_OK
                        : slm_fail(err, SLM_ERR_FORMAT, "%s: missing tensor '%s'", m->dir, name);
    tick(m);
    slm_weight_type qtype;
    int qcols;
    slm_status q = slm_quantized_info(m->st, t, &qtype, &qcols, err);
    if (q == SLM_OK)
        return quantized_matrix(m, t, qtype, qcols, rows, cols, out, ours, err);
    if (q != SLM_ERR_UNSUPPORTED)
        return q;
    int64_t shape[2] = {rows, cols};
    SLM_TRY(check_shape(t, shape, 2, err));
    if (t->dtype != SLM_DTYPE_F32 && t->dtype != SLM_DTYPE_F16 && t->dtype != SLM_DTYPE_BF16)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16",
                        t->file, name, slm_dtype_name(t->dtype));
    out->rows = (int)rows;
    out->cols = (int)cols;
    out->type = target_type(m, t, cols);
    m->weight_bytes += slm_weight_row_bytes(out->type, out->cols) * (size_t)out->rows;
    size_t align = t->dtype == SLM_DTYPE_F32 ? 4 : 2;
    if (out->type == stored_type(t->dtype) && (uintptr_t)t->data % align == 0) {
        out->data = t->data; /* zero copy */
        *ours = !m->opts.use_mmap; /* read-in bytes may be packed in place, as quantized ones */
        return SLM_OK;
    }
    *ours = true;
    return encode_matrix(m, t, out, err);
}

slm_status slm_model_matrix(slm_model *m, const char *name, int64_t rows, int64_t cols,
                            bool optional, slm_weight *out, slm_error *err)
{
    bool ours;
    SLM_TRY(load_matrix(m, name, rows, cols, optional, out, &ours, err));
    return pack_matrix(m, out, ours, name, err);
}

slm_status slm_model_matrix_parts(slm_model *m, const char *name, const int64_t *part_rows,
                                  int n_parts, int64_t cols, slm_weight *parts, slm_error *err)
{
    int64_t rows = 0;
    for (int i = 0; i < n_parts; i++)
        rows += part_rows[i];
    slm_weight whole;
    bool ours;
    SLM_TRY(load_matrix(m, name, rows, cols, false, &whole, &ours, err));
    int first = 0;
    for (int i = 0; i < n_parts; i++) { /* split row-major, then each part packs on its own */
        parts[i] = slm_weight_rows(&whole, first, (int)part_rows[i]);
        SLM_TRY(pack_matrix(m, &parts[i], ours, name, err));
        first += (int)part_rows[i];
    }
    return SLM_OK;
}

slm_status slm_model_weight_f32(slm_model *m, const char *name, const int64_t *shape,
                                int n_dims, const float **out, slm_error *err)
{
    SLM_TRY(find_weight_f32(m, name, shape, n_dims, out, err));
    if (!*out)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: missing tensor '%s'", m->dir, name);
    return SLM_OK;
}

/* ============================================================ queries */

const slm_tokenizer *slm_model_tokenizer(const slm_model *m) { return m->tok; }
const char *slm_model_architecture(const slm_model *m) { return m->arch->architecture; }
int slm_model_vocab_size(const slm_model *m) { return m->cfg.vocab_size; }
int slm_model_max_positions(const slm_model *m) { return m->cfg.max_positions; }

size_t slm_model_weight_bytes(const slm_model *m) { return m->weight_bytes; }

unsigned slm_model_sampling_defaults(const slm_model *m, slm_sampler_params *sp)
{
    const slm_config *c = &m->cfg;
    const slm_sampler_params *g = &c->sampling;
    if (c->sampling_set & SLM_SAMPLING_TEMPERATURE)
        sp->temperature = g->temperature;
    if (c->sampling_set & SLM_SAMPLING_TOP_K)
        sp->top_k = g->top_k;
    if (c->sampling_set & SLM_SAMPLING_TOP_P)
        sp->top_p = g->top_p;
    if (c->sampling_set & SLM_SAMPLING_REPEAT_PENALTY)
        sp->repeat_penalty = g->repeat_penalty;
    return c->sampling_set;
}

bool slm_model_is_eos(const slm_model *m, int32_t id)
{
    for (int i = 0; i < m->cfg.n_eos; i++)
        if (m->cfg.eos_ids[i] == id)
            return true;
    return false;
}
