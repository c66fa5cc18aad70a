/*
 * sampling.h — the sampling and stop-string options of `slm run` and
 * `slm chat`: what the user gave, merged after the model is loaded with the
 * defaults of its generation_config.json (as transformers' generate does),
 * then slm's own; and the seed, drawn at random unless given.
 */
#ifndef SLM_CLI_SAMPLING_H
#define SLM_CLI_SAMPLING_H

#include <stdbool.h>
#include <stddef.h>

#include "slm.h"

typedef struct {
    slm_sampler_params params;
    unsigned user_set; /* SLM_SAMPLING_* bits of the options given */
    bool seed_given;   /* --seed S with S >= 0 */
} cli_sampling;

/* slm's defaults, nothing given yet. */
cli_sampling cli_sampling_init(void);

/* --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --seed:
 * returns 1 if argv[*i] was one (its value consumed), 0 if not, -1 after
 * printing a usage error naming `verb`. */
int cli_sampling_option(const char *verb, int argc, char **argv, int *i, cli_sampling *s);

/* After loading: every field the user did not give takes the model's
 * generation_config.json value when it has one; the seed is drawn at random
 * unless --seed S was given. */
void cli_sampling_resolve(cli_sampling *s, const slm_model *model);

/* True when tokens are drawn at random (temperature > 0), so the seed
 * matters and is printed with the stats. */
bool cli_sampling_is_random(const cli_sampling *s);

#define CLI_SAMPLING_HELP                                                                    \
    "  --temp T             temperature; 0 = greedy (default 0.8)\n"                         \
    "  --top-k K            keep the K most likely tokens; 0 = off (default 40)\n"           \
    "  --top-p P            nucleus sampling; 1 = off (default 0.95)\n"                      \
    "  --min-p P            drop tokens below P x the top probability; 0 = off (default 0.05)\n" \
    "  --repeat-penalty R   repetition penalty; 1 = off (default 1.0)\n"                     \
    "  --repeat-last-n N    tokens the penalty looks back; -1 = all (default 64)\n"          \
    "  --seed S             random seed; -1 = random (default), printed with the stats\n"    \
    "                       The model folder's generation_config.json replaces the defaults\n" \
    "                       above with what it sets (temperature, top_k, top_p,\n"           \
    "                       repetition_penalty; do_sample false = greedy), as transformers\n" \
    "                       does; the options given here win over it.\n"

/* --stop TEXT, repeatable (slm_generate_params.stop); with reverse_prompts
 * also -r/--reverse-prompt TEXT, a stop string that is printed (llama-cli's
 * reverse prompt in a non-interactive run). Same contract as
 * cli_sampling_option; an empty TEXT or more than CLI_MAX_STOP of them is a
 * usage error. The strings are argv's. */
#define CLI_MAX_STOP 16
typedef struct {
    const char *items[CLI_MAX_STOP];
    bool printed[CLI_MAX_STOP]; /* a reverse prompt: shown when it ends the text */
    size_t n;
} cli_stops;
int cli_stop_option(const char *verb, int argc, char **argv, int *i, bool reverse_prompts,
                    cli_stops *stops);
#define CLI_STOP_HELP                                                                        \
    "  --stop TEXT          end the reply where TEXT first appears, TEXT not printed\n"       \
    "                       (repeatable, up to 16)\n"
#define CLI_REVERSE_PROMPT_HELP                                                              \
    "  -r, --reverse-prompt TEXT\n"                                                          \
    "                       end the text where TEXT first appears, TEXT printed (as\n"       \
    "                       llama-cli; counts towards the 16 --stop texts)\n"

#endif
