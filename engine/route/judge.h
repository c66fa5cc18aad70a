/*
 * judge.h — how `slm eval` compares a local answer with the remote one:
 * exact match for short label-like answers, token F1 otherwise, and with
 * --judge the remote model's 1-10 grade from the prompt kept here.
 */
#ifndef SLM_ROUTE_JUDGE_H
#define SLM_ROUTE_JUDGE_H

#include <stdbool.h>

/* Answers of at most this many words on both sides are compared exactly. */
#define SLM_AGREE_SHORT_WORDS 3

/* 1 or 0 for short answers (case, surrounding punctuation and spaces
 * ignored), else the F1 of their lowercase word multisets; *exact (may be
 * NULL) tells which was used. */
double slm_agreement(const char *a, const char *b, bool *exact);

/* The judge's prompt for question / reference (remote) / candidate (local);
 * malloc'd. */
char *slm_judge_prompt(const char *question, const char *reference, const char *candidate);
/* The grade in the judge's reply ("Grade: 7" or the first integer 1..10);
 * -1 when there is none. */
int slm_judge_parse_grade(const char *reply);

#endif /* SLM_ROUTE_JUDGE_H */
