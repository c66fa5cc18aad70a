/*
 * tokenize.c — `slm tokenize` and `slm detokenize`: text <-> token ids with a model folder's
 * tokenizer (tokenizer.json + tokenizer_config.json; no weights needed).
 *
 *   slm tokenize [-m DIR] [--no-special] [--max-length N] [--pieces | --json] TEXT|-
 *                                                  ids, space-separated, on one line;
 *                                                  --pieces: "id -> 'piece'" per line (as
 *                                                  llama-tokenize); --json: {"ids", "pieces"}
 *   slm detokenize [-m DIR] [--skip-special] IDS   the text (ids as separate arguments or
 *                                                  one space / comma separated string)
 * --no-special is Hugging Face's add_special_tokens=False; --skip-special its
 * skip_special_tokens=True; --max-length its truncation=True, max_length=N (the text's tokens
 * are cut, never the special ones; a note on stderr says when). Every tokenizer family slm reads
 * works (SentencePiece and byte-level BPE, WordPiece); DIR needs only the tokenizer files.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "id_list.h"
#include "prompt_input.h"
#include "token_piece.h"

static void tokenize_usage(FILE *f)
{
    fprintf(f,
            "usage: slm tokenize [-m DIR] [--no-special] [--max-length N] [--pieces | --json] TEXT\n"
            "Prints the token ids of TEXT, space-separated, on one line. TEXT - reads the\n"
            "text from stdin (one trailing newline dropped). A piece is the token as the\n"
            "vocabulary spells it (Hugging Face's convert_ids_to_tokens).\n\n"
            "  -m, --model DIR   model or tokenizer folder (default %s)\n"
            "  --no-special      do not add BOS/EOS or other template tokens\n"
            "  --max-length N    truncate the text so that at most N ids come out\n"
            "  --pieces          one line per token: id -> 'piece'\n"
            "  --json            one JSON object: {\"ids\": [...], \"pieces\": [...]}\n"
            "  -h, --help        this help\n",
            cli_default_model_dir());
}

static void detokenize_usage(FILE *f)
{
    fprintf(f,
            "usage: slm detokenize [-m DIR] [--skip-special] IDS...\n"
            "Prints the text of token ids, given as separate arguments or as one\n"
            "space- or comma-separated string.\n\n"
            "  -m, --model DIR   model or tokenizer folder (default %s)\n"
            "  --skip-special    leave special tokens (BOS, EOS, ...) out of the text\n"
            "  -h, --help        this help\n",
            cli_default_model_dir());
}

/* Options shared by both verbs; positional arguments are collected in order. */
typedef struct {
    const char *dir;
    bool flag; /* --no-special / --skip-special */
    long max_len; /* tokenize --max-length; -1 = none */
    bool pieces;  /* tokenize --pieces */
    bool json;    /* tokenize --json */
    int n_pos;
    char **pos;
} options;

/* Returns -1 on success, else the exit code to return. */
static int parse_options(const char *verb, const char *flag_name, void (*usage)(FILE *),
                         int argc, char **argv, options *o)
{
    o->dir = cli_default_model_dir();
    o->flag = false;
    o->max_len = -1;
    o->pieces = o->json = false;
    o->n_pos = 0;
    o->pos = argv; /* reused in place: positionals never outnumber arguments */
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && cli_is_help(a)) {
            usage(stdout);
            return CLI_OK;
        }
        if (!only_pos && (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)) {
            if (!(o->dir = cli_value(verb, argc, argv, &i)))
                return CLI_USAGE;
        } else if (!only_pos && strcmp(a, flag_name) == 0) {
            o->flag = true;
        } else if (!only_pos && strcmp(verb, "tokenize") == 0 &&
                   strcmp(a, "--max-length") == 0) {
            const char *v = cli_value(verb, argc, argv, &i);
            if (!v || !cli_int(verb, a, v, 0, 1L << 30, &o->max_len))
                return CLI_USAGE;
        } else if (!only_pos && strcmp(verb, "tokenize") == 0 && strcmp(a, "--pieces") == 0) {
            o->pieces = true;
        } else if (!only_pos && strcmp(verb, "tokenize") == 0 && strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && a[0] == '-' && a[1] != '\0') {
            return cli_unknown(verb, a);
        } else {
            o->pos[o->n_pos++] = argv[i];
        }
    }
    return -1;
}

static int load(const char *dir, slm_tokenizer **tok)
{
    slm_error err = {0};
    if (slm_tokenizer_load(dir, tok, &err) != SLM_OK)
        return cli_report_model(dir, &err);
    return CLI_OK;
}

