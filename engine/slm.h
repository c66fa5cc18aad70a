/*
 * slm.h — the public C API of slm, a small-language-model inference engine.
 *
 * Contract:
 *   - Every fallible call returns an slm_status and, when given a non-NULL
 *     slm_error, fills it with one human-readable line naming the file,
 *     tensor or field at fault. Nothing here prints or exits.
 *   - Every object returned through an `**out` parameter is owned by the
 *     caller and released with the matching *_free function (NULL is fine).
 *   - There is no global mutable state: separate models/sessions may be used
 *     from separate threads.
 *   - A model is read-only once slm_model_load returns: any number of
 *     sessions (and slm_classify calls) may share one model from different
 *     threads at once. What a request changes lives in its session (KV
 *     cache, scratch, thread counts), never in the model or the process.
 *     One session is used by one thread at a time.
 *   - A broken internal invariant (a bug in slm, never bad input) prints
 *     "slm: internal error at file:line" to stderr and aborts.
 */
#ifndef SLM_H
#define SLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum {
    SLM_OK = 0,
    SLM_ERR_IO,          /* a file could not be opened, read or mapped */
    SLM_ERR_FORMAT,      /* a file is malformed: bad JSON, lying header, wrong shape */
    SLM_ERR_UNSUPPORTED, /* well-formed but not something slm runs (architecture, dtype) */
    SLM_ERR_INVALID_ARG, /* the caller passed something out of range */
    SLM_ERR_NOMEM,       /* an allocation failed */
    SLM_ERR_RANGE,       /* input too long for the context / position limits */
} slm_status;

typedef struct {
    slm_status status;
    char msg[1024];
} slm_error;

const char *slm_status_name(slm_status status);

/* ------------------------------------------------------------ tokenizer */

typedef struct slm_tokenizer slm_tokenizer;

/* A growable list of token ids; free with slm_tokens_free. */
typedef struct {
    int32_t *ids;
    size_t n;
    size_t cap;
} slm_tokens;

void slm_tokens_free(slm_tokens *tokens);
slm_status slm_tokens_push(slm_tokens *tokens, int32_t id);

/* Loads tokenizer.json (+ tokenizer_config.json when present) from `dir`; a folder with no
 * tokenizer.json but a vocab.txt (+ tokenizer_config.json, special_tokens_map.json) gets the
 * WordPiece tokenizer transformers' BertTokenizer builds from those files. */
slm_status slm_tokenizer_load(const char *dir, slm_tokenizer **out, slm_error *err);
void slm_tokenizer_free(slm_tokenizer *tok);

/* Encodes UTF-8 `text` (len bytes) and appends the ids to `out`.
 * add_special mirrors Hugging Face's add_special_tokens (BOS, templates). */
slm_status slm_tokenize(const slm_tokenizer *tok, const char *text, size_t len,
                        bool add_special, slm_tokens *out, slm_error *err);

/* Decodes ids to a NUL-terminated UTF-8 string (malloc'd, caller frees).
 * Ids that decode to a NUL byte are SLM_ERR_INVALID_ARG naming its offset
 * (a C string would silently end there): use slm_detokenize_len for those. */
slm_status slm_detokenize(const slm_tokenizer *tok, const int32_t *ids, size_t n,
                          bool skip_special, char **text, slm_error *err);
/* The same with the text's length in *len, so decoded NUL bytes come back whole. */
slm_status slm_detokenize_len(const slm_tokenizer *tok, const int32_t *ids, size_t n,
                              bool skip_special, char **text, size_t *len, slm_error *err);

size_t slm_tokenizer_vocab_size(const slm_tokenizer *tok);
int32_t slm_tokenizer_bos_id(const slm_tokenizer *tok); /* -1 when none */
int32_t slm_tokenizer_eos_id(const slm_tokenizer *tok); /* -1 when none */
/* The id of a token spelled exactly `piece` (vocab or added token), or -1. */
int32_t slm_tokenizer_token_id(const slm_tokenizer *tok, const char *piece);
/* The token an id stands for, as spelled in the vocabulary or the added tokens ("▁Once",
 * "Ġworld", "##ing", "<s>": Hugging Face's convert_ids_to_tokens), *len its bytes; NULL when
 * the id names no token. Valid while tok lives; not NUL-terminated where *len says less. */
