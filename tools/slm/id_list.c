/* id_list.c — see id_list.h. */
#include "id_list.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"

static bool is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r';
}

/* How much of a bad item a message quotes: enough to recognise it. */
enum { QUOTE_MAX = 24 };

slm_status cli_parse_id_list(const char *s, int64_t limit, const char *what, slm_tokens *out,
                             slm_error *err)
{
    if (limit > (int64_t)INT32_MAX + 1)
        limit = (int64_t)INT32_MAX + 1;
    size_t found = 0;
    for (const char *p = s; *p;) {
        if (is_separator(*p)) {
            p++;
            continue;
        }
        size_t len = 0;
        while (p[len] && !is_separator(p[len]))
            len++;
        int quote = len > QUOTE_MAX ? QUOTE_MAX : (int)len;
        const char *more = len > QUOTE_MAX ? "..." : "";
        bool negative = p[0] == '-' && len > 1;
        int64_t v = 0;
        size_t i = negative;
        /* digits only (no sign, spaces or hex); stop accumulating once past
           the limit so a long run of digits cannot overflow */
        for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
            if (v < limit)
                v = v * 10 + (p[i] - '0');
        if (i != len || len == (size_t)negative)
            return slm_fail(err, SLM_ERR_INVALID_ARG,
                            "'%.*s%s' is not a token id (ids are decimal integers separated by "
                            "spaces or commas)", quote, p, more);
        if (negative || v >= limit)
            return slm_fail(err, SLM_ERR_RANGE,
                            "token id %.*s%s is out of the range [0, %" PRId64 ") of %s", quote,
                            p, more, limit, what);
        if (slm_tokens_push(out, (int32_t)v) != SLM_OK)
            return slm_fail_nomem(err, "token ids");
        found++;
        p += len;
    }
    if (found == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "no token ids in '%.*s%s'",
                        strlen(s) > QUOTE_MAX ? QUOTE_MAX : (int)strlen(s), s,
                        strlen(s) > QUOTE_MAX ? "..." : "");
    return SLM_OK;
}
