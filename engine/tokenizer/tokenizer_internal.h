/*
 * tokenizer_internal.h — the pieces of the tokenizer pipeline, shared by the files of
 * engine/tokenizer/ (and by white-box tests) and by nothing else.
 *
 * The pipeline mirrors Hugging Face `tokenizers` (tokenizer.json):
 *   text ─▶ added tokens matched whole (added_tokens.c) ─▶ normalizer (normalizer.c,
 *           unicode_norm.c, unicode.c) ─▶ added tokens with normalized:true
 *        ─▶ pre-tokenizer (pre_tokenizer.c, split.c, byte_level.c, regex.c)
 *        ─▶ model (bpe.c with bpe_cache.c, or wordpiece.c; both over vocab.c)
 *        ─▶ truncation and post-processor (encode.c, post_processor.c) ─▶ ids
 *   ids ─▶ pieces ─▶ decoder chain (decoder.c, decoder_load.c) ─▶ UTF-8 hold-back
 *           (stream_decoder.c) ─▶ text
 * Every component is built once by slm_tokenizer_load (tokenizer.c) and is read-only afterwards,
 * so one tokenizer may serve several threads; per-call scratch lives in the callers' work
 * structs (slm_tok_scratch, slm_bpe_work, ...). Internal names start with slm_ and a component
 * prefix; loaders name the file and JSON path of whatever they reject.
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

/* ------------------------------------------------- JSON scalar fields (json_field.c) */

/* Messages read "<path>: <where>.<key> must be ..." (path: the file; where: the JSON path of the
 * object holding the field). Optional fields may be absent or null (then *out = dflt). */

/* Reads a one-character string field (Metaspace replacement, Strip content). */
slm_status slm_tok_json_char(const cJSON *json, const char *key, const char *path,
                             const char *where, char out[5], size_t *len, slm_error *err);
/* Reads an optional boolean field. */
slm_status slm_tok_json_bool(const cJSON *json, const char *key, bool dflt, const char *path,
                             const char *where, bool *out, slm_error *err);
/* Reads v (NULL = missing: an error) as an integer in [lo, hi] (|lo|, |hi| < 2^53): a JSON
 * number without a fractional part. `what` is v's JSON path. */
slm_status slm_tok_json_int_value(const cJSON *v, int64_t lo, int64_t hi, const char *path,
                                  const char *what, int64_t *out, slm_error *err);
/* Reads an optional integer field in [lo, hi]. */
slm_status slm_tok_json_int(const cJSON *json, const char *key, int64_t lo, int64_t hi,
                            int64_t dflt, const char *path, const char *where, int64_t *out,
                            slm_error *err);
/* The largest integer a double holds exactly: the bound of "any non-negative integer". */
#define SLM_TOK_JSON_MAX_INT 9007199254740991LL
/* Most steps a normalizer, pre-tokenizer or decoder chain (Sequences flattened) and most
 * processors a post-processor Sequence may have: real files have a handful, and every step
 * costs a pass over each encoded or decoded text. */
#define SLM_TOK_MAX_STEPS 256
/* Largest token id a file may use: one past it still fits an int32_t. */
#define SLM_TOK_MAX_ID (INT32_MAX - 1)
/* Reads v as a token id in [0, SLM_TOK_MAX_ID]. */
slm_status slm_tok_json_id(const cJSON *v, const char *path, const char *what, int32_t *out,
                           slm_error *err);

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
/* Writes the UTF-8 form of cp (<= U+10FFFF) to out; returns its length (1-4). */
size_t slm_tok_utf8_encode(uint32_t cp, char out[4]);
/* Unicode White_Space (Rust's char::is_whitespace, regex \s). */
bool slm_tok_unicode_is_space(uint32_t cp);
/* Appends text to out with each ill-formed sequence replaced by U+FFFD the way Rust's
 * String::from_utf8_lossy does (one U+FFFD per maximal ill-formed subpart). */
bool slm_tok_utf8_append_lossy(slm_tok_buf *out, const char *s, size_t n);

