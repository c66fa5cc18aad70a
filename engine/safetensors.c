/*
 * safetensors.c — parsing, validation and data mapping of .safetensors files
 * (format and guarantees in safetensors.h).
 */
#define _GNU_SOURCE
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "path_kind.h"

/* One opened file: its data section, mapped or read in. */
typedef struct {
    char *path;
    void *map;          /* what munmap releases */
    size_t map_len;
    const uint8_t *data; /* start of the data section */
    size_t data_len;
} st_file;

/* One "__metadata__" string pair; seq orders them across files, so the
   latest file's value of a key wins. */
typedef struct {
    char *key, *value;
    size_t seq;
} st_meta;

struct slm_safetensors {
    st_file *files;
    size_t n_files;
    slm_tensor *tensors; /* sorted by name for lookup */
    size_t n_tensors;
    size_t cap_tensors;
    st_meta *meta;       /* every file's string pairs; sorted by key, one per key, by finish() */
    size_t n_meta, cap_meta;
};

/* ============================================================ helpers */

const char *slm_shape_str(const int64_t *shape, int n_dims, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n_dims && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
    return buf;
}

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const slm_tensor *)a)->name, ((const slm_tensor *)b)->name);
}

/* By start, then end: the order in which overlaps show between neighbours. */
static int cmp_tensor_span(const void *a, const void *b)
{
    const slm_tensor *x = a, *y = b;
    const uint8_t *px = x->data, *py = y->data;
    if (px != py)
        return px < py ? -1 : 1;
    return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes;
}

/* Grows an array of *cap elements of `size` bytes to hold one more. */
static bool grow(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, ncap * size);
    if (!p)
        return false;
    *items = p;
    *cap = ncap;
    return true;
}

static slm_status push_tensor(slm_safetensors *st, slm_tensor *t, slm_error *err)
{
    if (!grow((void **)&st->tensors, st->n_tensors, &st->cap_tensors, sizeof *st->tensors))
        return slm_fail_nomem(err, "tensor table");
    st->tensors[st->n_tensors++] = *t;
    return SLM_OK;
}

/* ============================================================ reading a file */

/* Reads exactly len bytes at offset off. */
static slm_status pread_all(int fd, void *buf, size_t len, off_t off, const char *path,
                            slm_error *err)
{
    uint8_t *p = buf;
    while (len > 0) {
        size_t chunk = len < (1u << 30) ? len : (1u << 30);
        ssize_t got = pread(fd, p, chunk, off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return slm_fail(err, SLM_ERR_IO, "%s: read failed: %s", path,
                            got < 0 ? strerror(errno) : "unexpected end of file");
        p += got;
        off += got;
        len -= (size_t)got;
    }
    return SLM_OK;
}

/* Maps or reads the data section [off, off+len) of the file. */
static slm_status load_data(st_file *f, int fd, size_t file_len, size_t off, bool use_mmap,
                            slm_error *err)
{
    size_t len = file_len - off;
    f->data_len = len;
    if (use_mmap) {
        void *m = mmap(NULL, file_len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            return slm_fail(err, SLM_ERR_IO, "%s: mmap failed: %s", f->path, strerror(errno));
        f->map = m;
        f->map_len = file_len;
        f->data = (const uint8_t *)m + off;
        return SLM_OK;
    }
    /* Anonymous memory is page aligned; huge pages cut TLB misses when
       decode streams every weight once per token. */
    size_t alloc = len ? len : 1;
    void *m = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return slm_fail(err, SLM_ERR_NOMEM, "%s: cannot allocate %zu bytes for tensor data",
                        f->path, len);
#ifdef MADV_HUGEPAGE
    madvise(m, alloc, MADV_HUGEPAGE);
#endif
    f->map = m;
    f->map_len = alloc;
    f->data = m;
    return pread_all(fd, m, len, (off_t)off, f->path, err);
}

void slm_safetensors_release(const slm_tensor *t)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)t->data, b = a + t->n_bytes;
    uintptr_t lo = (a + page - 1) / page * page, hi = b / page * page; /* pages of t alone */
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* ============================================================ header validation */

static slm_status parse_shape(const cJSON *shape, slm_tensor *t, const char *path,
                              slm_error *err)
{
    if (!cJSON_IsArray(shape))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': \"shape\" is not an array", path,
                        t->name);
    int n = cJSON_GetArraySize(shape);
    if (n > SLM_MAX_DIMS)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d)", path,
                        t->name, n, SLM_MAX_DIMS);
    t->n_dims = n;
    size_t count = 1;
    for (int i = 0; i < n; i++) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        double v = cJSON_IsNumber(d) ? d->valuedouble : -1;
        /* range first: casting a double outside int64 is undefined */
        if (!(v >= 0 && v <= 9.0e15) || v != (double)(int64_t)v)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: tensor '%s': shape entry %d is not a non-negative integer", path,
                            t->name, i);
        t->shape[i] = (int64_t)v;
        if (t->shape[i] != 0 && count > SIZE_MAX / (size_t)t->shape[i])
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': shape overflows", path,
                            t->name);
        count *= (size_t)t->shape[i];
    }
    t->n_elements = count;
    return SLM_OK;
}

