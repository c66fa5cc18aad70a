/*
 * tokenizer_internal.h — the pieces of the tokenizer pipeline, shared by the files of
 * engine/tokenizer/ and by nothing else.
 *
 * The pipeline mirrors Hugging Face `tokenizers` (tokenizer.json):
 *   text ─▶ added tokens matched whole (added_tokens.c) ─▶ normalizer (normalizer.c)
 *        ─▶ added tokens with normalized:true ─▶ pre-tokenizer (pre_tokenizer.c)
 *        ─▶ model (bpe.c over vocab.c) ─▶ post-processor (post_processor.c) ─▶ ids
 *   ids ─▶ pieces ─▶ decoder chain (decoder.c) ─▶ UTF-8 hold-back (stream_decoder.c) ─▶ text
 * Every component is built once by slm_tokenizer_load (tokenizer.c) and is read-only afterwards,
 * so one tokenizer may serve several threads; per-call scratch lives in the callers' work structs.
 * Internal names start with slm_ and a component prefix; loaders name the file and JSON path
 * of whatever they reject.
 */
#ifndef SLM_TOKENIZER_INTERNAL_H
#define SLM_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "slm.h"

/* ------------------------------------------------------------ byte buffers (buffer.c) */

/* A growable byte string; NUL-terminated whenever len > 0 or after any append. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} slm_tok_buf;

bool slm_tok_buf_reserve(slm_tok_buf *b, size_t extra);
bool slm_tok_buf_append(slm_tok_buf *b, const void *p, size_t n);
bool slm_tok_buf_append_str(slm_tok_buf *b, const char *s);
void slm_tok_buf_free(slm_tok_buf *b);
static inline void slm_tok_buf_clear(slm_tok_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* -------------------------------------------------------------------- UTF-8 (utf8.c) */

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF);
 * otherwise *bad receives the offset of the first byte that is not. */
bool slm_tok_utf8_valid(const char *s, size_t n, size_t *bad);
/* Length of the well-formed character starting at s (n bytes available), or 0 when the bytes
 * there are not one (truncated or invalid). */
size_t slm_tok_utf8_char_len(const char *s, size_t n);
/* How many bytes at the end of s[0..n) are the valid start of a character still missing
 * bytes (0 when the text ends on a character boundary or with ill-formed bytes). */
size_t slm_tok_utf8_incomplete_tail(const char *s, size_t n);
/* Decodes the character at s of well-formed text; *len receives its byte length. */
uint32_t slm_tok_utf8_decode(const char *s, size_t *len);
/* Unicode White_Space (Rust's char::is_whitespace, regex \s). */
bool slm_tok_unicode_is_space(uint32_t cp);
/* Rust regex \w: alphabetic, marks, decimal digits, connector punctuation, join controls. */
bool slm_tok_unicode_is_word(uint32_t cp);
/* Appends text to out with each ill-formed sequence replaced by U+FFFD the way Rust's
 * String::from_utf8_lossy does (one U+FFFD per maximal ill-formed subpart). */
bool slm_tok_utf8_append_lossy(slm_tok_buf *out, const char *s, size_t n);

/* --------------------------------------------------------------- vocabulary (vocab.c) */

/* piece <-> id for the model's vocabulary. Ids need not be dense: an id with no piece has
 * by_id -1. */
typedef struct {
    size_t offset;   /* of the piece in the arena */
    uint32_t length;
    int32_t id;
} slm_vocab_entry;

typedef struct {
    size_t n_ids;            /* one past the largest id */
    size_t n_pieces;         /* number of distinct pieces */
    slm_vocab_entry *entries; /* one per distinct piece */
    int32_t *by_id;          /* per id: the entry of the piece it decodes to, or -1 */
    int32_t *slots;          /* open-addressing table of entry indices, -1 = empty */
    size_t mask;             /* table size - 1 (a power of two) */
    slm_tok_buf arena;       /* all piece bytes, each followed by a NUL */
} slm_vocab;

/* Builds the vocabulary from a JSON object {"piece": id, ...}; `what` names it in errors. */
slm_status slm_vocab_from_json(slm_vocab *v, const cJSON *obj, const char *what, slm_error *err);
int32_t slm_vocab_find(const slm_vocab *v, const char *s, size_t n); /* -1 when absent */
/* The piece of id (NUL-terminated) and its length, or NULL when id has none. */
const char *slm_vocab_piece(const slm_vocab *v, int32_t id, size_t *len);
void slm_vocab_free(slm_vocab *v);

/* ------------------------------------------------------------------- BPE model (bpe.c) */

/* One slot of the merge table: the pair (left << 32 | right, UINT64_MAX = empty), its rank
 * and the id of the merged piece, together so a lookup touches one cache line. */
typedef struct {
    uint64_t key;
    uint32_t rank;
    int32_t new_id;
} slm_bpe_merge_slot;