/* ---------------------------------------------------- Unicode classes (unicode.c) */

/* The character classes of Hugging Face's BERT components, which come from the
 * unicode_categories crate (Unicode 9 tables, see unicode.c): */
bool slm_tok_bert_is_control(uint32_t cp);     /* Cc, Cf or Co: what clean_text drops */
bool slm_tok_bert_is_punct(uint32_t cp);       /* ASCII punctuation or P*: split off */
bool slm_tok_bert_is_nonspacing(uint32_t cp);  /* Mn: what strip_accents drops after NFD */
bool slm_tok_bert_is_chinese(uint32_t cp);     /* the CJK ideograph blocks BERT pads */
/* Rust char::is_numeric (Nd, Nl, No), for the Digits pre-tokenizer. */
bool slm_tok_unicode_is_numeric(uint32_t cp);
/* Rust regex \w: alphabetic, marks, decimal digits, connector punctuation, join controls. */
bool slm_tok_unicode_is_word(uint32_t cp);
/* Rust char::to_lowercase (full mapping, no context): writes 1 or 2 code points. */
size_t slm_tok_unicode_lower(uint32_t cp, uint32_t out[2]);
/* Rust char::to_uppercase would be needed for an Uppercase normalizer; none is supported. */

/* ------------------------------------------------------------- per-call scratch */

/* A stretch [start, end) of a split and whether the split pattern matched it. */
typedef struct {
    size_t start, end;
    bool match;
} slm_tok_piece;

/* Scratch shared by the normalizer and pre-tokenizer during one call; zero-initialize,
 * free with slm_tok_scratch_free. */
typedef struct {
    void *match_data;          /* pcre2_match_data, created on first regex use */
    uint32_t *u32;             /* code points under Unicode normalization */
    size_t u32_cap;
    slm_tok_piece *pieces;     /* matches and gaps of the split being cut */
    size_t pieces_cap;
    slm_tok_buf tmp;           /* inside one normalizer step */
    slm_tok_buf chain;         /* between normalizer steps */
} slm_tok_scratch;

void slm_tok_scratch_free(slm_tok_scratch *sc);

/* ------------------------------------------------------------------ regex.c */

typedef struct slm_tok_regex slm_tok_regex;

/* Compiles a tokenizer.json pattern (literal: a {"String": ...} pattern). `where` is the JSON
 * path for messages. */
slm_status slm_tok_regex_new(const char *pattern, size_t len, bool literal, const char *path,
                             const char *where, slm_tok_regex **out, slm_error *err);
void slm_tok_regex_free(slm_tok_regex *re);
/* "file: JSON path" of the pattern, for messages. */
const char *slm_tok_regex_origin(const slm_tok_regex *re);

/* Position of a match enumeration; zero-initialize to start at offset 0. */
typedef struct {
    size_t pos, last_end;
    bool has_last;
} slm_tok_regex_iter;

/* The next match of re in s[0..n): 1 with [*start, *end), 0 when there are no more, -1 when
 * matching failed (out of memory, or PCRE2's match limit). */
int slm_tok_regex_next(const slm_tok_regex *re, const char *s, size_t n, slm_tok_regex_iter *it,
                       slm_tok_scratch *sc, size_t *start, size_t *end);

/* --------------------------------------------------------------- vocabulary (vocab.c) */

/* ------------------------------------------------------------------- id_map.c */

/* token id -> value (an index), sized by the number of ids rather than the largest one. */
typedef struct {
    int32_t key;   /* -1 = empty */
    int32_t value;
} slm_id_map_slot;

typedef struct {
    slm_id_map_slot *slots;
    size_t mask;
    unsigned shift;
    size_t n, cap;  /* keys held, keys announced to slm_id_map_init */
} slm_id_map;

/* Room for n_max distinct keys. */
bool slm_id_map_init(slm_id_map *m, size_t n_max);
/* Sets key (>= 0) to value; false only when key is new and n_max keys are already held. */
bool slm_id_map_put(slm_id_map *m, int32_t key, int32_t value);
/* The value of key, or -1 when absent. */
int32_t slm_id_map_get(const slm_id_map *m, int32_t key);
void slm_id_map_free(slm_id_map *m);

