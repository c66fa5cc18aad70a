/* formats.c — names of the weight and KV-cache formats of slm_load_options. */
#include <string.h>

#include "slm.h"

static const char *const weights_names[] = {"auto", "f32", "f16", "bf16", "q8_0", "q4_0"};
static const char *const kv_names[] = {"f32", "f16", "q8"};

#define COUNT(a) (sizeof a / sizeof a[0])

bool slm_weights_format_parse(const char *name, slm_weights_format *out)
{
    for (size_t i = 0; i < COUNT(weights_names); i++)
        if (strcmp(name, weights_names[i]) == 0) {
            *out = (slm_weights_format)i;
            return true;
        }
    return false;
}

bool slm_kv_format_parse(const char *name, slm_kv_format *out)
{
    for (size_t i = 0; i < COUNT(kv_names); i++)
        if (strcmp(name, kv_names[i]) == 0) {
            *out = (slm_kv_format)i;
            return true;
        }
    return false;
}

const char *slm_weights_format_name(slm_weights_format f)
{
    return (size_t)f < COUNT(weights_names) ? weights_names[f] : "?";
}

const char *slm_kv_format_name(slm_kv_format f)
{
    return (size_t)f < COUNT(kv_names) ? kv_names[f] : "?";
}