typedef struct {
    slm_vocab vocab;
    slm_bpe_merge_slot *merges; /* open-addressing table */
    size_t merge_mask;
    unsigned merge_shift;    /* 64 - log2(table size): multiplicative hashing uses top bits */
    int32_t byte_ids[256];   /* id of "<0xAB>" for each byte, -1 when absent */
    int32_t unk_id;          /* -1 when there is no unk_token or it is not in the vocabulary */
    char *unk_token;         /* NULL when the model has none */
    char *subword_prefix;    /* continuing_subword_prefix, NULL when none */
    char *word_suffix;       /* end_of_word_suffix, NULL when none */
    bool fuse_unk;
    bool byte_fallback;
    bool ignore_merges;
} slm_bpe;

/* Per-call scratch of slm_bpe_tokenize, grown on demand and reused across words. */
typedef struct {
    struct slm_bpe_symbol *sym;
    size_t sym_cap;
    struct slm_bpe_merge *heap;
    size_t heap_len, heap_cap;
    slm_tok_buf piece;       /* a character with prefix/suffix attached */
} slm_bpe_work;

slm_status slm_bpe_load(slm_bpe *m, const cJSON *model, const char *path, slm_error *err);
void slm_bpe_free(slm_bpe *m);
/* Appends the ids of one pre-tokenized word (valid UTF-8, n > 0). */
slm_status slm_bpe_tokenize(const slm_bpe *m, const char *word, size_t n, slm_bpe_work *w,
                            slm_tokens *out, slm_error *err);
void slm_bpe_work_free(slm_bpe_work *w);

/* ---------------------------------------------------------------- normalizer.c */

typedef enum { SLM_NORM_PREPEND, SLM_NORM_REPLACE } slm_norm_kind;

typedef struct {
    slm_norm_kind kind;
    char *a;          /* Prepend: the prefix; Replace: the pattern */
    size_t a_len;
    char *b;          /* Replace: the replacement */
    size_t b_len;
} slm_norm_step;

/* A flattened Sequence of normalizers; n == 0 means no normalizer. */
typedef struct {
    slm_norm_step *steps;
    size_t n;
} slm_normalizer;

slm_status slm_normalizer_load(slm_normalizer *nz, const cJSON *json, const char *path,
                               slm_error *err);
void slm_normalizer_free(slm_normalizer *nz);
/* Normalizes s[0..n) into out (cleared first); tmp is scratch. */
bool slm_normalizer_apply(const slm_normalizer *nz, const char *s, size_t n, slm_tok_buf *out,
                          slm_tok_buf *tmp);

/* ------------------------------------------------------------- pre_tokenizer.c */

/* A piece of text produced by pre-tokenization: bytes [off, off+len) of a buffer, and whether
 * it starts at offset 0 of the caller's original text (Metaspace prepend_scheme "first"). */
typedef struct {
    size_t off, len;
    bool at_origin;
} slm_tok_split;

typedef struct {
    slm_tok_buf text;
    slm_tok_split *v;
    size_t n, cap;
} slm_tok_split_list;

bool slm_tok_split_list_push(slm_tok_split_list *l, size_t off, size_t len, bool at_origin);
void slm_tok_split_list_free(slm_tok_split_list *l);

typedef enum { SLM_PRETOK_METASPACE } slm_pretok_kind;
typedef enum { SLM_PREPEND_ALWAYS, SLM_PREPEND_FIRST, SLM_PREPEND_NEVER } slm_prepend_scheme;

typedef struct {
    slm_pretok_kind kind;
    char repl[5];            /* Metaspace replacement character (UTF-8) */
    size_t repl_len;
    slm_prepend_scheme prepend;
    bool split;
} slm_pretok_step;

typedef struct {
    slm_pretok_step *steps;
    size_t n;
} slm_pretokenizer;

slm_status slm_pretokenizer_load(slm_pretokenizer *pt, const cJSON *json, const char *path,
                                 slm_error *err);
void slm_pretokenizer_free(slm_pretokenizer *pt);
/* Replaces *io by its pre-tokenized splits; tmp is scratch (swapped with *io). */
bool slm_pretokenizer_apply(const slm_pretokenizer *pt, slm_tok_split_list *io,
                            slm_tok_split_list *tmp);
/* Parses a Metaspace-style prepend_scheme / add_prefix_space pair (shared with decoder.c). */
slm_status slm_tok_prepend_scheme(const cJSON *json, const char *path, const char *where,
                                  slm_prepend_scheme *out, slm_error *err);
/* Reads a one-character string field (Metaspace replacement, Strip content). */
slm_status slm_tok_json_char(const cJSON *json, const char *key, const char *path,
                             const char *where, char out[5], size_t *len, slm_error *err);

/* ------------------------------------------------------------- added_tokens.c */

typedef struct {
    int32_t id;
    char *content;      /* as written in tokenizer.json */
    size_t content_len;
    char *pattern;      /* what is matched: content, or its normalized form if normalized */
    size_t pattern_len;
    bool single_word, lstrip, rstrip, normalized;
    bool special;       /* in Hugging Face's special set, which only grows */
} slm_added_token;