/* piece <-> id for the model's vocabulary. Ids need not be dense (nothing is sized by the
 * largest id): by_id maps an id to the entry of its piece, -1 or absent when it has none. */
typedef struct {
    size_t offset;   /* of the piece in the arena */
    uint32_t length;
    int32_t id;
} slm_vocab_entry;

typedef struct {
    size_t n_ids;            /* one past the largest id */
    size_t n_pieces;         /* number of distinct pieces */
    size_t max_len;          /* longest piece, in bytes */
    slm_vocab_entry *entries; /* one per distinct piece */
    slm_id_map by_id;        /* id -> the entry of the piece it decodes to */
    int32_t *slots;          /* open-addressing table of entry indices, -1 = empty */
    size_t mask;             /* table size - 1 (a power of two) */
    slm_tok_buf arena;       /* all piece bytes, each followed by a NUL */
} slm_vocab;

/* Builds the vocabulary from a JSON object {"piece": id, ...}; `what` names it in errors. */
slm_status slm_vocab_from_json(slm_vocab *v, const cJSON *obj, const char *what, slm_error *err);
/* Builds an empty vocabulary with room for n additions of `bytes` bytes in all (pieces count one
 * byte more, for their NUL); slm_vocab_add then inserts ids in [0, SLM_TOK_MAX_ID] (a piece
 * added twice keeps its last id). */
bool slm_vocab_init(slm_vocab *v, size_t n, size_t bytes);
void slm_vocab_add(slm_vocab *v, const char *piece, size_t len, int32_t id);
int32_t slm_vocab_find(const slm_vocab *v, const char *s, size_t n); /* -1 when absent */
/* The hash of the vocabulary's table, shared with added_tokens.c. */
uint64_t slm_tok_hash_bytes(const char *s, size_t n);
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
    const char *path;        /* tokenizer.json (the tokenizer's copy), for messages */
    slm_vocab vocab;
    slm_bpe_merge_slot *merges; /* open-addressing table */
    size_t merge_mask;
    unsigned merge_shift;    /* 64 - log2(table size): multiplicative hashing uses top bits */
    int32_t byte_ids[256];   /* id of "<0xAB>" for each byte, -1 when absent */
    int32_t level_ids[256];  /* id of the byte-level character of each byte, -1 when absent */
    bool all_level_ids;      /* every byte has one: byte-level words skip the text mapping */
    int32_t *char_ids;       /* id of the one-character piece of each code point below
                                SLM_BPE_CHAR_TABLE (-1 when none): skips most hash lookups */
    int32_t unk_id;          /* -1 when there is no unk_token or it is not in the vocabulary */
    char *unk_token;         /* NULL when the model has none */
    char *subword_prefix;    /* continuing_subword_prefix, NULL when none or empty */
    char *word_suffix;       /* end_of_word_suffix, NULL when none or empty */
    bool fuse_unk;
    bool byte_fallback;
    bool ignore_merges;
    bool cut_at_meta;        /* words may be cut before "▁" (see bpe.c) */
} slm_bpe;

#define SLM_BPE_CHAR_TABLE 0x2600 /* through U+2581, SentencePiece's word boundary */

/* Per-call scratch of slm_bpe_tokenize, grown on demand and reused across words. */
typedef struct {
    struct slm_bpe_symbol *sym;
    size_t sym_cap;
    struct slm_bpe_merge *heap;
    size_t heap_len, heap_cap;
    slm_tok_buf piece;       /* a character with prefix/suffix attached */
    slm_tok_buf mapped;      /* a byte-level word spelled in its characters */
    struct slm_bpe_cache *cache; /* words already encoded during this call */
    bool use_cache;          /* set by the caller: worth it only for long texts */
} slm_bpe_work;

