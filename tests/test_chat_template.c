/*
 * test_chat_template.c — chat templates and the Jinja evaluator behind them,
 * checked byte for byte against what transformers/jinja2 render:
 *   - tests/fixtures/jinja/<group>.json (tools/make_jinja_fixtures.py): small
 *     templates, one construct each, and real / well-known chat templates
 *     over several conversations, including the errors jinja raises;
 *   - tests/fixtures/chat/<model>.json: apply_chat_template outputs for the
 *     fixture model folders, loaded with slm_chat_template_load;
 *   - loading rules, error reporting and hostile templates (limits, cycles).
 * A mismatch names the template, the render index and the first differing
 * byte offset, with the text around it.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_template.h"
#include "fileio.h"
#include "jinja/jinja.h"
#include "test_util.h"

/* ------------------------------------------------------------- helpers */

/* Prints s[from, from + n) with control characters escaped. */
static void print_excerpt(const char *label, const char *s, size_t len, size_t at)
{
    size_t from = at > 40 ? at - 40 : 0, to = at + 40 < len ? at + 40 : len;
    printf("    %s: \"", label);
    for (size_t i = from; i < to; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n')
            printf("\\n");
        else if (ch < 0x20 || ch == '"' || ch == '\\')
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    printf("\"\n");
}

/* True when got == expected; otherwise reports where they first differ. */
static bool same_text(const char *name, size_t idx, const char *how, const char *expected,
                      const char *got)
{
    size_t ne = strlen(expected), ng = strlen(got), i = 0;
    while (i < ne && i < ng && expected[i] == got[i])
        i++;
    if (i == ne && i == ng)
        return true;
    printf("MISMATCH template '%s' render %zu (%s): first difference at byte %zu "
           "(expected %zu bytes, got %zu)\n", name, idx, how, i, ne, ng);
    print_excerpt("expected", expected, ne, i);
    print_excerpt("got     ", got, ng, i);
    return false;
}

static cJSON *load_json(const char *rel)
{
    cJSON *j = NULL;
    slm_error err = {0};
    if (slm_json_load(test_source_path(rel), &j, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return j;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ------------------------------------------------ the jinja fixtures */

typedef struct {
    size_t renders, passed, api_checked;
} tally;

/* An expected error: parse errors must fail at parse time as FORMAT or
 * UNSUPPORTED, render errors at render time; raise_exception's message
 * (jinja's TemplateError) must come through verbatim. */
static bool check_error(const char *name, size_t idx, const cJSON *error, slm_status parse_st,
                        slm_status render_st, const slm_error *err)
{
    const char *phase = json_str(error, "phase"), *type = json_str(error, "type");
    const char *message = json_str(error, "message");
    bool at_parse = !strcmp(phase, "parse");
    bool ok = at_parse ? (parse_st == SLM_ERR_FORMAT || parse_st == SLM_ERR_UNSUPPORTED)
                       : (parse_st == SLM_OK &&
                          (render_st == SLM_ERR_INVALID_ARG || render_st == SLM_ERR_RANGE));
    if (ok && !strcmp(type, "TemplateError") && strcmp(err->msg, message) != 0)
        ok = false;
    if (!ok)
        printf("MISMATCH template '%s' render %zu: expected %s error %s(\"%s\"), got parse=%s "
               "render=%s \"%s\"\n", name, idx, phase, type, message, slm_status_name(parse_st),
               slm_status_name(render_st), err->msg);
    return ok;
}

/* Variables that the public API can express: role/content messages,
 * add_generation_prompt, bos/eos tokens, tools/documents = None. */
static bool api_expressible(const cJSON *vars)
{
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(vars, "messages")))
        return false;
    for (const cJSON *v = vars->child; v; v = v->next) {
        const char *k = v->string;
        if (!strcmp(k, "tools") || !strcmp(k, "documents")) {
            if (!cJSON_IsNull(v))
                return false;
        } else if (!strcmp(k, "messages")) {
            for (const cJSON *m = v->child; m; m = m->next)
                for (const cJSON *f = m->child; f; f = f->next)
                    if ((strcmp(f->string, "role") && strcmp(f->string, "content")) ||
                        !cJSON_IsString(f))
                        return false;
        } else if (strcmp(k, "add_generation_prompt") && strcmp(k, "bos_token") &&
                   strcmp(k, "eos_token")) {
            return false;
        }
    }
    return true;
}

/* The same render through slm_chat_template_parse / apply. */
static bool check_public_api(const char *name, size_t idx, const char *source, const cJSON *vars,
                             const char *expected)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(vars, "messages");
    size_t n = (size_t)cJSON_GetArraySize(msgs), k = 0;
    slm_chat_message *m = calloc(n + 1, sizeof *m);
    for (const cJSON *e = msgs->child; e; e = e->next, k++)
        m[k] = (slm_chat_message){json_str(e, "role"), json_str(e, "content")};
    slm_chat_template *t = NULL;
    slm_error err = {0};
    char *out = NULL;
    slm_status st = slm_chat_template_parse(source, json_str(vars, "bos_token"),
                                            json_str(vars, "eos_token"), &t, &err);
    bool agp = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vars, "add_generation_prompt"));
    if (st == SLM_OK)
        st = slm_chat_template_apply(t, m, n, agp, &out, &err);
    bool ok = st == SLM_OK && same_text(name, idx, "public API", expected, out);
    if (st != SLM_OK)
        printf("MISMATCH template '%s' render %zu (public API): %s\n", name, idx, err.msg);
    free(out);
    free(m);
    slm_chat_template_free(t);
    return ok;
}

