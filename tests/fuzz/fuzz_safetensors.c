/*
 * fuzz_safetensors.c — libFuzzer harness for the safetensors header and
 * index parser (engine/safetensors.c), from memory.
 *
 * Input: one mode byte, then
 *   even: the bytes of a .safetensors file;
 *   odd:  a model.safetensors.index.json text, a NUL, then the bytes every
 *         shard it names is read from.
 * A failure must leave no result and a message; a success must hand out
 * only tensors whose bytes lie inside the buffer, findable by name, and
 * survive what the loader asks of them (quantization metadata).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quantize.h"
#include "safetensors.h"

/* Every tensor's span is inside [base, base + len) and its name finds it. */
static void check_tensors(const slm_safetensors *st, const uint8_t *base, size_t len)
{
    size_t n = slm_safetensors_count(st);
    for (size_t i = 0; i < n; i++) {
        const slm_tensor *t = slm_safetensors_at(st, i);
        const uint8_t *p = t->data;
        if (p < base || p > base + len || t->n_bytes > (size_t)(base + len - p))
            abort();
        if (slm_safetensors_find(st, t->name) != t)
            abort();
        volatile uint8_t sink = 0;
        for (size_t b = 0; b < t->n_bytes; b += 64) /* touch the bytes (ASan) */
            sink ^= p[b];
        (void)sink;
        slm_weight_type type;
        int cols;
        slm_error err;
        slm_quantized_info(st, t, &type, &cols, &err);
    }
    slm_safetensors_metadata(st, "format");
    slm_safetensors_data_bytes(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *body = data + 1, *shard = body;
    size_t len = size - 1, shard_len = len;
    slm_safetensors *st = NULL;
    slm_error err;
    err.msg[0] = '\0';
    slm_status s;
    if (data[0] & 1) {
        const uint8_t *nul = memchr(body, 0, len);
        size_t text_len = nul ? (size_t)(nul - body) : len;
        shard = nul ? nul + 1 : body + len;
        shard_len = len - text_len - (nul != NULL);
        s = slm_safetensors_open_index_memory((const char *)body, text_len, "fuzz.index.json",
                                              shard, shard_len, &st, &err);
    } else {
        s = slm_safetensors_open_memory(body, len, "fuzz.safetensors", &st, &err);
    }
    if (s != SLM_OK) {
        if (st || !err.msg[0])
            abort();
        return 0;
    }
    check_tensors(st, shard, shard_len);
    slm_safetensors_free(st);
    return 0;
}
