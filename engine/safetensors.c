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

/* One opened file: its data section, mapped or read in. */
typedef struct {
    char *path;
    void *map;          /* what munmap releases */
    size_t map_len;
    const uint8_t *data; /* start of the data section */
    size_t data_len;
} st_file;

struct slm_safetensors {
    st_file *files;
    size_t n_files;
    slm_tensor *tensors; /* sorted by name for lookup */
    size_t n_tensors;
    cJSON *metadata;     /* the "__metadata__" string pairs of every file, merged */
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

static int cmp_tensor_span(const void *a, const void *b)
{
    const slm_tensor *x = a, *y = b;
    const uint8_t *px = x->data, *py = y->data;
    return px < py ? -1 : px > py;
}

static slm_status push_tensor(slm_safetensors *st, size_t *cap, slm_tensor *t, slm_error *err)
{
    if (st->n_tensors == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        slm_tensor *nt = realloc(st->tensors, ncap * sizeof *nt);
        if (!nt)
            return slm_fail_nomem(err, "tensor table");
        st->tensors = nt;
        *cap = ncap;
    }
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
        if (v < 0 || v != (double)(int64_t)v || v > 9.0e15)
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
        if (v[i] < 0 || v[i] != (double)(int64_t)v[i] || v[i] > 9.0e15)
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

/* Checks that the tensors of one file [first, first+n) do not overlap. */
static slm_status check_overlap(slm_tensor *ts, size_t n, const char *path, slm_error *err)
{
    qsort(ts, n, sizeof *ts, cmp_tensor_span);
    for (size_t i = 1; i < n; i++) {
        const uint8_t *prev_end = (const uint8_t *)ts[i - 1].data + ts[i - 1].n_bytes;
        if ((const uint8_t *)ts[i].data < prev_end)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", path,
                            ts[i - 1].name, ts[i].name);
    }
    return SLM_OK;
}

/* Keeps the header's string pairs (other value types are ignored, as the
   format says values are strings). */
static slm_status merge_metadata(slm_safetensors *st, const cJSON *meta, const char *path,
                                 slm_error *err)
{
    if (!cJSON_IsObject(meta))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"__metadata__\" is not an object", path);
    if (!st->metadata && !(st->metadata = cJSON_CreateObject()))
        return slm_fail_nomem(err, "metadata");
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(st->metadata, e->string);
        if (!cJSON_AddStringToObject(st->metadata, e->string, e->valuestring))
            return slm_fail_nomem(err, "metadata");
    }
    return SLM_OK;
}

static slm_status parse_header(slm_safetensors *st, size_t *cap, const st_file *f,
                               const char *json_text, size_t json_len, slm_error *err)
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
            s = push_tensor(st, cap, &t, err);
        if (s != SLM_OK)
            free(t.name);
    }
    cJSON_Delete(root);
    if (s == SLM_OK)
        s = check_overlap(st->tensors + first, st->n_tensors - first, f->path, err);
    return s;
}

/* ============================================================ opening */

/* Opens one file and appends its tensors to st. */
static slm_status add_file(slm_safetensors *st, size_t *cap, const char *path, bool use_mmap,
                           slm_error *err)
{
    st_file *nf = realloc(st->files, (st->n_files + 1) * sizeof *nf);
    if (!nf)
        return slm_fail_nomem(err, "file table");
    st->files = nf;
    st_file *f = &st->files[st->n_files];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path)
        return slm_fail_nomem(err, "path");
    st->n_files++;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    slm_status s = SLM_OK;
    char *header = NULL;
    uint64_t hlen = 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = slm_fail(err, SLM_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    size_t file_len = (size_t)sb.st_size;
    uint8_t lenbuf[8];
    if (file_len < 8) {
        s = slm_fail(err, SLM_ERR_FORMAT, "%s: file too short (%zu bytes) for a safetensors header",
                     path, file_len);
        goto done;
    }
    if ((s = pread_all(fd, lenbuf, 8, 0, path, err)) != SLM_OK)
        goto done;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | lenbuf[i];
    if (hlen > file_len - 8 || hlen > SLM_SAFETENSORS_MAX_HEADER) {
        s = slm_fail(err, SLM_ERR_FORMAT,
                     "%s: header length %llu exceeds the file (%zu bytes) or the %u-byte cap",
                     path, (unsigned long long)hlen, file_len, SLM_SAFETENSORS_MAX_HEADER);
        goto done;
    }
    header = malloc(hlen + 1);
    if (!header) {
        s = slm_fail_nomem(err, "safetensors header");
        goto done;
    }
    if ((s = pread_all(fd, header, hlen, 8, path, err)) != SLM_OK)
        goto done;
    header[hlen] = '\0';
    if ((s = load_data(f, fd, file_len, 8 + hlen, use_mmap, err)) != SLM_OK)
        goto done;
    s = parse_header(st, cap, f, header, hlen, err);
done:
    free(header);
    close(fd);
    return s;
}