static bool check_render(const char *name, size_t idx, const char *source,
                         const slm_jinja_template *tpl, slm_status parse_st,
                         const slm_error *parse_err, const cJSON *render, tally *tl)
{
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(render, "vars");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(render, "error");
    const char *expected = json_str(render, "expected");
    slm_error err = *parse_err;
    slm_status st = SLM_OK;
    char *out = NULL;
    if (parse_st == SLM_OK) {
        slm_jv v;
        assert_true(slm_jv_from_json(vars, &v));
        st = slm_jinja_render(tpl, v.u.d, &out, NULL, &err);
        slm_jv_release(v);
    }
    bool ok;
    if (error) {
        ok = check_error(name, idx, error, parse_st, st, &err);
    } else if (parse_st != SLM_OK || st != SLM_OK) {
        printf("MISMATCH template '%s' render %zu: expected output, got error: %s\n", name, idx,
               err.msg);
        ok = false;
    } else {
        ok = same_text(name, idx, "jinja", expected, out);
        if (ok && api_expressible(vars)) {
            ok = check_public_api(name, idx, source, vars, expected);
            tl->api_checked++;
        }
    }
    free(out);
    return ok;
}

static void run_fixture_file(const char *rel, tally *tl)
{
    cJSON *doc = load_json(rel);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    assert_true(cJSON_IsArray(cases));
    for (const cJSON *c = cases->child; c; c = c->next) {
        const char *name = json_str(c, "name"), *source = json_str(c, "template");
        slm_jinja_template *tpl = NULL;
        slm_error perr = {0};
        slm_status pst = slm_jinja_parse(source, strlen(source), name, &tpl, &perr);
        const cJSON *renders = cJSON_GetObjectItemCaseSensitive(c, "renders");
        size_t idx = 0;
        for (const cJSON *r = renders->child; r; r = r->next, idx++) {
            tl->renders++;
            tl->passed += check_render(name, idx, source, tpl, pst, &perr, r, tl);
        }
        slm_jinja_free(tpl);
    }
    cJSON_Delete(doc);
}

static void test_jinja_fixtures(void **state)
{
    (void)state;
    DIR *dir = opendir(test_source_path("tests/fixtures/jinja"));
    assert_non_null(dir);
    tally tl = {0};
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "tests/fixtures/jinja/%s", e->d_name);
        run_fixture_file(rel, &tl);
        files++;
    }
    closedir(dir);
    printf("jinja fixtures: %zu files, %zu/%zu renders match (%zu also via the public API)\n",
           files, tl.passed, tl.renders, tl.api_checked);
    assert_true(files >= 2);
    assert_true(tl.renders >= 300);
    assert_int_equal(tl.passed, tl.renders);
}

/* ---------------------------------------- the model chat fixtures */

static size_t check_model_conversations(const char *model, const slm_chat_template *t,
                                        const cJSON *convs, size_t *total)
{
    size_t passed = 0, idx = 0;
    for (const cJSON *c = convs->child; c; c = c->next, idx++) {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(c, "messages");
        size_t n = (size_t)cJSON_GetArraySize(msgs), k = 0;
        slm_chat_message *m = calloc(n + 1, sizeof *m);
        for (const cJSON *e = msgs->child; e; e = e->next, k++)
            m[k] = (slm_chat_message){json_str(e, "role"), json_str(e, "content")};
        static const char *const keys[2] = {"with_generation_prompt", "without_generation_prompt"};
        for (int g = 0; g < 2; g++) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, keys[g]);
            const char *text = json_str(want, "text");
            if (!text)
                continue;
            char *out = NULL;
            slm_error err = {0};
            char label[128];
            snprintf(label, sizeof label, "%s/%s", model, json_str(c, "name"));
            (*total)++;
            if (slm_chat_template_apply(t, m, n, g == 0, &out, &err) != SLM_OK)
                printf("MISMATCH %s (%s): %s\n", label, keys[g], err.msg);
            else
                passed += same_text(label, idx, keys[g], text, out);
            free(out);
        }
        free(m);
    }
    return passed;
}