/* {"ids": [...], "pieces": [...]} on one line; pieces with a NUL byte are cut
   there (cJSON strings end at NUL). */
static int print_json(const slm_tokenizer *tok, const slm_tokens *ids)
{
    cJSON *root = cJSON_CreateObject(), *jids = cJSON_AddArrayToObject(root, "ids");
    cJSON *jpieces = cJSON_AddArrayToObject(root, "pieces");
    bool ok = root && jids && jpieces;
    for (size_t i = 0; ok && i < ids->n; i++) {
        char *s = cli_piece_dup(tok, ids->ids[i]);
        ok = s && cJSON_AddItemToArray(jids, cJSON_CreateNumber(ids->ids[i])) &&
             cJSON_AddItemToArray(jpieces, cJSON_CreateString(s));
        free(s);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
    if (!text)
        fprintf(stderr, "slm tokenize: out of memory writing JSON\n");
    return text ? CLI_OK : CLI_FAIL;
}

int cmd_tokenize(int argc, char **argv)
{
    options o;
    int rc = parse_options("tokenize", "--no-special", tokenize_usage, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.pieces && o.json) {
        fprintf(stderr, "slm tokenize: --pieces and --json are two output formats; give one\n");
        return CLI_USAGE;
    }
    if (o.n_pos != 1) {
        fprintf(stderr, "slm tokenize: expected exactly one TEXT argument (quote it; see slm "
                        "tokenize --help)\n");
        return CLI_USAGE;
    }
    slm_tokenizer *tok;
    if ((rc = load(o.dir, &tok)) != CLI_OK)
        return rc;
    slm_tokens ids = {0};
    slm_error err = {0};
    size_t len = strlen(o.pos[0]);
    /* "-": the text is stdin's, as llama-cli's -p - */
    char *input = strcmp(o.pos[0], "-") == 0 ? cli_read_text("tokenize", "-", &len) : NULL;
    const char *text = input ? input : o.pos[0];
    if (strcmp(o.pos[0], "-") == 0 && !input) {
        slm_tokenizer_free(tok);
        return CLI_FAIL;
    }
    bool cut = false;
    slm_status st = o.max_len < 0
                        ? slm_tokenize(tok, text, len, !o.flag, &ids, &err)
                        : slm_tokenize_truncated(tok, text, len, !o.flag, (size_t)o.max_len, &ids,
                                                 &cut, &err);
    if (st != SLM_OK) {
        rc = cli_report(&err);
    } else {
        if (o.pieces) {
            /* "id -> 'piece'" per token, as llama-tokenize prints them */
            cli_write_id_pieces(stdout, tok, ids.ids, ids.n);
        } else if (o.json) {
            rc = print_json(tok, &ids);
        } else {
            for (size_t i = 0; i < ids.n; i++)
                printf("%s%" PRId32, i ? " " : "", ids.ids[i]);
            printf("\n");
        }
        if (cut)
            fprintf(stderr, "slm tokenize: truncated to %zu ids\n", ids.n);
    }
    free(input);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
    return rc;
}

int cmd_detokenize(int argc, char **argv)
{
    options o;
    int rc = parse_options("detokenize", "--skip-special", detokenize_usage, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.n_pos == 0) {
        fprintf(stderr, "slm detokenize: no ids given (see slm detokenize --help)\n");
        return CLI_USAGE;
    }
    slm_tokenizer *tok;
    if ((rc = load(o.dir, &tok)) != CLI_OK)
        return rc;
    slm_tokens ids = {0};
    slm_error err = {0};
    /* every id is checked here, once, against the tokenizer that decodes it */
    for (int i = 0; i < o.n_pos && rc == CLI_OK; i++) {
        if (cli_parse_id_list(o.pos[i], (int64_t)slm_tokenizer_vocab_size(tok),
                              "the tokenizer's ids", &ids, &err) != SLM_OK) {
            fprintf(stderr, "slm detokenize: %s\n", err.msg);
            rc = CLI_USAGE;
        }
    }
    char *text = NULL;
    size_t len = 0;
    if (rc == CLI_OK) {
        /* with its length: a decoded NUL byte (e.g. byte-fallback <0x00>) is printed, not an end */
        if (slm_detokenize_len(tok, ids.ids, ids.n, o.flag, &text, &len, &err) != SLM_OK) {
            rc = cli_report(&err);
        } else {
            fwrite(text, 1, len, stdout);
            putchar('\n');
        }
    }
    free(text);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
    return rc;
}
