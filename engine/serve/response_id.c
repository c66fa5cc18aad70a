/*
 * response_id.c — random-keyed response ids (see response_id.h).
 */
#define _GNU_SOURCE /* getrandom */
#include "response_id.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/random.h>
#endif

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Fills buf from the kernel; false when no random source could be read. */
static bool read_random(unsigned char *buf, size_t n)
{
    size_t got = 0;
#if defined(__linux__)
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return true;
#endif
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f)
        return false;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Last resort only: distinct per process and per source, not secret. */
static void fallback_bytes(slm_response_id_source *src, unsigned char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    s ^= (uint64_t)getpid() << 32;
    s ^= (uint64_t)(uintptr_t)src;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)splitmix64(&s);
}

void slm_response_id_source_init(slm_response_id_source *src)
{
    /* Rejection sampling keeps the characters uniform: bytes >= 248
     * (= 4 * 62) are dropped. 64 bytes give 22 accepted ones with
     * overwhelming probability; the loop draws more when they do not. */
    size_t len = 0;
    while (len < SLM_RESPONSE_ID_KEY_LEN) {
        unsigned char buf[64];
        if (!read_random(buf, sizeof buf))
            fallback_bytes(src, buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf && len < SLM_RESPONSE_ID_KEY_LEN; i++)
            if (buf[i] < 248)
                src->key[len++] = BASE62[buf[i] % 62];
    }
    src->key[len] = '\0';
    atomic_init(&src->next, 0);
}

char *slm_response_id_make(slm_response_id_source *src, const char *prefix, char *out, size_t cap)
{
    unsigned long long n = atomic_fetch_add(&src->next, 1);
    char digits[16]; /* 62^11 > 2^64 */
    int d = 0;
    do {
        digits[d++] = BASE62[n % 62];
        n /= 62;
    } while (n > 0 || d < SLM_RESPONSE_ID_COUNTER_LEN);
    char counter[sizeof digits + 1];
    for (int i = 0; i < d; i++)
        counter[i] = digits[d - 1 - i];
    counter[d] = '\0';
    snprintf(out, cap, "%s-%s%s", prefix, src->key, counter);
    return out;
}
