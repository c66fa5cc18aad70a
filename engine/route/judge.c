/*
 * judge.c — answer agreement and the LLM-as-judge prompt (see judge.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "judge.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The judge prompt: the remote model grades the local answer against its
 * own. Kept short and explicit about the output format so the grade parses. */
static const char judge_template[] =
    "You are grading an answer from a small model against a reference answer from a large "
    "model.\n"
    "Question:\n%s\n\n"
    "Reference answer:\n%s\n\n"
    "Candidate answer:\n%s\n\n"
    "On a scale of 1 (useless or wrong) to 10 (as good as the reference), how well does the "
    "candidate answer the question? Reply with one line: \"Grade: N\" and nothing else.";

char *slm_judge_prompt(const char *q, const char *ref, const char *cand)
{
    size_t n = sizeof judge_template + strlen(q) + strlen(ref) + strlen(cand);
    char *s = malloc(n);
    if (s)
        snprintf(s, n, judge_template, q, ref, cand);
    return s;
}

int slm_judge_parse_grade(const char *reply)
{
    const char *g = strstr(reply, "Grade:");
    const char *p = g ? g + 6 : reply;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            long v = strtol(p, NULL, 10);
            if (v >= 1 && v <= 10)
                return (int)v;
            if (g)
                return -1;
            while (isdigit((unsigned char)p[1]))
                p++;
        }
    }
    return -1;
}

/* Lowercase alphanumeric words of s, at most max of them. */
static int words(const char *s, char (*out)[32], int max)
{
    int n = 0;
    while (*s && n < max) {
        while (*s && !isalnum((unsigned char)*s))
            s++;
        if (!*s)
            break;
        int l = 0;
        while (isalnum((unsigned char)*s)) {
            if (l < 31)
                out[n][l++] = (char)tolower((unsigned char)*s);
            s++;
        }
        out[n++][l] = '\0';
    }
    return n;
}

#define MAX_WORDS 2048

double slm_agreement(const char *a, const char *b, bool *exact)
{
    char (*wa)[32] = malloc(sizeof(char[32]) * MAX_WORDS);
    char (*wb)[32] = malloc(sizeof(char[32]) * MAX_WORDS);
    char *used = calloc(MAX_WORDS, 1);
    double r = 0;
    if (!wa || !wb || !used)
        goto done;
    int na = words(a, wa, MAX_WORDS), nb = words(b, wb, MAX_WORDS);
    bool short_ = na <= SLM_AGREE_SHORT_WORDS && nb <= SLM_AGREE_SHORT_WORDS;
    if (exact)
        *exact = short_;
    if (short_) {
        r = na == nb ? 1 : 0;
        for (int i = 0; r && i < na; i++)
            if (strcmp(wa[i], wb[i]) != 0)
                r = 0;
        goto done;
    }
    if (na == 0 || nb == 0)
        goto done;
    int common = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (!used[j] && strcmp(wa[i], wb[j]) == 0) {
                used[j] = 1;
                common++;
                break;
            }
    if (common > 0) {
        double p = (double)common / na, rc = (double)common / nb;
        r = 2 * p * rc / (p + rc);
    }
done:
    free(wa);
    free(wb);
    free(used);
    return r;
}