static slm_status parse_offsets(const cJSON *offs, size_t *begin, size_t *end, const char *path,
                                const char *name, slm_error *err)
{
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: tensor '%s': \"data_offsets\" must be [begin, end]", path, name);
    double v[2];
    for (int i = 0; i < 2; i++) {
        const cJSON *o = cJSON_GetArrayItem(offs, i);
        v[i] = cJSON_IsNumber(o) ? o->valuedouble : -1;
        if (!(v[i] >= 0 && v[i] <= 9.0e15) || v[i] != (double)(int64_t)v[i])
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets are not non-negative integers", path,
                            name);
    }
    *begin = (size_t)v[0];
    *end = (size_t)v[1];
    if (*begin > *end)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': data_offsets begin %zu > end %zu",
                        path, name, *begin, *end);
    return SLM_OK;
}

/* Validates one header entry against the data section and builds the tensor. */
static slm_status parse_entry(const cJSON *e, const st_file *f, slm_tensor *t, slm_error *err)
{
    const char *path = f->path;
    if (!cJSON_IsObject(e))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path,
                        t->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': missing \"dtype\"", path, t->name);
    if (slm_dtype_parse(dt->valuestring, &t->dtype) != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype '%s'", path,
                        t->name, dt->valuestring);
    SLM_TRY(parse_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), t, path, err));
    size_t begin = 0, end = 0;
    SLM_TRY(parse_offsets(cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), &begin, &end, path,
                          t->name, err));
    size_t esize = slm_dtype_size(t->dtype);
    if (t->n_elements > SIZE_MAX / esize)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s': size overflows", path, t->name);
    t->n_bytes = t->n_elements * esize;
    if (end - begin != t->n_bytes) {
        char sbuf[128];
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets span %zu bytes but %s %s needs %zu", path,
                        t->name, end - begin, dt->valuestring,
                        slm_shape_str(t->shape, t->n_dims, sbuf, sizeof sbuf), t->n_bytes);
    }
    if (end > f->data_len)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: tensor '%s': data [%zu, %zu) lies outside the data section "
                        "(%zu bytes; file truncated?)",
                        path, t->name, begin, end, f->data_len);
    t->data = f->data + begin;
    t->file = f->path;
    return SLM_OK;
}

/* Checks that the tensors of one file do not overlap. Zero-size tensors hold
   no bytes, so they may sit at any in-bounds offset, even inside another
   tensor (the format allows it). */
