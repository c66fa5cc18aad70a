/*
 * inspect.c — `slm inspect`: a model folder's architecture, hyper-parameters,
 * tokenizer, parameter count and tensors, without loading the weights into the engine.
 * A tokenizer that does not load is shown with its error; the rest is still printed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "model.h"
#include "safetensors.h"
#include "tensor_info.h"

/* A sequence classifier (the encoder family slm runs) has labels, and no
   RoPE, BOS/EOS or LM head to show. */
static bool is_classifier(const slm_config *c) { return c->n_labels > 0; }

static void print_decoder_lines(const slm_config *c)
{
    printf("rope_theta        %g%s%s\n", c->rope_theta, c->rope.type[0] ? ", scaling " : "",
           c->rope.type);
    if (c->sliding_window)
        printf("sliding_window    %d\n", c->sliding_window);
    printf("tied embeddings   %s\n", c->tie_word_embeddings ? "yes" : "no");
    printf("bos / eos ids     %d /", c->bos_id);
    for (int i = 0; i < c->n_eos; i++)
        printf(" %d", c->eos_ids[i]);
    printf("\n");
}

static void print_config(const slm_config *c)
{
    printf("architecture      %s (model_type %s)\n", c->architecture, c->model_type);
    printf("hidden_size       %d\n", c->hidden_size);
    printf("intermediate_size %d\n", c->intermediate_size);
    printf("layers            %d\n", c->n_layers);
    printf("heads             %d (kv heads %d, head_dim %d)\n", c->n_heads, c->n_kv_heads,
           c->head_dim);
    printf("vocab_size        %d\n", c->vocab_size);
    printf("max_positions     %d\n", c->max_positions);
    printf("norm_eps          %g\n", c->norm_eps);
    if (!is_classifier(c)) {
        print_decoder_lines(c);
        return;
    }
    printf("labels            %d:", c->n_labels);
    for (int i = 0; i < c->n_labels; i++)
        printf(" %d %s%s", i, c->labels[i], i + 1 < c->n_labels ? "," : "");
    printf("\n");
}

/* Which file the tokenizer comes from (tokenizer.json, or vocab.txt built as transformers'
   BertTokenizer does), its size and model_max_length. */
static void print_tokenizer(const char *dir)
{
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    if (slm_tokenizer_load(dir, &tok, &err) != SLM_OK) {
        printf("tokenizer         not loaded: %s\n", err.msg);
        return;
    }
    char *json = slm_path_join(dir, "tokenizer.json");
    bool from_json = json && slm_file_exists(json);
    free(json);
    size_t max_len = slm_tokenizer_model_max_length(tok);
    printf("tokenizer         %s, %zu tokens, model_max_length ",
           from_json ? "tokenizer.json" : "vocab.txt (as transformers' BertTokenizer)",
           slm_tokenizer_vocab_size(tok));
    if (max_len)
        printf("%zu\n", max_len);
    else
        printf("none\n");
    slm_tokenizer_free(tok);
}

static void print_tensors(const slm_safetensors *st)
{
    size_t n = slm_safetensors_count(st), params = 0;
    const char *type;
    int64_t shape[SLM_MAX_DIMS];
    for (size_t i = 0; i < n; i++)
        params += cli_tensor_describe(st, slm_safetensors_at(st, i), &type, shape);
    printf("parameters        %zu (%.2f M), %zu tensors, %.2f MB\n\n", params, params / 1e6, n,
           slm_safetensors_data_bytes(st) / 1e6);
    for (size_t i = 0; i < n; i++) {
        const slm_tensor *t = slm_safetensors_at(st, i);
        char buf[128];
        cli_tensor_describe(st, t, &type, shape);
        printf("%-52s %-5s %s\n", t->name, type, slm_shape_str(shape, t->n_dims, buf, sizeof buf));
    }
}

static bool has_file(const char *dir, const char *name)
{
    char *p = slm_path_join(dir, name);
    bool yes = p && slm_file_exists(p);
    free(p);
    return yes;
}

/* A folder with tokenizer files and no config.json: what slm tokenize and
   detokenize use. False when the tokenizer does not load either. */
static bool inspect_tokenizer_folder(const char *dir)
{
    if (has_file(dir, "config.json") ||
        (!has_file(dir, "tokenizer.json") && !has_file(dir, "vocab.txt")))
        return false;
    printf("model             %s\n", dir);
    printf("config.json       none: a tokenizer-only folder (for slm tokenize / detokenize)\n");
    print_tokenizer(dir);
    return true;
}

static int inspect(const char *dir)
{
    if (inspect_tokenizer_folder(dir))
        return CLI_OK;
    slm_error err = {0};
    slm_config cfg;
    slm_safetensors *st = NULL;
    /* the architecture first, so another model family is named as such;
       mmap: inspecting needs the headers, not the data in memory */
    if (slm_model_check_architecture(dir, &err) != SLM_OK ||
        slm_config_load(dir, &cfg, &err) != SLM_OK ||
        slm_safetensors_open_dir(dir, true, &st, &err) != SLM_OK)
        return cli_report_model(dir, &err);
    printf("model             %s\n", dir);
    print_config(&cfg);
    print_tokenizer(dir);
    print_tensors(st);
    slm_safetensors_free(st);
    return CLI_OK;
}

int cmd_inspect(int argc, char **argv)
{
    const char *dir = cli_default_model_dir();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: slm inspect [-m DIR]\n"
                   "Shows the architecture, hyper-parameters, parameter count and tensors\n"
                   "(a classifier's labels; a tokenizer-only folder's tokenizer).\n"
                   "  -m, --model DIR      model or tokenizer folder (default: $SLM_MODEL or the\n"
                   "                       bundled model)\n");
            return CLI_OK;
        } else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) {
            if (!(dir = cli_value("inspect", argc, argv, &i)))
                return CLI_USAGE;
        } else {
            return cli_unknown("inspect", argv[i]);
        }
    }
    return inspect(dir);
}