/* Matching index of one trie (the raw-text tokens or the normalized ones): token indices grouped
 * by first byte, longest pattern first, so the first hit at a position is the longest. */
typedef struct {
    uint32_t *order;
    uint32_t start[257];
} slm_added_index;

typedef struct {
    slm_added_token *v;
    size_t n;
    slm_added_index raw, norm;
} slm_added_vocab;

/* One piece of a split: text [start, end) or, when id >= 0, an added token spanning it. */
typedef struct {
    size_t start, end;
    int32_t id;
} slm_tok_segment;

typedef struct {
    slm_tok_segment *v;
    size_t n, cap;
} slm_tok_segment_list;

/* Loads "added_tokens", giving ids the way Hugging Face does (the model's id when the content is
 * a vocabulary piece, else the next free id). */
slm_status slm_added_load(slm_added_vocab *av, const cJSON *list, const slm_vocab *vocab,
                          const slm_normalizer *nz, const char *path, slm_error *err);
void slm_added_free(slm_added_vocab *av);
/* Splits s[0..n) around the added tokens of one kind (normalized or not), appending segments
 * (empty text segments are left out). */
bool slm_added_split(const slm_added_vocab *av, bool normalized, const char *s, size_t n,
                     slm_tok_segment_list *out);
const slm_added_token *slm_added_find(const slm_added_vocab *av, const char *s, size_t n);
void slm_tok_segment_list_free(slm_tok_segment_list *l);

/* ------------------------------------------------------------- post_processor.c */

/* What add_special_tokens puts around a single sequence. */
typedef struct {
    int32_t *prefix;
    size_t n_prefix;
    int32_t *suffix;
    size_t n_suffix;
} slm_postproc;

slm_status slm_postproc_load(slm_postproc *pp, const cJSON *json, const char *path,
                             slm_error *err);
/* Replaces one side by `id` (or nothing when id < 0) — tokenizer_config.json's
 * add_bos_token / add_eos_token. */
bool slm_postproc_set_prefix(slm_postproc *pp, int32_t id);
bool slm_postproc_set_suffix(slm_postproc *pp, int32_t id);
void slm_postproc_free(slm_postproc *pp);

/* ------------------------------------------------------------------ decoder.c */

typedef enum {
    SLM_DETOK_REPLACE,
    SLM_DETOK_BYTE_FALLBACK,
    SLM_DETOK_FUSE,
    SLM_DETOK_STRIP,
    SLM_DETOK_METASPACE,
    SLM_DETOK_JOIN_SPACE, /* no decoder at all: Hugging Face joins the pieces with spaces */
} slm_detok_kind;

typedef struct {
    slm_detok_kind kind;
    char *pattern;         /* Replace */
    size_t pattern_len;
    char *content;         /* Replace: replacement; Strip / Metaspace: the character */
    size_t content_len;
    size_t start, stop;    /* Strip */
    bool strip_first;      /* Metaspace: the first piece loses its replacement characters */
} slm_detok_step;

typedef struct {
    slm_detok_step *steps;
    size_t n;
} slm_detok;

slm_status slm_detok_load(slm_detok *d, const cJSON *json, const char *path, slm_error *err);
void slm_detok_free(slm_detok *d);

/* A running decode: pieces go in one at a time, text comes out as soon as no later piece can
 * change it. The concatenated output equals the Hugging Face decode of all the pieces. */
typedef struct slm_detok_run slm_detok_run;

slm_detok_run *slm_detok_run_new(const slm_detok *d);
void slm_detok_run_free(slm_detok_run *r);
/* Appends the text that became final to out. */
bool slm_detok_run_push(slm_detok_run *r, const char *piece, size_t len, slm_tok_buf *out);
bool slm_detok_run_finish(slm_detok_run *r, slm_tok_buf *out);

/* ---------------------------------------------------------------- tokenizer.c */

/* What decoding needs to know about one id. */
typedef struct {
    const char *text;   /* the piece handed to the decoder; NULL when the id is unknown */
    uint32_t len;
    bool special;       /* skipped by skip_special */
} slm_tok_id_info;

typedef enum { SLM_TOK_MODEL_BPE } slm_tok_model_kind;

struct slm_tokenizer {
    char *path;                 /* tokenizer.json, for messages */
    slm_normalizer normalizer;
    slm_pretokenizer pretokenizer;
    slm_tok_model_kind model_kind;
    slm_bpe bpe;
    slm_added_vocab added;
    slm_postproc post;
    slm_detok decoder;
    slm_tok_id_info *ids;           /* indexed by id */
    size_t n_ids;
    int32_t bos_id, eos_id;
};

/* What id decodes from, or NULL when the id names nothing. */
const slm_tok_id_info *slm_tokenizer_id_info(const slm_tokenizer *tok, int32_t id);

#endif /* SLM_TOKENIZER_INTERNAL_H */
