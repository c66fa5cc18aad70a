/*
 * report.c — route results as JSON and batch percentiles (see report.h).
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>

cJSON *slm_route_result_json(const slm_route_result *r, bool with_answer)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    ok = ok && cJSON_AddStringToObject(o, "route", slm_route_side_name(r->route));
    ok = ok && cJSON_AddBoolToObject(o, "fallback", r->fallback);
    ok = ok && cJSON_AddStringToObject(o, "reason", r->reason);
    if (ok && r->classified) {
        cJSON *c = cJSON_AddObjectToObject(o, "classifier");
        ok = c && cJSON_AddStringToObject(c, "label", r->label) &&
             cJSON_AddNumberToObject(c, "score", r->score);
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "classifier") != NULL;
    }
    if (ok && with_answer)
        ok = cJSON_AddStringToObject(o, "answer", r->answer ? r->answer : "") != NULL;
    cJSON *u = ok ? cJSON_AddObjectToObject(o, "usage") : NULL;
    ok = u && cJSON_AddNumberToObject(u, "prompt_tokens", r->prompt_tokens) &&
         cJSON_AddNumberToObject(u, "completion_tokens", r->completion_tokens);
    if (ok && r->usage_estimated)
        ok = cJSON_AddBoolToObject(u, "estimated", true) != NULL;
    ok = ok && cJSON_AddNumberToObject(o, "attempts", r->attempts);
    ok = ok && cJSON_AddNumberToObject(o, "latency_ms", round(r->latency_ms * 10) / 10);
    ok = ok && cJSON_AddNumberToObject(o, "cost_usd", r->cost_usd);
    ok = ok && cJSON_AddNumberToObject(o, "cost_if_remote_usd", r->cost_if_remote_usd);
    if (ok && !r->answered)
        ok = cJSON_AddStringToObject(o, "error", r->error) && cJSON_AddBoolToObject(o, "cut", r->cut);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double slm_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}
