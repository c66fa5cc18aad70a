/* model_hint.c — see model_hint.h. */
#define _POSIX_C_SOURCE 200809L
#include "model_hint.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"

#define HINT "slm: hint: "

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A GGUF file by name or by its magic (llama.cpp's format). */
static bool is_gguf(const char *path)
{
    size_t n = strlen(path);
    if (n > 5 && strcasecmp(path + n - 5, ".gguf") == 0)
        return true;
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    bool gguf = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "GGUF", 4) == 0;
    if (f)
        fclose(f);
    return gguf;
}

/* ORG/NAME as the hub spells repo ids: one slash, letters, digits, '-', '_'
   and '.' (never starting with '.', so "./x" and "../x" are paths). */
static bool is_repo_id(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') || s[0] == '.' ||
        slash[1] == '.')
        return false;
    for (const char *p = s; *p; p++)
        if (p != slash && !isalnum((unsigned char)*p) && !strchr("-_.", *p))
            return false;
    return true;
}

/* The hub cache folder, as huggingface_hub finds it. */
static char *hub_cache(void)
{
    const char *v = getenv("HF_HUB_CACHE");
    if (v && *v)
        return strdup(v);
    if ((v = getenv("HF_HOME")) && *v)
        return slm_path_join(v, "hub");
    char *base = NULL;
    if ((v = getenv("XDG_CACHE_HOME")) && *v)
        base = strdup(v);
    else if ((v = getenv("HOME")) && *v)
        base = slm_path_join(v, ".cache");
    char *hf = base ? slm_path_join(base, "huggingface/hub") : NULL;
    free(base);
    return hf;
}

/* The commit refs/main names, if the entry has it (the snapshot a plain
   from_pretrained would use). */
static void read_main_ref(const char *entry, char *out, size_t cap)
{
    out[0] = '\0';
    char *ref = slm_path_join(entry, "refs/main");
    FILE *f = ref ? fopen(ref, "r") : NULL;
    if (f && fgets(out, (int)cap, f))
        out[strcspn(out, "\r\n")] = '\0';
    if (f)
        fclose(f);
    free(ref);
}

/* Lists entry/snapshots/<hash>/ folders; a complete one holds config.json.
   Returns how many were listed. */
static int list_snapshots(FILE *f, const char *entry)
{
    char *snaps = slm_path_join(entry, "snapshots"), main_ref[128];
    DIR *d = snaps ? opendir(snaps) : NULL;
    int n = 0;
    read_main_ref(entry, main_ref, sizeof main_ref);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *snap = slm_path_join(snaps, e->d_name);
        char *cfg = snap ? slm_path_join(snap, "config.json") : NULL;
        if (snap && is_dir(snap)) {
            bool complete = cfg && exists(cfg);
            fprintf(f, HINT "  -m %s%s%s\n", snap, !strcmp(e->d_name, main_ref) ? "   (refs/main)" : "",
                    complete ? "" : "   (incomplete: no config.json)");
            n++;
        }
        free(cfg);
        free(snap);
    }
    if (d)
        closedir(d);
    free(snaps);
    return n;
}

static void how_to_download(FILE *f, const char *repo)
{
    const char *name = strchr(repo, '/') + 1;
    fprintf(f, HINT "slm reads a local Hugging Face folder; download one with\n"
               HINT "  hf download %s --local-dir models/%s\n"
               HINT "then use -m models/%s (weights/README.md lists models known to work)\n",
            repo, name, name);
}

static bool hint_repo_id(FILE *f, const char *repo)
{
    fprintf(f, HINT "'%s' is no folder here; it looks like a Hugging Face hub repo id\n", repo);
    char *cache = hub_cache(), entry_name[512];
    snprintf(entry_name, sizeof entry_name, "models--%s", repo);
    *strchr(entry_name + 8, '/') = '\0';
    size_t len = strlen(entry_name);
    snprintf(entry_name + len, sizeof entry_name - len, "--%s", strchr(repo, '/') + 1);
    char *entry = cache ? slm_path_join(cache, entry_name) : NULL;
    if (entry && is_dir(entry)) {
        fprintf(f, HINT "it is in the Hugging Face cache (%s); its snapshot folders:\n", entry);
        if (list_snapshots(f, entry) == 0)
            fprintf(f, HINT "  (none: the download did not finish)\n");
    }
    free(entry);
    free(cache);
    how_to_download(f, repo);
    return true;
}

static bool hint_cache_entry(FILE *f, const char *path)
{
    fprintf(f, HINT "%s is a Hugging Face cache entry; the model folder is one of its "
               "snapshots:\n", path);
    if (list_snapshots(f, path) == 0)
        fprintf(f, HINT "  (none: the download did not finish)\n");
    return true;
}

bool cli_model_hint(FILE *f, const char *path)
{
    if (!path || !*path)
        return false;
    if (is_gguf(path)) {
        fprintf(f, HINT "%s is a GGUF file (llama.cpp's format); slm loads Hugging Face model\n"
                   HINT "folders (config.json, model.safetensors, tokenizer.json) instead.\n",
                path);
        how_to_download(f, "ORG/NAME");
        return true;
    }
    if (!exists(path) && is_repo_id(path))
        return hint_repo_id(f, path);
    char *snaps = slm_path_join(path, "snapshots"), *cfg = slm_path_join(path, "config.json");
    bool entry = snaps && cfg && is_dir(snaps) && !exists(cfg);
    free(snaps);
    free(cfg);
    return entry && hint_cache_entry(f, path);
}

int cli_report_model(const char *path, const slm_error *err)
{
    cli_report(err);
    cli_model_hint(stderr, path);
    return CLI_FAIL;
}