const char *slm_tokenizer_id_piece(const slm_tokenizer *tok, int32_t id, size_t *len);

/* slm_tokenize with truncation, as Hugging Face's truncation=True, max_length=max_len: the
 * text's own tokens are cut (from the end, or from the start when tokenizer_config.json says
 * truncation_side "left"), never the special tokens, so at most max_len ids are appended.
 * *truncated (may be NULL) tells whether anything was cut. SLM_ERR_INVALID_ARG when max_len
 * cannot even hold the special tokens (transformers then silently leaves the text whole). */
slm_status slm_tokenize_truncated(const slm_tokenizer *tok, const char *text, size_t len,
                                  bool add_special, size_t max_len, slm_tokens *out,
                                  bool *truncated, slm_error *err);
/* tokenizer_config.json's model_max_length; 0 when absent or transformers' "no limit". */
size_t slm_tokenizer_model_max_length(const slm_tokenizer *tok);

/* Streaming decoder: turns ids into text one at a time and never emits a
 * partial UTF-8 character (bytes are held back until complete). */
typedef struct slm_stream_decoder slm_stream_decoder;

slm_status slm_stream_decoder_new(const slm_tokenizer *tok, bool skip_special,
                                  slm_stream_decoder **out, slm_error *err);
void slm_stream_decoder_free(slm_stream_decoder *dec);
/* Feeds one id; `text` and `len` receive the newly printable bytes (may be 0),
 * valid until the next call on this decoder. */
slm_status slm_stream_decoder_push(slm_stream_decoder *dec, int32_t id,
                                   const char **text, size_t *len, slm_error *err);
/* Ends the stream: returns whatever is held back (invalid bytes as U+FFFD). */
slm_status slm_stream_decoder_finish(slm_stream_decoder *dec, const char **text,
                                     size_t *len, slm_error *err);

/* ---------------------------------------------------------------- model */

typedef struct slm_model slm_model;

/* How weights are held for compute. AUTO keeps what the file stores (F32,
 * F16 or BF16, or an slm-quantized folder's Q8_0/Q4_0); the others convert or
 * quantize at load time. */
typedef enum {
    SLM_WEIGHTS_AUTO,
    SLM_WEIGHTS_F32,
    SLM_WEIGHTS_F16,
    SLM_WEIGHTS_BF16,
    SLM_WEIGHTS_Q8_0,
    SLM_WEIGHTS_Q4_0,
} slm_weights_format;

/* Progress of a long operation (loading, converting, quantizing). */
typedef void (*slm_progress_fn)(void *user, size_t done, size_t total);

/* Element type of the KV cache (Q8: int8 with a scale per token and head). */
typedef enum { SLM_KV_F32, SLM_KV_F16, SLM_KV_Q8 } slm_kv_format;

typedef struct {
    bool use_mmap;              /* map tensor data instead of reading it into memory */
    int n_threads;              /* decode threads; 0 = number of cores */
    int n_threads_batch;        /* prompt-processing threads; 0 = n_threads */
    slm_weights_format weights; /* default AUTO */
    slm_kv_format kv;           /* default F32 */
    slm_progress_fn progress;   /* called per tensor loaded (NULL: silent) */
    void *progress_user;
} slm_load_options;

/* Parses "auto|f32|f16|bf16|q8_0|q4_0" / "f32|f16|q8"; false if unknown. */
bool slm_weights_format_parse(const char *name, slm_weights_format *out);
bool slm_kv_format_parse(const char *name, slm_kv_format *out);
const char *slm_weights_format_name(slm_weights_format f);
const char *slm_kv_format_name(slm_kv_format f);

slm_load_options slm_load_options_default(void);