static slm_status check_overlap(slm_safetensors *st, size_t first, const char *path,
                                slm_error *err)
{
    size_t n = st->n_tensors - first;
    if (n < 2) /* the table may be NULL: no qsort on it, no offset from it */
        return SLM_OK;
    slm_tensor *ts = st->tensors + first;
    qsort(ts, n, sizeof *ts, cmp_tensor_span);
    const slm_tensor *prev = NULL; /* the non-empty tensor reaching furthest so far */
    for (size_t i = 0; i < n; i++) {
        if (ts[i].n_bytes == 0)
            continue;
        if (prev && (const uint8_t *)ts[i].data < (const uint8_t *)prev->data + prev->n_bytes)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", path,
                            prev->name, ts[i].name);
        prev = &ts[i];
    }
    return SLM_OK;
}

/* Keeps the header's string pairs (other value types are ignored, as the
   format says values are strings); finish() sorts them for lookup. */
static slm_status merge_metadata(slm_safetensors *st, const cJSON *meta, const char *path,
                                 slm_error *err)
{
    if (!cJSON_IsObject(meta))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"__metadata__\" is not an object", path);
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            continue;
        if (!grow((void **)&st->meta, st->n_meta, &st->cap_meta, sizeof *st->meta))
            return slm_fail_nomem(err, "metadata");
        st_meta *m = &st->meta[st->n_meta];
        m->key = strdup(e->string);
        m->value = strdup(e->valuestring);
        m->seq = st->n_meta;
        if (!m->key || !m->value) {
            free(m->key);
            free(m->value);
            return slm_fail_nomem(err, "metadata");
        }
        st->n_meta++;
    }
    return SLM_OK;
}

static slm_status parse_header(slm_safetensors *st, const st_file *f, const char *json_text,
                               size_t json_len, slm_error *err)
{
    cJSON *root;
    SLM_TRY(slm_json_parse(json_text, json_len, f->path, &root, err));
    slm_status s = SLM_OK;
    size_t first = st->n_tensors;
    if (!cJSON_IsObject(root))
        s = slm_fail(err, SLM_ERR_FORMAT, "%s: header is not a JSON object", f->path);
    for (const cJSON *e = root->child; s == SLM_OK && e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            s = merge_metadata(st, e, f->path, err);
            continue;
        }
        slm_tensor t = {0};
        t.name = strdup(e->string);
        if (!t.name) {
            s = slm_fail_nomem(err, "tensor name");
            break;
        }
        s = parse_entry(e, f, &t, err);
        if (s == SLM_OK)
            s = push_tensor(st, &t, err);
        if (s != SLM_OK)
            free(t.name);
    }
    cJSON_Delete(root);
    if (s == SLM_OK)
        s = check_overlap(st, first, f->path, err);
    return s;
}

/* ============================================================ opening */

/* Appends an empty file record named path. */
static slm_status new_file(slm_safetensors *st, const char *path, st_file **out, slm_error *err)
{
    st_file *nf = realloc(st->files, (st->n_files + 1) * sizeof *nf);
    if (!nf)
        return slm_fail_nomem(err, "file table");
    st->files = nf;
    st_file *f = &st->files[st->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return slm_fail_nomem(err, "path");
    st->n_files++;
    *out = f;
    return SLM_OK;
}

/* The u64 little-endian header length, checked against the file and the cap. */
static slm_status header_length(const uint8_t lenbuf[8], size_t file_len, const char *path,
                                size_t *out, slm_error *err)
{
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | lenbuf[i];
    if (hlen > file_len - 8 || hlen > SLM_SAFETENSORS_MAX_HEADER)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: header length %llu exceeds the file (%zu bytes) or the %u-byte cap",
                        path, (unsigned long long)hlen, file_len, SLM_SAFETENSORS_MAX_HEADER);
    *out = (size_t)hlen;
    return SLM_OK;
}

static slm_status check_file_length(size_t file_len, const char *path, slm_error *err)
{
    if (file_len < 8)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: file too short (%zu bytes) for a safetensors header", path, file_len);
    return SLM_OK;
}

