/*
 * hello_slm.c — the smallest complete program on slm's public API.
 *
 * It does the two things slm is for:
 *   1. loads a generative model and streams a greedy continuation of a
 *      prompt, printing each piece of text the moment it is decoded;
 *   2. loads a sequence classifier and prints the label it gives a text,
 *      with its probability.
 *
 *   usage: hello_slm MODEL_DIR PROMPT N_TOKENS CLASSIFIER_DIR TEXT
 *   e.g.   hello_slm weights/stories260K "Once upon a time" 40 weights/router "What is Python?"
 *
 * Output (stdout): the prompt and its continuation, a newline, then one line
 * "LABEL PROBABILITY" (e.g. "SIMPLE 0.971069"). The first part is exactly what
 * `slm run -m MODEL_DIR -p PROMPT -n N_TOKENS --temp 0` prints on stdout.
 * Any failure prints one line on stderr and exits with status 1 (2 for bad
 * arguments).
 *
 * Only <slm.h> and the C standard library are used: this file is also the
 * check that the public header is enough (tests/test_examples.c enforces it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"

/* Every slm call that can fail returns an slm_status and fills an slm_error
 * with one line saying what went wrong (file, tensor, field). */
static int fail(const char *what, const slm_error *err)
{
    fprintf(stderr, "hello_slm: %s: %s (%s)\n", what, err->msg, slm_status_name(err->status));
    return 1;
}

/* Called by slm_generate once per new token with the text it adds. The text
 * may be empty (a token that is half of a UTF-8 character is held back until
 * the character is complete); id is -1 for a last call carrying such a tail.
 * Returning false would stop the generation early. */
static bool print_piece(void *user, int32_t id, const char *text, size_t len)
{
    (void)user;
    (void)id;
    fwrite(text, 1, len, stdout);
    fflush(stdout); /* show it now, not when the buffer fills */
    return true;
}

/* Part 1: prompt -> tokens -> streamed greedy continuation. */
static int generate(const char *model_dir, const char *prompt, int n_tokens)
{
    slm_error err = {0};
    slm_model *model = NULL;
    slm_session *session = NULL;
    slm_tokens ids = {0};
    int rc = 1;

    /* Default options: weights read into memory as the file stores them,
     * all cores, an f32 KV cache. */
    slm_load_options opts = slm_load_options_default();
    if (slm_model_load(model_dir, &opts, &model, &err) != SLM_OK) {
        rc = fail("cannot load the model", &err);
        goto done;
    }

    /* The prompt's token ids; `true` adds the special tokens the tokenizer
     * asks for (BOS for Llama models), as Hugging Face's add_special_tokens. */
    if (slm_tokenize(slm_model_tokenizer(model), prompt, strlen(prompt), true, &ids, &err) !=
        SLM_OK) {
        rc = fail("tokenize", &err);
        goto done;
    }

    /* A session holds one sequence's KV cache; 0 = the model's full context. */
    if (slm_session_new(model, 0, &session, &err) != SLM_OK) {
        rc = fail("session", &err);
        goto done;
    }

    slm_generate_params params = {
        .max_new_tokens = n_tokens,
        .sampling = slm_sampler_params_default(),
        .on_token = print_piece,
        .user = NULL,
        /* we print the prompt ourselves; the reply continues its text (so the
         * space before the first generated word is kept) */
        .continue_text = true,
    };
    params.sampling.temperature = 0; /* greedy: always the most likely token */

    fputs(prompt, stdout);
    slm_generate_stats stats;
    if (slm_generate(session, ids.ids, ids.n, &params, &stats, &err) != SLM_OK) {
        rc = fail("generate", &err);
        goto done;
    }
    fputc('\n', stdout);
    rc = 0;

done:
    /* every *_free accepts NULL, so one exit path frees whatever was made */
    slm_tokens_free(&ids);
    slm_session_free(session);
    slm_model_free(model);
    return rc;
}

/* Part 2: text -> label and probability. */
static int classify(const char *classifier_dir, const char *text)
{
    slm_error err = {0};
    slm_model *model = NULL;
    float *probs = NULL;
    int rc = 1;

    slm_load_options opts = slm_load_options_default();
    if (slm_model_load(classifier_dir, &opts, &model, &err) != SLM_OK) {
        rc = fail("cannot load the classifier", &err);
        goto done;
    }
    int n_labels = slm_model_n_labels(model);
    if (n_labels == 0) {
        fprintf(stderr, "hello_slm: %s is not a sequence classifier (no id2label)\n",
                classifier_dir);
        goto done;
    }

    /* slm_classify takes a batch of texts; here a batch of one. probs gets
     * n_texts x n_labels softmax probabilities. */
    probs = malloc((size_t)n_labels * sizeof *probs);
    if (!probs) {
        fprintf(stderr, "hello_slm: out of memory\n");
        goto done;
    }
    const char *texts[1] = {text};
    if (slm_classify(model, texts, 1, probs, NULL, NULL, &err) != SLM_OK) {
        rc = fail("classify", &err);
        goto done;
    }

    int best = 0;
    for (int i = 1; i < n_labels; i++)
        if (probs[i] > probs[best])
            best = i;
    printf("%s %.6f\n", slm_model_label(model, best), probs[best]);
    rc = 0;

done:
    free(probs);
    slm_model_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: hello_slm MODEL_DIR PROMPT N_TOKENS CLASSIFIER_DIR TEXT\n");
        return 2;
    }
    char *end;
    long n_tokens = strtol(argv[3], &end, 10);
    if (end == argv[3] || *end != '\0' || n_tokens < 1 || n_tokens > 100000) {
        fprintf(stderr, "hello_slm: N_TOKENS must be a number from 1 to 100000, not '%s'\n",
                argv[3]);
        return 2;
    }
    int rc = generate(argv[1], argv[2], (int)n_tokens);
    if (rc == 0)
        rc = classify(argv[4], argv[5]);
    return rc;
}