slm_status slm_bpe_load(slm_bpe *m, const cJSON *model, const char *path, slm_error *err);
void slm_bpe_free(slm_bpe *m);
/* Appends the ids of one pre-tokenized word (valid UTF-8, n > 0). With byte_level the word is
 * raw text whose bytes stand for their byte-level characters (ByteLevel pre-tokenizer). */
slm_status slm_bpe_tokenize(const slm_bpe *m, const char *word, size_t n, bool byte_level,
                            slm_bpe_work *w, slm_tokens *out, slm_error *err);
void slm_bpe_work_free(slm_bpe_work *w);

/* The per-call word cache of bpe_cache.c: repeated words of a long text are encoded once. */
struct slm_bpe_cache;
/* The cached ids of word (NULL when absent); *n receives their count. */
const int32_t *slm_bpe_cache_get(const struct slm_bpe_cache *c, const char *word, size_t len,
                                 size_t *n);
/* Remembers ids for word; false only when out of memory (the cache is then left as it was). */
bool slm_bpe_cache_put(struct slm_bpe_cache **c, const char *word, size_t len,
                       const int32_t *ids, size_t n);
void slm_bpe_cache_free(struct slm_bpe_cache *c);

/* ------------------------------------------------------- WordPiece model (wordpiece.c) */

typedef struct {
    slm_vocab vocab;
    slm_vocab cont;          /* pieces that start with the prefix, keyed without it */
    char *unk_token;
    int32_t unk_id;          /* -1 when unk_token is not in the vocabulary */
    size_t max_chars;        /* max_input_chars_per_word */
} slm_wordpiece;

slm_status slm_wordpiece_load(slm_wordpiece *m, const cJSON *model, const char *path,
                              slm_error *err);
void slm_wordpiece_free(slm_wordpiece *m);
/* Appends the ids of one pre-tokenized word (valid UTF-8, n > 0). */
slm_status slm_wordpiece_tokenize(const slm_wordpiece *m, const char *word, size_t n,
                                  slm_tokens *out, slm_error *err);

/* ------------------------------------------------------ normalizer.c, unicode_norm.c */

typedef enum {
    SLM_NORM_PREPEND,
    SLM_NORM_REPLACE,       /* String pattern */
    SLM_NORM_REPLACE_REGEX,
    SLM_NORM_NFC,
    SLM_NORM_NFD,
    SLM_NORM_NFKC,
    SLM_NORM_NFKD,
    SLM_NORM_LOWERCASE,
    SLM_NORM_STRIP,
    SLM_NORM_STRIP_ACCENTS,
    SLM_NORM_BERT,
    SLM_NORM_BYTE_LEVEL,
} slm_norm_kind;

typedef struct {
    slm_norm_kind kind;
    char *a;          /* Prepend: the prefix; Replace: the pattern */
    size_t a_len;
    char *b;          /* Replace: the replacement */
    size_t b_len;
    slm_tok_regex *re; /* Replace with a Regex pattern */
    /* Strip: left / right. BertNormalizer: clean_text, handle_chinese_chars, strip_accents
     * (null already resolved to lowercase), lowercase. */
    bool left, right;
    bool clean, chinese, strip_accents, lowercase;
} slm_norm_step;

/* A flattened Sequence of normalizers; n == 0 means no normalizer. */
typedef struct {
    slm_norm_step *steps;
    size_t n;
} slm_normalizer;

slm_status slm_normalizer_load(slm_normalizer *nz, const cJSON *json, const char *path,
                               slm_error *err);
void slm_normalizer_free(slm_normalizer *nz);
/* Normalizes s[0..n) into out (cleared first). Fails only when out of memory or when a regex
 * cannot be matched. */
slm_status slm_normalizer_apply(const slm_normalizer *nz, const char *s, size_t n,
                                slm_tok_buf *out, slm_tok_scratch *sc, slm_error *err);

/* The Unicode steps of unicode_norm.c: each rewrites s[0..n) into out (cleared first). */
bool slm_tok_nf(slm_norm_kind kind, const char *s, size_t n, slm_tok_buf *out,
                slm_tok_scratch *sc);