/* Reads header and data of an open file into f, then its tensors into st. */
static slm_status read_file(slm_safetensors *st, st_file *f, int fd, bool use_mmap,
                            slm_error *err)
{
    const char *path = f->path;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return slm_fail(err, SLM_ERR_IO, "%s: is %s, not a safetensors file", path,
                        S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
    size_t file_len = (size_t)sb.st_size, hlen;
    uint8_t lenbuf[8];
    SLM_TRY(check_file_length(file_len, path, err));
    SLM_TRY(pread_all(fd, lenbuf, 8, 0, path, err));
    SLM_TRY(header_length(lenbuf, file_len, path, &hlen, err));
    char *header = malloc(hlen + 1);
    if (!header)
        return slm_fail_nomem(err, "safetensors header");
    slm_status s = pread_all(fd, header, hlen, 8, path, err);
    if (s == SLM_OK)
        s = load_data(f, fd, file_len, 8 + hlen, use_mmap, err);
    if (s == SLM_OK)
        s = parse_header(st, f, header, hlen, err);
    free(header);
    return s;
}

/* Opens one file and appends its tensors to st. */
static slm_status add_file(slm_safetensors *st, const char *path, bool use_mmap, slm_error *err)
{
    st_file *f;
    SLM_TRY(new_file(st, path, &f, err));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    slm_status s = read_file(st, f, fd, use_mmap, err);
    close(fd);
    return s;
}

/* The same for a file held in memory (nothing to map or free: the data
   section stays the caller's). */
static slm_status add_memory(slm_safetensors *st, const char *name, const uint8_t *bytes,
                             size_t len, slm_error *err)
{
    st_file *f;
    size_t hlen;
    SLM_TRY(new_file(st, name, &f, err));
    SLM_TRY(check_file_length(len, name, err));
    SLM_TRY(header_length(bytes, len, name, &hlen, err));
    f->data = bytes + 8 + hlen;
    f->data_len = len - 8 - hlen;
    return parse_header(st, f, (const char *)bytes + 8, hlen, err);
}

static int cmp_meta(const void *a, const void *b)
{
    const st_meta *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->seq > y->seq ? -1 : x->seq < y->seq; /* latest first */
}

/* Sorts the metadata by key and keeps the latest value of each. */
static void index_metadata(slm_safetensors *st)
{
    if (st->n_meta < 2)
        return;
    qsort(st->meta, st->n_meta, sizeof *st->meta, cmp_meta);
    size_t kept = 1;
    for (size_t i = 1; i < st->n_meta; i++) {
        if (strcmp(st->meta[i].key, st->meta[kept - 1].key) == 0) {
            free(st->meta[i].key);
            free(st->meta[i].value);
        } else {
            st->meta[kept++] = st->meta[i];
        }
    }
    st->n_meta = kept;
}

/* Sorts by name and refuses duplicates (within a header cJSON keeps both);
   O(n log n) whatever the count. */
static slm_status finish(slm_safetensors *st, slm_error *err)
{
    index_metadata(st);
    if (st->n_tensors < 2)
        return SLM_OK;
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, cmp_tensor_name);
    for (size_t i = 1; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' is defined twice (also in %s)",
                            st->tensors[i].file, st->tensors[i].name, st->tensors[i - 1].file);
    return SLM_OK;
}

/* How an index's shards are opened: from the folder, or (tests, fuzzing)
   all from one buffer. */
typedef struct {
    const char *dir;
    bool use_mmap;
    const uint8_t *bytes;
    size_t len;
} shard_source;

