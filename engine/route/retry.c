/*
 * retry.c — retry rules of the remote client (see retry.h). HTTP dates are
 * parsed by hand (three formats, GMT only) so the result does not depend on
 * the locale or the TZ variable.
 */
#include "retry.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool slm_retry_status(int s)
{
    return s == 408 || s == 409 || s == 429 || (s >= 500 && s <= 599);
}

double slm_backoff_seconds(int retry, double initial, double max, double u)
{
    if (retry < 0)
        retry = 0;
    double d = initial;
    for (int i = 0; i < retry && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    if (u < 0)
        u = 0;
    if (u >= 1)
        u = 0.999999;
    return d / 2 + d / 2 * u;
}

static bool parse_number(const char *v, double *out)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (!isdigit((unsigned char)*v))
        return false;
    char *end;
    double d = strtod(v, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end != '\0' || !isfinite(d) || d < 0)
        return false;
    *out = d;
    return true;
}

static int month_index(const char *m)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncmp(m, months[i], 3) == 0 && m[3] == '\0')
            return i;
    return -1;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
 * "Sun Nov  6 08:49:37 1994". */
static bool parse_http_date(const char *v, long long *out)
{
    char wd[16], mon[4];
    int d, y, hh, mm, ss;
    char tz[4];
    if (sscanf(v, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s", wd, &d, mon, &y, &hh, &mm, &ss, tz) == 8 &&
        strcmp(tz, "GMT") == 0) {
    } else if (sscanf(v, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s", wd, &d, mon, &y, &hh, &mm, &ss,
                      tz) == 8 &&
               strcmp(tz, "GMT") == 0) {
        y += y < 70 ? 2000 : 1900; /* RFC 9110: a two-digit year more than 50 years ahead is past */
    } else if (sscanf(v, "%15[A-Za-z] %3s %2d %2d:%2d:%2d %4d", wd, mon, &d, &hh, &mm, &ss, &y) != 7) {
        return false;
    }
    int m = month_index(mon);
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970)
        return false;
    *out = days_from_civil(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}

bool slm_parse_retry_after(const char *value, time_t now, double *seconds)
{
    if (!value)
        return false;
    if (parse_number(value, seconds))
        return true;
    long long t;
    while (*value == ' ')
        value++;
    if (!parse_http_date(value, &t))
        return false;
    *seconds = t > (long long)now ? (double)(t - (long long)now) : 0;
    return true;
}

bool slm_parse_retry_after_ms(const char *value, double *seconds)
{
    double ms;
    if (!value || !parse_number(value, &ms))
        return false;
    *seconds = ms / 1000.0;
    return true;
}

double slm_retry_wait(double hint, double hint_max, double backoff)
{
    if (hint < 0)
        return backoff;
    return hint > hint_max ? hint_max : hint;
}