bool slm_tok_lowercase(const char *s, size_t n, slm_tok_buf *out);
bool slm_tok_strip_accents(const char *s, size_t n, slm_tok_buf *out);
bool slm_tok_bert_normalize(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out,
                            slm_tok_scratch *sc);

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

typedef enum {
    SLM_PRETOK_METASPACE,
    SLM_PRETOK_BYTE_LEVEL,
    SLM_PRETOK_SPLIT,
    SLM_PRETOK_BERT,
    SLM_PRETOK_WHITESPACE,       /* \w+|[^\w\s]+ */
    SLM_PRETOK_WHITESPACE_SPLIT, /* on whitespace, removed */
    SLM_PRETOK_PUNCTUATION,
    SLM_PRETOK_DIGITS,
} slm_pretok_kind;

typedef enum { SLM_PREPEND_ALWAYS, SLM_PREPEND_FIRST, SLM_PREPEND_NEVER } slm_prepend_scheme;

/* Hugging Face's SplitDelimiterBehavior. */
typedef enum {
    SLM_SPLIT_REMOVED,
    SLM_SPLIT_ISOLATED,
    SLM_SPLIT_MERGED_WITH_PREVIOUS,
    SLM_SPLIT_MERGED_WITH_NEXT,
    SLM_SPLIT_CONTIGUOUS,
} slm_split_behavior;

typedef struct {
    slm_pretok_kind kind;
    char repl[5];            /* Metaspace replacement character (UTF-8) */
    size_t repl_len;
    slm_prepend_scheme prepend;
    bool split;              /* Metaspace split; Digits individual_digits */
    bool add_prefix_space;   /* ByteLevel */
    bool use_regex;          /* ByteLevel: cut with GPT-2's word regex */
    bool map_bytes;          /* ByteLevel not last: spell the bytes as characters now */
    slm_tok_regex *re;       /* Split pattern, or the ByteLevel word regex */
    slm_split_behavior behavior;
    bool invert;
} slm_pretok_step;

typedef struct {
    slm_pretok_step *steps;
    size_t n;
    /* The last step is ByteLevel: the model reads each split's bytes as byte-level
     * characters (the mapping is never written out). */
    bool byte_level;
} slm_pretokenizer;

slm_status slm_pretokenizer_load(slm_pretokenizer *pt, const cJSON *json, const char *path,
                                 slm_error *err);
void slm_pretokenizer_free(slm_pretokenizer *pt);
/* Replaces *io by its pre-tokenized splits; tmp is scratch. */
slm_status slm_pretokenizer_apply(const slm_pretokenizer *pt, slm_tok_split_list *io,
                                  slm_tok_split_list *tmp, slm_tok_scratch *sc,
                                  slm_error *err);
/* Parses a Metaspace-style prepend_scheme / add_prefix_space pair (shared with decoder.c). */
slm_status slm_tok_prepend_scheme(const cJSON *json, const char *path, const char *where,
                                  slm_prepend_scheme *out, slm_error *err);

/* split.c: cutting one split of io (text io->text) into pieces, appended to out->v. */
slm_status slm_tok_split_regex(const slm_pretok_step *st, const slm_tok_split *sp,
                               const slm_tok_buf *text, slm_tok_split_list *out,
                               slm_tok_scratch *sc, slm_error *err);
bool slm_tok_split_chars(const slm_pretok_step *st, const slm_tok_split *sp,
                         const slm_tok_buf *text, slm_tok_split_list *out, slm_tok_scratch *sc);
slm_status slm_tok_parse_behavior(const cJSON *json, const char *path, const char *where,
                                  slm_split_behavior *out, slm_error *err);