/* Loads a Hugging Face model folder: config.json, model.safetensors (or a
 * sharded index), tokenizer.json, tokenizer_config.json, generation_config.json. */
slm_status slm_model_load(const char *dir, const slm_load_options *opts,
                          slm_model **out, slm_error *err);
void slm_model_free(slm_model *model);

const slm_tokenizer *slm_model_tokenizer(const slm_model *model);
const char *slm_model_architecture(const slm_model *model);
int slm_model_vocab_size(const slm_model *model);
int slm_model_max_positions(const slm_model *model);
/* True when `id` is one of the ids generation stops at
 * (generation_config.json / config.json eos_token_id). */
bool slm_model_is_eos(const slm_model *model, int32_t id);
/* Bytes of weights read per decoded token (all matrices and embeddings rows
 * actually touched), for bandwidth figures. */
size_t slm_model_weight_bytes(const slm_model *model);

/* ------------------------------------------------------- classification */

/* Number of labels of a sequence classifier (config.json id2label); 0 for
 * models that are not classifiers. */
int slm_model_n_labels(const slm_model *model);
const char *slm_model_label(const slm_model *model, int i);

/* Classifies n texts as one batch (each tokenized with its special tokens),
 * with the model's load-time n_threads_batch (the model is not changed, so
 * concurrent calls on one model are fine).
 * probs receives n x n_labels softmax probabilities, logits (when non-NULL)
 * the raw scores. Texts longer than the model's positions are truncated,
 * keeping the final special token, as Hugging Face's truncation=True does;
 * *n_truncated (when non-NULL) counts them. */
/* The most tokens slm_classify keeps of one text: the model's positions, or
 * the tokenizer's model_max_length when that is smaller. */
size_t slm_classify_max_tokens(const slm_model *model);

slm_status slm_classify(slm_model *model, const char *const *texts, size_t n, float *probs,
                        float *logits, size_t *n_truncated, slm_error *err);

/* The same on token ids: batch sequences of lengths[b] ids each, stored
 * back to back in ids. logits receives batch x n_labels. */
slm_status slm_classify_ids(slm_model *model, const int32_t *ids, const int *lengths, int batch,
                            float *logits, slm_error *err);

/* ------------------------------------------------------------ quantize */

/* Writes dst/ (created if needed) with src's weight matrices converted to
 * `format` (f32/f16/bf16 as standard safetensors dtypes; q8_0/q4_0 in slm's
 * documented convention, see engine/quantize.c) and its config and tokenizer
 * files copied; the folder then loads with no re-quantization. */
slm_status slm_quantize_folder(const char *src, const char *dst, slm_weights_format format,
                               slm_progress_fn progress, void *user, slm_error *err);

/* -------------------------------------------------------------- sampler */

typedef struct {
    float temperature;    /* 0 = greedy (argmax) */
    int top_k;            /* 0 = off */
    float top_p;          /* 1 = off */
    float min_p;          /* 0 = off */
    float repeat_penalty; /* 1 = off (as in llama.cpp / HF repetition_penalty) */
    int repeat_last_n;    /* how many recent tokens the penalty looks at; -1 = all */
    uint64_t seed;
} slm_sampler_params;

slm_sampler_params slm_sampler_params_default(void);

/* Fields of slm_sampler_params, as bits. */
enum {
    SLM_SAMPLING_TEMPERATURE = 1u << 0,
    SLM_SAMPLING_TOP_K = 1u << 1,
    SLM_SAMPLING_TOP_P = 1u << 2,
    SLM_SAMPLING_REPEAT_PENALTY = 1u << 3,
};

/* The sampling settings of the model folder's generation_config.json
 * (temperature, top_k, top_p, repetition_penalty; do_sample: false sets
 * temperature 0, greedy, as transformers' generate does), written into *sp
 * field by field; returns the SLM_SAMPLING_* bits of the fields written, 0
 * when the file gives none or is absent. A malformed value fails the load
 * (slm_model_load names the file and the field). */
