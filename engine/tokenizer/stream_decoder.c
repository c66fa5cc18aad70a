/*
 * stream_decoder.c — ids back to text: slm_stream_decoder_* and slm_detokenize.
 *
 * Contract:
 *   - An id maps to its piece (added tokens first, then the model vocabulary); ids that name
 *     nothing are dropped, and with skip_special the special added tokens are too — both as in
 *     Hugging Face's decode.
 *   - The pieces run through the decoder chain (decoder.c), which releases text as soon as no
 *     later id can change it; on top of that the stream never returns part of a UTF-8 character:
 *     an unfinished trailing sequence waits for the next push, and finish turns whatever is
 *     still held and ill-formed into U+FFFD.
 *   - slm_detokenize_len is this stream fed every id, so the concatenated stream output always
 *     equals slm_detokenize_len of the same ids, which equals Hugging Face's decode;
 *     slm_detokenize is the same as a C string, and refuses text holding a NUL byte.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

struct slm_stream_decoder {
    const slm_tokenizer *tok;
    bool skip_special;
    bool finished;
    slm_detok_run *run;
    slm_tok_buf pending; /* chain output not returned yet: an unfinished last character */
    slm_tok_buf ready;   /* what the last call returned */
};

slm_status slm_stream_decoder_new(const slm_tokenizer *tok, bool skip_special,
                                  slm_stream_decoder **out, slm_error *err)
{
    *out = NULL;
    if (!tok)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_stream_decoder_new: no tokenizer");
    slm_stream_decoder *dec = calloc(1, sizeof *dec);
    if (!dec || !(dec->run = slm_detok_run_new(&tok->decoder))) {
        free(dec);
        return slm_fail_nomem(err, "stream decoder");
    }
    dec->tok = tok;
    dec->skip_special = skip_special;
    *out = dec;
    return SLM_OK;
}

void slm_stream_decoder_free(slm_stream_decoder *dec)
{
    if (!dec)
        return;
    slm_detok_run_free(dec->run);
    slm_tok_buf_free(&dec->pending);
    slm_tok_buf_free(&dec->ready);
    free(dec);
}

/* Moves everything but an unfinished trailing character from pending to ready. */
static bool release(slm_stream_decoder *dec, bool all)
{
    slm_tok_buf *p = &dec->pending;
    if (p->len == 0)
        return true;
    size_t keep = all ? 0 : slm_tok_utf8_incomplete_tail(p->data, p->len);
    if (!slm_tok_utf8_append_lossy(&dec->ready, p->data, p->len - keep))
        return false;
    if (keep)
        memmove(p->data, p->data + p->len - keep, keep);
    p->len = keep;
    return true;
}

static const char *ready_text(slm_stream_decoder *dec)
{
    /* Never hand out NULL, even for an empty result. */
    return dec->ready.data ? dec->ready.data : "";
}

slm_status slm_stream_decoder_push(slm_stream_decoder *dec, int32_t id, const char **text,
                                   size_t *len, slm_error *err)
{
    slm_tok_buf_clear(&dec->ready);
    *text = "";
    *len = 0;
    if (dec->finished)
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "slm_stream_decoder_push: the stream was already finished");
    const slm_tok_id_info *info = slm_tokenizer_id_info(dec->tok, id);
    if (!info || (info->special && dec->skip_special))
        return SLM_OK;
    if (!slm_detok_run_push(dec->run, info->text, info->len, &dec->pending) ||
        !release(dec, false))
        return slm_fail_nomem(err, "decoded text");
    *text = ready_text(dec);
    *len = dec->ready.len;
    return SLM_OK;
}

slm_status slm_stream_decoder_finish(slm_stream_decoder *dec, const char **text, size_t *len,
                                     slm_error *err)
{
    slm_tok_buf_clear(&dec->ready);
    *text = "";
    *len = 0;
    if (dec->finished)
        return SLM_OK;
    dec->finished = true;
    if (!slm_detok_run_finish(dec->run, &dec->pending) || !release(dec, true))
        return slm_fail_nomem(err, "decoded text");
    *text = ready_text(dec);
    *len = dec->ready.len;
    return SLM_OK;
}

static slm_status decode_all(slm_stream_decoder *dec, const int32_t *ids, size_t n,
                             slm_tok_buf *out, slm_error *err)
{
    const char *t;
    size_t len;
    for (size_t i = 0; i < n; i++) {
        SLM_TRY(slm_stream_decoder_push(dec, ids[i], &t, &len, err));
        if (!slm_tok_buf_append(out, t, len))
            return slm_fail_nomem(err, "decoded text");
    }
    SLM_TRY(slm_stream_decoder_finish(dec, &t, &len, err));
    if (!slm_tok_buf_append(out, t, len))
        return slm_fail_nomem(err, "decoded text");
    return SLM_OK;
}

slm_status slm_detokenize_len(const slm_tokenizer *tok, const int32_t *ids, size_t n,
                              bool skip_special, char **text, size_t *len, slm_error *err)
{
    *text = NULL;
    *len = 0;
    if (!ids && n)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "slm_detokenize: NULL ids");
    slm_stream_decoder *dec;
    SLM_TRY(slm_stream_decoder_new(tok, skip_special, &dec, err));
    slm_tok_buf out = {0};
    slm_status st = decode_all(dec, ids, n, &out, err);
    slm_stream_decoder_free(dec);
    if (st == SLM_OK && !out.data && !slm_tok_buf_append(&out, "", 0))
        st = slm_fail_nomem(err, "decoded text");
    if (st != SLM_OK) {
        slm_tok_buf_free(&out);
        return st;
    }
    *text = out.data;
    *len = out.len;
    return SLM_OK;
}

/* A C string cannot carry a NUL: rather than hand back text that silently stops early (a byte
 * piece <0x00>, an added token holding \u0000), refuse and point at the length-taking call. */
slm_status slm_detokenize(const slm_tokenizer *tok, const int32_t *ids, size_t n,
                          bool skip_special, char **text, slm_error *err)
{
    size_t len;
    SLM_TRY(slm_detokenize_len(tok, ids, n, skip_special, text, &len, err));
    const char *nul = memchr(*text, '\0', len);
    if (!nul)
        return SLM_OK;
    size_t at = (size_t)(nul - *text);
    free(*text);
    *text = NULL;
    return slm_fail(err, SLM_ERR_INVALID_ARG,
                    "slm_detokenize: the decoded text holds a NUL byte at offset %zu, which a C "
                    "string cannot carry (slm_detokenize_len returns the text and its length)",
                    at);
}