/* byte_level.c: GPT-2's bytes-to-unicode table. */
uint32_t slm_tok_byte_to_char(uint8_t b);
/* The byte a byte-level character stands for, or -1 when cp is not one. */
int slm_tok_char_to_byte(uint32_t cp);
/* Appends the byte-level spelling of s[0..n) (each byte as its character). */
bool slm_tok_byte_level_map(const char *s, size_t n, slm_tok_buf *out);
/* GPT-2's word regex, which ByteLevel uses when use_regex is true or absent. */
slm_status slm_tok_byte_level_regex(const char *path, const char *where, slm_tok_regex **out,
                                    slm_error *err);

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

/* Matching index of one kind of token (the raw-text tokens or the normalized ones): token
 * indices grouped by first byte, longest pattern first, so the first hit at a position is the
 * longest. A group too big to scan (a file may hold 100k tokens starting with '<') is searched
 * by length instead: its distinct pattern lengths, longest first, each looked up in a hash table
 * of the patterns. */
typedef struct {
    uint32_t *order;
    uint32_t start[257];
    uint32_t *lens;          /* distinct pattern lengths per first byte, longest first */
    uint32_t len_start[257];
    int32_t *slots;          /* open-addressing table of token indices by pattern, -1 = empty */
    size_t mask;
} slm_added_index;