unsigned slm_model_sampling_defaults(const slm_model *model, slm_sampler_params *sp);

/* ------------------------------------------------------ session / generate */

typedef struct slm_session slm_session;

/* A session owns a KV cache of n_ctx positions (0 = the model's maximum),
 * the scratch buffers of a forward pass and its thread counts, copied from
 * the model's load options (slm_load_options n_threads, n_threads_batch). */
slm_status slm_session_new(slm_model *model, int n_ctx, slm_session **out, slm_error *err);
/* Changes this session's thread counts (0 keeps the current value); other
 * sessions of the same model keep theirs. */
void slm_session_set_threads(slm_session *session, int n_threads, int n_threads_batch);
void slm_session_free(slm_session *session);
void slm_session_reset(slm_session *session);
/* Positions currently cached. */
int slm_session_n_past(const slm_session *session);
/* Forgets cached positions from n on (n <= n_past), e.g. to reuse the common
 * prefix of a re-rendered chat conversation. */
slm_status slm_session_truncate(slm_session *session, int n, slm_error *err);

/* Runs `ids` through the model after the positions already cached; returns
 * the logits of the last position (vocab_size floats owned by the session,
 * valid until the next call). */
slm_status slm_session_eval(slm_session *session, const int32_t *ids, size_t n,
                            const float **logits, slm_error *err);

/* Like slm_session_eval, but writes the logits of every one of the n
 * positions into logits[n][vocab] (caller-owned); n <= 256. */
slm_status slm_session_eval_all(slm_session *session, const int32_t *ids, size_t n,
                                float *logits, slm_error *err);

/* Resets the session and scores ids: *nll_sum = Σ -log p(ids[i+1] | ids[..i])
 * over the *n_scored = n - 1 predictions (perplexity = exp(nll_sum / n_scored)).
 * The ids must fit the session's context. */
slm_status slm_session_nll(slm_session *session, const int32_t *ids, size_t n, double *nll_sum,
                           size_t *n_scored, slm_error *err);

/* A token id and its probability. */
typedef struct {
    int32_t id;
    float p;
} slm_token_prob;

/* The k most probable tokens of softmax(logits[0..n)), most probable first
 * (ties to the lower id), written to top (room for min(k, n)); *n_top gets
 * min(k, n). The softmax is computed stably (exp(logit - max), summed in
 * double); NaN counts as -inf. O(n) expected: a partial selection, then the
 * k winners sorted. */
slm_status slm_top_probs(const float *logits, size_t n, size_t k, slm_token_prob *top,
                         size_t *n_top, slm_error *err);

/* One generated step's next-token distribution, for params.on_probs. */
typedef struct {
    int step;              /* 0 for the first generated token */
    slm_token_prob chosen; /* the id sampled at this step and its probability */
    const slm_token_prob *top; /* the n_top most probable, as slm_top_probs */
    size_t n_top;          /* min(params.n_probs, vocab size) */
} slm_step_probs;

/* Called at every sampled token with params.user; *probs is valid during
 * the call only. */
typedef void (*slm_probs_callback)(void *user, const slm_step_probs *probs);

/* Called once per generated token with its printable text (may be empty).
 * Return false to stop generation. With stop strings, text that could begin
 * one is held back and passed with a later token's call; what remains at the
 * end comes in a last call with id -1 (as does an unfinished UTF-8 tail). */
typedef bool (*slm_token_callback)(void *user, int32_t id, const char *text, size_t len);