static slm_status open_shard(slm_safetensors *st, const shard_source *src, const char *name,
                             slm_error *err)
{
    if (!src->dir)
        return add_memory(st, name, src->bytes, src->len, err);
    char *shard = slm_path_join(src->dir, name);
    slm_status s = shard ? add_file(st, shard, src->use_mmap, err) : slm_fail_nomem(err, "path");
    free(shard);
    return s;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A shard name must name a file of the folder, not a path out of it. */
static bool is_file_name(const char *s)
{
    return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Opens each distinct shard named by the index's weight_map once, in name
   order: the names are sorted and deduplicated (entries repeat the few
   shard names many times; comparing each to all before it was O(n^2)). */
static slm_status open_shards(slm_safetensors *st, const shard_source *src,
                              const char *index_path, const cJSON *map, slm_error *err)
{
    size_t n = 0;
    for (const cJSON *e = map->child; e; e = e->next, n++)
        if (!cJSON_IsString(e) || !is_file_name(e->valuestring))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name",
                            index_path, e->string);
    const char **names = malloc(n * sizeof *names);
    if (!names)
        return slm_fail_nomem(err, "shard names");
    n = 0;
    for (const cJSON *e = map->child; e; e = e->next)
        names[n++] = e->valuestring;
    qsort(names, n, sizeof *names, cmp_str_ptr);
    slm_status s = SLM_OK;
    for (size_t i = 0; s == SLM_OK && i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            s = open_shard(st, src, names[i], err);
    free(names);
    return s;
}

/* Every tensor the index lists must be in the shard it names. */
static slm_status check_listed(const slm_safetensors *st, const char *index_path,
                               const cJSON *map, slm_error *err)
{
    for (const cJSON *e = map->child; e; e = e->next) {
        const slm_tensor *t = slm_safetensors_find(st, e->string);
        if (!t)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' is listed but not in %s",
                            index_path, e->string, e->valuestring);
        const char *base = strrchr(t->file, '/');
        if (strcmp(base ? base + 1 : t->file, e->valuestring) != 0)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' is listed in %s but is in %s",
                            index_path, e->string, e->valuestring, t->file);
    }
    return SLM_OK;
}

static slm_status read_index(slm_safetensors *st, const shard_source *src, const char *index_path,
                             const cJSON *root, slm_error *err)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map) || !map->child)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: missing or empty \"weight_map\" object",
                        index_path);
    SLM_TRY(open_shards(st, src, index_path, map, err));
    SLM_TRY(finish(st, err));
    return check_listed(st, index_path, map, err);
}

/* Parses the index text and opens what it lists into a new st. */
static slm_status open_index(const char *text, size_t len, const char *index_path,
                             const shard_source *src, slm_safetensors **out, slm_error *err)
{
    *out = NULL;
    slm_safetensors *st = calloc(1, sizeof *st);
    if (!st)
        return slm_fail_nomem(err, "safetensors");
    cJSON *root;
    slm_status s = slm_json_parse(text, len, index_path, &root, err);
    if (s == SLM_OK) {
        s = read_index(st, src, index_path, root, err);
        cJSON_Delete(root);
    }
    if (s != SLM_OK) {
        slm_safetensors_free(st);
        return s;
    }
    *out = st;
    return SLM_OK;
}

static slm_status open_index_file(const char *dir, const char *index_path, bool use_mmap,
                                  slm_safetensors **out, slm_error *err)
{
    char *text;
    size_t len;
    SLM_TRY(slm_read_file_capped(index_path, slm_json_limit(index_path), &text, &len, err));
    shard_source src = {.dir = dir, .use_mmap = use_mmap};
    slm_status s = open_index(text, len, index_path, &src, out, err);
    free(text);
    return s;
}

/* Opens one file, or one buffer (path NULL), as a whole slm_safetensors. */
static slm_status open_one(const char *path, bool use_mmap, const char *name,
                           const uint8_t *bytes, size_t len, slm_safetensors **out,
                           slm_error *err)
{
    *out = NULL;
    slm_safetensors *st = calloc(1, sizeof *st);
    if (!st)
        return slm_fail_nomem(err, "safetensors");
    slm_status s = path ? add_file(st, path, use_mmap, err) : add_memory(st, name, bytes, len, err);
    if (s == SLM_OK)
        s = finish(st, err);
    if (s != SLM_OK) {
        slm_safetensors_free(st);
        return s;
    }
    *out = st;
    return SLM_OK;
}

slm_status slm_safetensors_open(const char *path, bool use_mmap, slm_safetensors **out,
                                slm_error *err)
{
    return open_one(path, use_mmap, NULL, NULL, 0, out, err);
}

