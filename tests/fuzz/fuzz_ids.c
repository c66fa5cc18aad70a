/*
 * fuzz_ids.c — libFuzzer harness for the CLI's token-id list parser
 * (tools/slm/id_list.c, behind `slm logits --ids` and `slm detokenize`).
 * The bytes are one argument (cut at the first NUL, as argv would be),
 * parsed against a small limit (a vocabulary) and the int32 limit. A failure
 * must say why; a success must hold only ids in range, at most one per two
 * bytes, and print back to a list that parses to the same ids.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/slm/id_list.c"

/* Formats ids as "a,b c,..." (mixed separators) and parses them back. */
static void check_round_trip(const slm_tokens *ids, int64_t limit)
{
    char *text = malloc(ids->n * 12 + 1);
    if (!text)
        return;
    size_t len = 0;
    for (size_t i = 0; i < ids->n; i++)
        len += (size_t)sprintf(text + len, "%s%d", i == 0 ? "" : i % 2 ? "," : " ",
                               (int)ids->ids[i]);
    text[len] = '\0';
    slm_tokens again = {0};
    slm_error err = {0};
    if (cli_parse_id_list(text, limit, "fuzz", &again, &err) != SLM_OK || again.n != ids->n ||
        memcmp(again.ids, ids->ids, ids->n * sizeof *ids->ids) != 0)
        abort();
    slm_tokens_free(&again);
    free(text);
}

static void check_one(const char *s, size_t len, int64_t limit)
{
    slm_tokens ids = {0};
    slm_error err = {0};
    slm_status st = cli_parse_id_list(s, limit, "fuzz", &ids, &err);
    if (st != SLM_OK) {
        if (err.status != st || err.msg[0] == '\0')
            abort(); /* every failure carries a message */
    } else {
        if (ids.n == 0 || ids.n > (len + 1) / 2)
            abort();
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= limit)
                abort();
        check_round_trip(&ids, limit);
    }
    slm_tokens_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);
    check_one(s, len, 512);
    check_one(s, len, (int64_t)INT32_MAX + 1);
    free(s);
    return 0;
}