typedef struct {
    int max_new_tokens;
    slm_sampler_params sampling;
    slm_token_callback on_token;
    void *user;
    /* The streamed text continues the prompt's text (the caller printed the
     * prompt): the streaming decoder sees the prompt ids first, so a word's
     * leading space after the prompt is kept. Off: the reply is decoded on its
     * own, like transformers' TextStreamer(skip_prompt=True). */
    bool continue_text;
    /* Stop strings (NULL/0 = none; each non-empty): generation stops as soon
     * as the streamed reply contains one of them, and the text from the
     * earliest occurrence on is never passed to on_token, also when it spans
     * several tokens. */
    const char *const *stop;
    size_t n_stop;
    /* The prompt is the session's whole sequence, not a continuation: the
     * longest prefix of it already in the KV cache (at most n_prompt - 1
     * ids, so the last one is always evaluated) is kept, everything cached
     * after that prefix is forgotten, and only the rest is evaluated
     * (stats.n_prompt_cached counts the kept ids). This is how a re-sent or
     * re-rendered conversation reuses its cache. Off: the prompt is
     * appended after the positions already cached. */
    bool reuse_prefix;
    /* The model's EOS ids are never sampled (their logits count as -inf),
     * so generation goes on to max_new_tokens or the context end, as
     * llama.cpp's --ignore-eos. */
    bool ignore_eos;
    /* n_probs > 0: on_probs gets the n_probs most probable next tokens at
     * every sampled token (the EOS that ends generation too), before that
     * token's text goes to on_token. The probabilities are the model's own:
     * softmax of its logits at temperature 1, before the repetition penalty,
     * ignore_eos and every sampling filter (transformers' output_logits, not
     * the processed output_scores), so they do not depend on the sampling
     * settings; chosen.p is the sampled id's probability under them.
     * n_probs above the vocabulary size is the whole vocabulary. */
    int n_probs;
    slm_probs_callback on_probs;
} slm_generate_params;

typedef enum {
    SLM_STOP_LENGTH,
    SLM_STOP_EOS,
    SLM_STOP_CALLBACK,
    SLM_STOP_CONTEXT,
    SLM_STOP_STRING /* the reply reached one of params.stop */
} slm_stop_reason;

typedef struct {
    int n_prompt; /* the whole prompt passed, for usage counts */
    /* Of n_prompt, the ids served from the KV cache instead of evaluated
     * (params.reuse_prefix); n_prompt - n_prompt_cached were evaluated. */
    int n_prompt_cached;
    int n_generated;
    double prefill_seconds;
    double decode_seconds;
    slm_stop_reason stop_reason;
    /* With SLM_STOP_STRING: the index in params.stop of the string found
     * (the earliest in the text; the first listed on a tie); else -1. */
    int stop_index;
} slm_generate_stats;

slm_status slm_generate(slm_session *session, const int32_t *prompt, size_t n_prompt,
                        const slm_generate_params *params, slm_generate_stats *stats,
                        slm_error *err);

/* The logits of the last position the session evaluated (vocab_size floats
 * owned by the session), or NULL before its first evaluation. */
const float *slm_session_logits(const slm_session *session);

/* ------------------------------------------------------------- batches */

/* Several sessions of one model evaluated in one forward pass: the matrix
 * products run once over the tokens of all of them (so each weight is read
 * once per step, not once per sequence), attention runs per sequence over its
 * own KV cache. A batch owns the scratch of such a pass and its thread
 * counts; it is used by one thread at a time. Results do not depend on the
 * batch: a session's logits are bit-identical to what slm_session_eval gives
 * for the same ids, whoever else is in the step (tests/test_batch.c). */
typedef struct slm_batch slm_batch;

/* Room for max_tokens tokens per step in all (0 = 512; at least 256, the
 * largest prompt chunk); thread counts copied from the model's load
 * options. */
slm_status slm_batch_new(slm_model *model, int max_tokens, slm_batch **out, slm_error *err);
void slm_batch_free(slm_batch *batch);
void slm_batch_set_threads(slm_batch *batch, int n_threads, int n_threads_batch);
int slm_batch_max_tokens(const slm_batch *batch);

/* One step: sessions[i] (distinct, all of the batch's model) evaluates its
 * n_ids[i] ids (1..256) after its cached positions, all in one forward pass;
 * each session's last-position logits are then slm_session_logits(session).
 * SLM_ERR_RANGE when the ids do not fit a session's context or Σ n_ids
 * exceeds the batch's max_tokens; nothing is evaluated then. */