static void test_model_chat_fixtures(void **state)
{
    (void)state;
    static const char *const models[] = {"tinyllama", "phi3", "smollm2"};
    size_t total = 0, passed = 0;
    for (size_t i = 0; i < 3; i++) {
        char rel[256], dir_rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/chat/%s.json", models[i]);
        snprintf(dir_rel, sizeof dir_rel, "tests/fixtures/models/%s", models[i]);
        cJSON *doc = load_json(rel);
        slm_chat_template *t = NULL;
        slm_error err = {0};
        if (slm_chat_template_load(test_source_path(dir_rel), &t, &err) != SLM_OK)
            fail_msg("%s", err.msg);
        passed += check_model_conversations(models[i], t,
                                            cJSON_GetObjectItemCaseSensitive(doc, "conversations"),
                                            &total);
        slm_chat_template_free(t);
        cJSON_Delete(doc);
    }
    printf("model chat fixtures: %zu/%zu renders match\n", passed, total);
    assert_true(total >= 18);
    assert_int_equal(passed, total);
}

/* ------------------------------------------------------------- loading */

/* Writes tokenizer_config.json (and optionally more files) into a new dir. */
static char *model_dir(const char *config, const char *extra_name, const char *extra)
{
    char *dir = test_make_tmpdir();
    if (config)
        free(test_write_file(dir, "tokenizer_config.json", config, strlen(config)));
    if (extra_name)
        free(test_write_file(dir, extra_name, extra, strlen(extra)));
    return dir;
}

static char *render_dir(const char *dir, const char *role, const char *content, slm_status *st,
                        slm_error *err)
{
    slm_chat_template *t = NULL;
    char *out = NULL;
    *st = slm_chat_template_load(dir, &t, err);
    slm_chat_message m = {role, content};
    if (*st == SLM_OK)
        *st = slm_chat_template_apply(t, &m, 1, true, &out, err);
    slm_chat_template_free(t);
    return out;
}

static void test_load_rules(void **state)
{
    (void)state;
    slm_status st;
    slm_error err = {0};
    /* tokens as strings and as AddedToken objects; every special token is visible */
    char *dir = model_dir("{\"chat_template\": \"{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|"
                          "{{ pad_token is defined }}|{{ tools is none }}|{{ messages[0].content }}\","
                          "\"bos_token\": {\"content\": \"<B>\", \"lstrip\": false}, \"eos_token\": \"<E>\","
                          "\"unk_token\": \"<U>\", \"pad_token\": null, \"added_tokens_decoder\": {}}",
                          NULL, NULL);
    char *out = render_dir(dir, "user", "hi", &st, &err);
    assert_int_equal(st, SLM_OK);
    assert_string_equal(out, "<B>|<E>|<U>|False|True|hi");
    free(out);
    test_rmtree(dir);
    free(dir);

    /* a list of named templates: "default" is used */
    dir = model_dir("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                    "{\"name\": \"default\", \"template\": \"D{{ add_generation_prompt }}\"}]}",
                    NULL, NULL);
    out = render_dir(dir, "user", "x", &st, &err);
    assert_int_equal(st, SLM_OK);
    assert_string_equal(out, "DTrue");
    free(out);
    test_rmtree(dir);
    free(dir);

    /* chat_template.jinja wins over tokenizer_config.json; legacy
     * special_tokens_map.json entries override the config */
    dir = model_dir("{\"chat_template\": \"config\", \"eos_token\": \"<old>\"}", "chat_template.jinja",
                    "file{{ eos_token }}\n");
    free(test_write_file(dir, "special_tokens_map.json", "{\"eos_token\": {\"content\": \"<new>\"}}",
                         strlen("{\"eos_token\": {\"content\": \"<new>\"}}")));
    out = render_dir(dir, "user", "x", &st, &err);
    assert_int_equal(st, SLM_OK);
    assert_string_equal(out, "file<new>");
    free(out);
    test_rmtree(dir);
    free(dir);
}

static void test_load_errors(void **state)
{
    (void)state;
    slm_status st;
    slm_error err = {0};
    char *dir = model_dir("{\"bos_token\": \"<s>\"}", NULL, NULL);
    char *out = render_dir(dir, "user", "x", &st, &err);
    assert_null(out);
    assert_int_equal(st, SLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "tokenizer_config.json"));
    test_rmtree(dir);
    free(dir);

    dir = model_dir("{\"chat_template\": \"line one\\n{% if x %}\\n{{ x + }}\\n{% endif %}\"}", NULL, NULL);
    out = render_dir(dir, "user", "x", &st, &err);
    assert_int_equal(st, SLM_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "column"));
    assert_non_null(strstr(err.msg, "tokenizer_config.json"));
    test_rmtree(dir);
    free(dir);

    /* chat_template.jinja over its cap: refused before reading, naming the file */
    dir = model_dir(NULL, NULL, NULL);
    size_t big = SLM_TEMPLATE_MAX_BYTES + 1;
    char *text = malloc(big);
    memset(text, 'x', big);
    free(test_write_file(dir, "chat_template.jinja", text, big));
    free(text);
    out = render_dir(dir, "user", "x", &st, &err);
    assert_null(out);
    assert_int_equal(st, SLM_ERR_FORMAT);
    if (!strstr(err.msg, "chat_template.jinja") || !strstr(err.msg, "limit"))
        fail_msg("%s", err.msg);
    test_rmtree(dir);
    free(dir);

    dir = model_dir(NULL, NULL, NULL); /* no files at all */
    out = render_dir(dir, "user", "x", &st, &err);
    assert_int_equal(st, SLM_ERR_UNSUPPORTED);
    test_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------ render errors */

