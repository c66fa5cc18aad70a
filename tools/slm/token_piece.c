/* token_piece.c — token pieces as the CLI prints them (see token_piece.h). */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "token_piece.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void cli_write_piece(FILE *f, const slm_tokenizer *tok, int32_t id)
{
    size_t len = 0;
    const char *p = slm_tokenizer_id_piece(tok, id, &len);
    fputc('\'', f);
    fwrite(p ? p : "", 1, p ? len : 0, f);
    fputc('\'', f);
}

void cli_write_id_pieces(FILE *f, const slm_tokenizer *tok, const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%" PRId32 " -> ", ids[i]);
        cli_write_piece(f, tok, ids[i]);
        fputc('\n', f);
    }
}

char *cli_piece_dup(const slm_tokenizer *tok, int32_t id)
{
    size_t len = 0;
    const char *p = slm_tokenizer_id_piece(tok, id, &len);
    return strndup(p ? p : "", p ? len : 0);
}

void cli_write_verbose_prompt(FILE *f, const slm_tokenizer *tok, const char *rendered,
                              const slm_tokens *ids)
{
    fprintf(f, "[slm] prompt: '%s'\n", rendered);
    fprintf(f, "[slm] prompt tokens: %zu\n", ids->n);
    cli_write_id_pieces(f, tok, ids->ids, ids->n);
    fflush(f);
}