slm_status slm_batch_eval(slm_batch *batch, slm_session *const *sessions,
                          const int32_t *const *ids, const size_t *n_ids, size_t count,
                          slm_error *err);

/* ---------------------------------------------------------- generations */

/* One prompt being answered in a session, advanced a step at a time together
 * with others by slm_batch_step (a server's slot, a bench's sequence).
 * slm_generate is the same machinery for one generation on its own, and
 * gives the same tokens (greedy, or the same seed). */
typedef struct slm_generation slm_generation;

/* Nothing is evaluated yet; the prompt is checked (ids, context room, stop
 * strings) and copied. params is copied too, but its stop strings and
 * callback user data must outlive the generation. */
slm_status slm_generation_new(slm_session *session, const int32_t *prompt, size_t n_prompt,
                              const slm_generate_params *params, slm_generation **out,
                              slm_error *err);
void slm_generation_free(slm_generation *gen);
/* True once it stopped (stats.stop_reason says why) or failed. */
bool slm_generation_done(const slm_generation *gen);
/* Counts and times so far (final once done). */
void slm_generation_stats(const slm_generation *gen, slm_generate_stats *out);
/* SLM_OK, or the error that ended this generation (its message in *err). */
slm_status slm_generation_status(const slm_generation *gen, slm_error *err);
/* Ends it before its next step as if its callback had returned false. */
void slm_generation_cancel(slm_generation *gen);

/* Advances every generation in gens that is not done by one step, in one
 * forward pass: a generation still prefilling sends its next prompt chunk
 * (at most 256 ids; a chunk that does not fit this step's room waits for
 * the next one), a decoding one its last sampled token. Each then samples,
 * streams through its callback (on this thread) and checks its stops. A
 * failure of one generation's own (its stream's memory) ends that one with
 * the error (slm_generation_status) and not the others; a failed forward
 * pass fails the call. Generations of different sessions only. */
slm_status slm_batch_step(slm_batch *batch, slm_generation *const *gens, size_t n,
                          slm_error *err);

/* ------------------------------------------------------------ profiling */

/* Where the time went: per phase and operation kind, the calls, the time
 * and, for matrix products, the weight bytes read and the flops done (so
 * GB/s and GFLOP/s). Off unless a profile is attached; with none attached
 * the engine reads no clock. A profile belongs to the caller and to one
 * thread at a time, like the session, batch or call it is attached to; it
 * accumulates until slm_profile_reset. */
typedef struct slm_profile slm_profile;

typedef enum {
    SLM_PROFILE_TOKENIZE, /* the caller's prompt tokenization (slm_profile_add) or a chat render */
    SLM_PROFILE_PREFILL,  /* the prompt's evaluation, as slm_generate_stats.prefill_seconds */
    SLM_PROFILE_DECODE,   /* generated tokens: sampling, streaming, one-token passes */
    SLM_PROFILE_CLASSIFY, /* slm_classify_profiled: tokenization, the encoder, the head */
    SLM_PROFILE_PHASES
} slm_profile_phase;

/* Operation kinds, in the order of a forward pass. The products: q, k, v
 * (an encoder's separate projections), qkv (a decoder's q, k and v run as
 * one product over one team, x quantized once), o, gate_up (likewise one
 * product), up (an encoder's ffn1, GELU fused), down, lm_head, classifier. */