slm_status slm_safetensors_open_memory(const void *bytes, size_t len, const char *name,
                                       slm_safetensors **out, slm_error *err)
{
    return open_one(NULL, false, name, bytes, len, out, err);
}

slm_status slm_safetensors_open_index_memory(const char *index_text, size_t index_len,
                                             const char *index_name, const void *shard,
                                             size_t shard_len, slm_safetensors **out,
                                             slm_error *err)
{
    shard_source src = {.bytes = shard, .len = shard_len};
    return open_index(index_text, index_len, index_name, &src, out, err);
}

/* Neither weights file is there as a file: say what each path is. */
static slm_status no_weights(const char *dir, const char *single, const char *index,
                             slm_error *err)
{
    const char *dir_kind = slm_path_kind(dir);
    if (!dir_kind)
        return slm_fail(err, SLM_ERR_IO, "%s: no such model folder", dir);
    if (strcmp(dir_kind, "a directory") != 0)
        return slm_fail(err, SLM_ERR_IO, "%s: is %s, not a model folder", dir, dir_kind);
    const char *single_kind = slm_path_kind(single), *index_kind = slm_path_kind(index);
    if (single_kind)
        return slm_fail(err, SLM_ERR_IO, "%s: is %s, not a safetensors file", single,
                        single_kind);
    if (index_kind)
        return slm_fail(err, SLM_ERR_IO, "%s: is %s, not a JSON file", index, index_kind);
    return slm_fail(err, SLM_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json",
                    dir);
}

slm_status slm_safetensors_open_dir(const char *dir, bool use_mmap, slm_safetensors **out,
                                    slm_error *err)
{
    *out = NULL;
    char *single = slm_path_join(dir, "model.safetensors");
    char *index = slm_path_join(dir, "model.safetensors.index.json");
    slm_status s;
    if (!single || !index)
        s = slm_fail_nomem(err, "path");
    else if (slm_file_exists(single))
        s = slm_safetensors_open(single, use_mmap, out, err);
    else if (slm_file_exists(index))
        s = open_index_file(dir, index, use_mmap, out, err);
    else
        s = no_weights(dir, single, index, err);
    free(single);
    free(index);
    return s;
}

void slm_safetensors_free(slm_safetensors *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_tensors; i++)
        free(st->tensors[i].name);
    for (size_t i = 0; i < st->n_files; i++) {
        if (st->files[i].map)
            munmap(st->files[i].map, st->files[i].map_len);
        free(st->files[i].path);
    }
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->tensors);
    free(st->files);
    free(st->meta);
    free(st);
}

/* ============================================================ queries */

size_t slm_safetensors_count(const slm_safetensors *st) { return st->n_tensors; }

const slm_tensor *slm_safetensors_at(const slm_safetensors *st, size_t i)
{
    return i < st->n_tensors ? &st->tensors[i] : NULL;
}

const slm_tensor *slm_safetensors_find(const slm_safetensors *st, const char *name)
{
    if (st->n_tensors == 0) /* bsearch's base may be NULL then */
        return NULL;
    slm_tensor key = {.name = (char *)name};
    return bsearch(&key, st->tensors, st->n_tensors, sizeof key, cmp_tensor_name);
}

size_t slm_safetensors_data_bytes(const slm_safetensors *st)
{
    size_t total = 0;
    for (size_t i = 0; i < st->n_tensors; i++)
        total += st->tensors[i].n_bytes;
    return total;
}

static int cmp_meta_key(const void *key, const void *m)
{
    return strcmp(key, ((const st_meta *)m)->key);
}

const char *slm_safetensors_metadata(const slm_safetensors *st, const char *key)
{
    if (st->n_meta == 0)
        return NULL;
    const st_meta *m = bsearch(key, st->meta, st->n_meta, sizeof *st->meta, cmp_meta_key);
    return m ? m->value : NULL;
}