static slm_status render_text(const char *source, const char *content, char **out, slm_error *err)
{
    slm_chat_template *t = NULL;
    *out = NULL;
    slm_status st = slm_chat_template_parse(source, "<s>", "</s>", &t, err);
    slm_chat_message m = {"user", content};
    if (st == SLM_OK)
        st = slm_chat_template_apply(t, &m, 1, false, out, err);
    slm_chat_template_free(t);
    return st;
}

static void expect_error(const char *source, slm_status want, const char *fragment)
{
    char *out = NULL;
    slm_error err = {0};
    slm_status st = render_text(source, "x", &out, &err);
    if (st != want || (fragment && !strstr(err.msg, fragment)))
        fail_msg("template %s: got %s \"%s\", want %s containing \"%s\"", source,
                 slm_status_name(st), err.msg, slm_status_name(want), fragment ? fragment : "");
    assert_null(out);
}

static void test_render_errors(void **state)
{
    (void)state;
    char *out = NULL;
    slm_error err = {0};
    assert_int_equal(render_text("{{ raise_exception('Roles must alternate!') }}", "x", &out, &err),
                     SLM_ERR_INVALID_ARG);
    assert_string_equal(err.msg, "Roles must alternate!");
    expect_error("{{ messages[0].nope.deeper }}", SLM_ERR_INVALID_ARG, "has no attribute 'nope'");
    expect_error("{{ 'a' + 1 }}", SLM_ERR_INVALID_ARG, "can only concatenate str");
    expect_error("\n\n{{ undefined_thing + 1 }}", SLM_ERR_INVALID_ARG, "line 3");
    expect_error("{% include 'other.jinja' %}", SLM_ERR_UNSUPPORTED, "include");
    expect_error("{{ '%s'|format(1) }}", SLM_ERR_UNSUPPORTED, "format");
    expect_error("{% for x in y recursive %}{% endfor %}", SLM_ERR_UNSUPPORTED, "recursive");
    expect_error("{% frobnicate %}", SLM_ERR_FORMAT, "frobnicate");
    /* an empty conversation is refused, as transformers does */
    slm_chat_template *e = NULL;
    assert_int_equal(slm_chat_template_parse("x", NULL, NULL, &e, &err), SLM_OK);
    slm_chat_message none = {"user", "x"};
    assert_int_equal(slm_chat_template_apply(e, &none, 0, true, &out, &err), SLM_ERR_INVALID_ARG);
    assert_null(out);
    slm_chat_template_free(e);
    /* a message without content has no content key (transformers drops None) */
    slm_chat_template *t = NULL;
    assert_int_equal(slm_chat_template_parse("{{ messages[0].content is defined }}{{ bos_token is defined }}",
                                             NULL, NULL, &t, &err), SLM_OK);
    slm_chat_message m = {"assistant", NULL};
    assert_int_equal(slm_chat_template_apply(t, &m, 1, false, &out, &err), SLM_OK);
    assert_string_equal(out, "FalseFalse");
    free(out);
    slm_chat_template_free(t);
}