typedef enum {
    SLM_PROF_EMBEDDING,
    SLM_PROF_NORM,
    SLM_PROF_Q,
    SLM_PROF_K,
    SLM_PROF_V,
    SLM_PROF_QKV,
    SLM_PROF_O,
    SLM_PROF_GATE_UP,
    SLM_PROF_UP,
    SLM_PROF_DOWN,
    SLM_PROF_LM_HEAD,
    SLM_PROF_CLASSIFIER,
    SLM_PROF_ROPE,       /* angles and rotation */
    SLM_PROF_KV_STORE,   /* keys and values written to the cache */
    SLM_PROF_ATTENTION,
    SLM_PROF_ACTIVATION, /* SwiGLU's silu·up; an encoder's bias + GELU, ReLU */
    SLM_PROF_RESIDUAL,   /* x += sublayer output */
    SLM_PROF_SAMPLING,
    SLM_PROF_TOKENIZER,  /* text to ids, and the streamed ids back to text */
    SLM_PROF_OUTPUT,     /* the token callback (the caller printing the text) */
    SLM_PROF_SCRATCH,    /* activation buffers: a session's at its first pass, a classify call's */
    SLM_PROF_OPS
} slm_profile_op;

typedef struct {
    uint64_t calls;
    double seconds;
    uint64_t bytes; /* weight bytes read (products; embedding rows) */
    uint64_t flops; /* 2 · rows · cols · tokens (products) */
} slm_profile_entry;

slm_status slm_profile_new(slm_profile **out, slm_error *err);
void slm_profile_free(slm_profile *profile);
void slm_profile_reset(slm_profile *profile);

const char *slm_profile_phase_name(slm_profile_phase phase); /* "prefill", ... */
const char *slm_profile_op_name(slm_profile_op op);          /* "qkv", "attention", ... */
bool slm_profile_op_is_product(slm_profile_op op);

slm_profile_entry slm_profile_get(const slm_profile *profile, slm_profile_phase phase,
                                  slm_profile_op op);
/* The phase's wall time, measured around the whole phase (not the sum of its
 * entries; the difference is time in no listed kind), and its tokens: the
 * prompt ids evaluated (prefill), the ids sampled, an ending EOS included
 * (decode, as slm_generate_stats.n_generated), the ids classified. */
double slm_profile_phase_seconds(const slm_profile *profile, slm_profile_phase phase);
uint64_t slm_profile_phase_tokens(const slm_profile *profile, slm_profile_phase phase);

/* The phase later records of forward passes go to. slm_generate sets it
 * itself (prefill, then decode from the first sampling on); callers driving
 * slm_session_eval or slm_batch_eval set it. */
void slm_profile_set_phase(slm_profile *profile, slm_profile_phase phase);
/* Adds a phase's wall time (and tokens), for phases a caller times itself;
 * slm_generate and slm_classify_profiled add theirs. */
void slm_profile_add_phase(slm_profile *profile, slm_profile_phase phase, double seconds,
                           uint64_t tokens);
/* Records one call of the caller's own work (e.g. its prompt's tokenization). */
void slm_profile_add(slm_profile *profile, slm_profile_phase phase, slm_profile_op op,
                     double seconds);

/* Attaches a profile (NULL detaches) to a session: its own forward passes,
 * and slm_generate on it (sampling, streaming, the phases' wall times);
 * conversations on it add the render and tokenization of each reply's prompt
 * as the tokenize phase. */
void slm_session_set_profile(slm_session *session, slm_profile *profile);
/* The same for a batch's forward passes (phase: slm_profile_set_phase). */
void slm_batch_set_profile(slm_batch *batch, slm_profile *profile);

/* slm_classify and slm_classify_ids recording into profile (NULL: the same
 * as those) under SLM_PROFILE_CLASSIFY, with the call's wall time and tokens. */
slm_status slm_classify_profiled(slm_model *model, const char *const *texts, size_t n,
                                 float *probs, float *logits, size_t *n_truncated,
                                 slm_profile *profile, slm_error *err);
slm_status slm_classify_ids_profiled(slm_model *model, const int32_t *ids, const int *lengths,
                                     int batch, float *logits, slm_profile *profile,
                                     slm_error *err);

#ifdef __cplusplus
}
#endif

/* Chat templates (tokenizer_config.json's chat_template, rendered like
 * transformers' apply_chat_template) are part of the public API too. */
#include "chat_template.h"
/* Conversations (messages rendered with the model's template, the KV cache
 * reused across turns) build on both. */
#include "conversation.h"

#endif /* SLM_H */