typedef struct {
    slm_added_token *v;
    size_t n, cap;
    int32_t *content_slots;  /* open-addressing table of token indices by content, -1 = empty */
    size_t content_mask;
    slm_id_map by_id;        /* id -> token index */
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

typedef struct {
    int32_t *ids;
    size_t n, cap;
} slm_id_list;

/* What add_special_tokens puts around a single sequence (prefix A suffix) and around a pair
 * (pair_prefix A pair_middle B pair_suffix). */
typedef struct {
    slm_id_list prefix, suffix;
    slm_id_list pair_prefix, pair_middle, pair_suffix;
    const char *pair_problem; /* why pairs cannot be encoded, NULL when they can */
} slm_postproc;

slm_status slm_postproc_load(slm_postproc *pp, const cJSON *json, const char *path,
                             slm_error *err);
/* tokenizer_config.json's add_bos_token / add_eos_token (id < 0 when false): rebuilds the
 * templates as transformers' update_post_processor does, keeping what has no override. */
bool slm_postproc_override(slm_postproc *pp, int bos, int32_t bos_id, int eos, int32_t eos_id);
void slm_postproc_free(slm_postproc *pp);

/* ------------------------------------------------------------------ decoder.c */

typedef enum {
    SLM_DETOK_REPLACE,
    SLM_DETOK_REPLACE_REGEX,
    SLM_DETOK_BYTE_FALLBACK,
    SLM_DETOK_FUSE,
    SLM_DETOK_STRIP,
    SLM_DETOK_METASPACE,
    SLM_DETOK_BYTE_LEVEL,
    SLM_DETOK_WORDPIECE,
    SLM_DETOK_JOIN_SPACE, /* no decoder at all: Hugging Face joins the pieces with spaces */
} slm_detok_kind;

typedef struct {
    slm_detok_kind kind;
    char *pattern;         /* Replace; WordPiece: the prefix */
    size_t pattern_len;
    slm_tok_regex *re;     /* Replace with a Regex pattern */
    char *content;         /* Replace: replacement; Strip / Metaspace: the character */
    size_t content_len;
    size_t start, stop;    /* Strip */
    bool strip_first;      /* Metaspace: the first piece loses its replacement characters */
    bool cleanup;          /* WordPiece */
} slm_detok_step;

typedef struct {
    slm_detok_step *steps;
    size_t n;
} slm_detok;

slm_status slm_detok_load(slm_detok *d, const cJSON *json, const char *path, slm_error *err);
/* Appends transformers' clean_up_tokenization (tokenizer_config.json's
 * clean_up_tokenization_spaces): " ." -> "." and the like over the whole decoded text. */
slm_status slm_detok_add_cleanup(slm_detok *d, slm_error *err);
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

typedef enum { SLM_TOK_MODEL_BPE, SLM_TOK_MODEL_WORDPIECE } slm_tok_model_kind;

struct slm_tokenizer {
    char *path;                 /* tokenizer.json (or vocab.txt), for messages */
    slm_normalizer normalizer;
    slm_pretokenizer pretokenizer;
    slm_tok_model_kind model_kind;
    slm_bpe bpe;
    slm_wordpiece wordpiece;
    slm_added_vocab added;
    slm_postproc post;
    slm_detok decoder;
    slm_tok_id_info *ids;           /* n_infos of them, found through id_index */
    size_t n_infos;
    slm_id_map id_index;            /* id -> its entry of ids */
    size_t n_ids;                   /* one past the largest id (slm_tokenizer_vocab_size) */
    int32_t bos_id, eos_id;
    size_t model_max_length;        /* tokenizer_config.json; 0 when unknown */
    bool truncate_left;             /* tokenizer_config.json truncation_side "left" */
};

/* slm_tokenizer_load from memory: tokenizer.json's bytes and, when config is not NULL,
 * tokenizer_config.json's; messages name dir/tokenizer.json (dir NULL: "<memory>"). For tests
 * and fuzzing, which should not need files. */
slm_status slm_tokenizer_load_json(const char *json, size_t len, const char *config,
                                   size_t config_len, const char *dir, slm_tokenizer **out,
                                   slm_error *err);
/* slm_tokenizer_load that also hands over its parse of dir/tokenizer_config.json (the
 * caller frees it with cJSON_Delete; *config is NULL when the folder has none or loading
 * failed): slm_model_load reads the chat template from it, so the file is parsed once. */
slm_status slm_tokenizer_load_keep_config(const char *dir, slm_tokenizer **out, cJSON **config,
                                          slm_error *err);
/* What id decodes from, or NULL when the id names nothing. */
const slm_tok_id_info *slm_tokenizer_id_info(const slm_tokenizer *tok, int32_t id);
/* The model's vocabulary (BPE or WordPiece). */
const slm_vocab *slm_tokenizer_model_vocab(const slm_tokenizer *tok);

/* ------------------------------------------------------------------ from_vocab.c */

/* Largest vocab.txt read (the multilingual BERT vocabularies are about 1 MiB). */
#define SLM_VOCAB_TXT_MAX ((size_t)16 << 20)

/* The tokenizer.json document transformers' BertTokenizer builds from vocab.txt's bytes,
 * tokenizer_config.json's parse (NULL: none) and special_tokens_map.json's (NULL: none); the
 * paths name the files in messages. The caller frees *out with cJSON_Delete. */
slm_status slm_tok_vocab_document(const char *vocab, size_t vocab_len, const char *vocab_path,
                                  const cJSON *config, const char *config_path,
                                  const cJSON *special_map, const char *map_path, cJSON **out,
                                  slm_error *err);
/* The same from the files of dir (vocab.txt required, the other two optional). */
slm_status slm_tok_vocab_load_dir(const char *dir, cJSON **out, slm_error *err);
/* slm_tokenizer_load of a vocab.txt folder from memory (config / special_map NULL: absent);
 * messages name dir's files (dir NULL: "<memory>"). For tests and fuzzing. */
slm_status slm_tokenizer_load_vocab(const char *vocab, size_t vocab_len, const char *config,
                                    size_t config_len, const char *special_map, size_t map_len,
                                    const char *dir, slm_tokenizer **out, slm_error *err);

/* ----------------------------------------------------------- stream_decoder.c */

/* slm_detokenize_len is declared in slm.h. */

/* ------------------------------------------------------------------ encode.c */

/* Encodes a pair of texts the way Hugging Face's encode(a, b) does: each text on its own,
 * LongestFirst truncation of the two to max_len (minus the template's tokens when
 * add_special; SIZE_MAX = no limit), then the pair template. Appends to out. */
slm_status slm_tokenize_pair(const slm_tokenizer *tok, const char *a, size_t a_len,
                             const char *b, size_t b_len, bool add_special, size_t max_len,
                             slm_tokens *out, bool *truncated, slm_error *err);

#endif /* SLM_TOKENIZER_INTERNAL_H */