/* Sorts by name and refuses duplicates (within a header cJSON keeps both). */
static slm_status index_tensors(slm_safetensors *st, slm_error *err)
{
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, cmp_tensor_name);
    for (size_t i = 1; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
            return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' is defined twice (also in %s)",
                            st->tensors[i].file, st->tensors[i].name, st->tensors[i - 1].file);
    return SLM_OK;
}

/* Opens each distinct shard named by the index's weight_map once. */
static slm_status open_shards(slm_safetensors *st, const char *dir, const char *index_path,
                              const cJSON *map, bool use_mmap, slm_error *err)
{
    size_t cap = 0;
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/'))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name",
                            index_path, e->string);
        bool seen = false; /* shards repeat across entries */
        for (const cJSON *p = map->child; p != e && !seen; p = p->next)
            seen = strcmp(p->valuestring, e->valuestring) == 0;
        if (seen)
            continue;
        char *shard = slm_path_join(dir, e->valuestring);
        slm_status s = shard ? add_file(st, &cap, shard, use_mmap, err)
                             : slm_fail_nomem(err, "path");
        free(shard);
        SLM_TRY(s);
    }
    return SLM_OK;
}

static slm_status open_index(slm_safetensors *st, const char *dir, const char *index_path,
                             bool use_mmap, slm_error *err)
{
    cJSON *root;
    SLM_TRY(slm_json_load(index_path, &root, err));
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    slm_status s = SLM_OK;
    if (!cJSON_IsObject(map) || !map->child)
        s = slm_fail(err, SLM_ERR_FORMAT, "%s: missing or empty \"weight_map\" object",
                     index_path);
    if (s == SLM_OK)
        s = open_shards(st, dir, index_path, map, use_mmap, err);
    if (s == SLM_OK)
        s = index_tensors(st, err);
    /* every tensor the index lists must exist in some shard */
    for (const cJSON *e = map ? map->child : NULL; s == SLM_OK && e; e = e->next)
        if (!slm_safetensors_find(st, e->string))
            s = slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' is listed but not in %s",
                         index_path, e->string, e->valuestring);
    cJSON_Delete(root);
    return s;
}

slm_status slm_safetensors_open(const char *path, bool use_mmap, slm_safetensors **out,
                                slm_error *err)
{
    *out = NULL;
    slm_safetensors *st = calloc(1, sizeof *st);
    if (!st)
        return slm_fail_nomem(err, "safetensors");
    size_t cap = 0;
    slm_status s = add_file(st, &cap, path, use_mmap, err);
    if (s == SLM_OK)
        s = index_tensors(st, err);
    if (s != SLM_OK) {
        slm_safetensors_free(st);
        return s;
    }
    *out = st;
    return SLM_OK;
}

slm_status slm_safetensors_open_dir(const char *dir, bool use_mmap, slm_safetensors **out,
                                    slm_error *err)
{
    *out = NULL;
    char *single = slm_path_join(dir, "model.safetensors");
    char *index = slm_path_join(dir, "model.safetensors.index.json");
    slm_safetensors *st = calloc(1, sizeof *st);
    slm_status s = SLM_OK;
    if (!single || !index || !st) {
        s = slm_fail_nomem(err, "safetensors");
    } else if (slm_file_exists(single)) {
        free(st);
        st = NULL;
        s = slm_safetensors_open(single, use_mmap, &st, err);
    } else if (slm_file_exists(index)) {
        s = open_index(st, dir, index, use_mmap, err);
    } else {
        s = slm_fail(err, SLM_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json",
                     dir);
    }
    free(single);
    free(index);
    if (s != SLM_OK) {
        slm_safetensors_free(st);
        return s;
    }
    *out = st;
    return SLM_OK;
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
    free(st->tensors);
    free(st->files);
    cJSON_Delete(st->metadata);
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

const char *slm_safetensors_metadata(const slm_safetensors *st, const char *key)
{
    const cJSON *v = st->metadata ? cJSON_GetObjectItemCaseSensitive(st->metadata, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