/* ------------------------------------------------------ hostile input */

static char *repeated(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
    char *s = malloc(len);
    strcpy(s, head);
    for (size_t i = 0; i < n; i++)
        strcat(s, unit);
    strcat(s, tail);
    return s;
}

static void expect_refused(const char *source)
{
    char *out = NULL;
    slm_error err = {0};
    slm_status st = render_text(source, "x", &out, &err);
    if (st == SLM_OK)
        fail_msg("hostile template rendered %zu bytes instead of failing", strlen(out));
    assert_true(st == SLM_ERR_RANGE || st == SLM_ERR_UNSUPPORTED || st == SLM_ERR_FORMAT);
    assert_true(strlen(err.msg) > 0);
}

static void test_hostile_templates(void **state)
{
    (void)state;
    char *deep = repeated("{{ ", "(", 5000, "1 }}");
    expect_refused(deep);
    free(deep);
    deep = repeated("", "{% if true %}", 5000, "x");
    expect_refused(deep);
    free(deep);
    deep = repeated("{{ ", "not ", 5000, "1 }}");
    expect_refused(deep);
    free(deep);
    deep = repeated("{{ ", "[", 5000, "");
    expect_refused(deep);
    free(deep);
    expect_refused("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    expect_refused("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                   "{% endfor %}{% endfor %}{% endfor %}");
    expect_refused("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
                   "{% endfor %}{{ ns.s|length }}");
    expect_refused("{{ 'x' * 1000000000 }}");
    expect_refused("{{ range(10000000)|list }}");
    expect_refused("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}"
                   "{% endfor %}{{ ns.x|length }}");
    /* a namespace that contains itself renders and is freed (no leak under ASan) */
    char *out = NULL;
    slm_error err = {0};
    assert_int_equal(render_text("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.l = [ns] %}"
                                 "{{ ns.me.me.a }}{{ ns.l|length }}", "x", &out, &err), SLM_OK);
    assert_string_equal(out, "11");
    free(out);
    /* a macro kept in a namespace outlives the loop iteration that defined it */
    assert_int_equal(render_text("{% set ns = namespace() %}{% for i in [1, 2] %}{% macro m() %}{{ i }}"
                                 "{% endmacro %}{% set ns.m = m %}{% endfor %}{{ ns.m() }}", "x", &out, &err),
                     SLM_OK);
    assert_string_equal(out, "2");
    free(out);
}

/* ---------------------------------------------------------- threads */

typedef struct {
    const slm_chat_template *t;
    const char *expected;
    int mismatches;
} thread_job;

static void *render_many(void *arg)
{
    thread_job *job = arg;
    slm_chat_message m[3] = {{"system", "sys"}, {"user", "héllo {{ x }}"}, {"assistant", " hi "}};
    for (int i = 0; i < 200; i++) {
        char *out = NULL;
        slm_error err = {0};
        if (slm_chat_template_apply(job->t, m, 3, i % 2 == 0, &out, &err) != SLM_OK ||
            (i % 2 == 0 && strcmp(out, job->expected) != 0))
            job->mismatches++;
        free(out);
    }
    return NULL;
}

/* One template rendered from several threads at once (its constants are
 * shared read-only; everything else is per render). */
static void test_concurrent_apply(void **state)
{
    (void)state;
    slm_chat_template *t = NULL;
    slm_error err = {0};
    const char *src = "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                      "<|{{ m.role }}|>{{ m.content|trim }}{{ eos_token }}{% endfor %}"
                      "{% if add_generation_prompt %}<|assistant|>{{ ns.n }}{% endif %}";
    assert_int_equal(slm_chat_template_parse(src, "<s>", "</s>", &t, &err), SLM_OK);
    thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){t, "<|system|>sys</s><|user|>héllo {{ x }}</s><|assistant|>hi</s>"
                                  "<|assistant|>3", 0};
        assert_int_equal(pthread_create(&th[i], NULL, render_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].mismatches, 0);
    }
    slm_chat_template_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jinja_fixtures),
        cmocka_unit_test(test_model_chat_fixtures),
        cmocka_unit_test(test_load_rules),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_hostile_templates),
        cmocka_unit_test(test_concurrent_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
