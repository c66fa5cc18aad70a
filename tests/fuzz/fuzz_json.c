/*
 * fuzz_json.c — libFuzzer harness for slm_json_parse (engine/fileio.c), the
 * one JSON entry point every side file goes through: the bytes are one
 * document; it must parse or fail with a message, and a parsed value must
 * survive a print/re-parse round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *json = NULL;
    slm_error err;
    if (slm_json_parse((const char *)data, size, "fuzz.json", &json, &err) != SLM_OK) {
        /* A failure always says what and where. */
        if (strncmp(err.msg, "fuzz.json: ", 11) != 0)
            abort();
        return 0;
    }
    char *printed = cJSON_PrintUnformatted(json);
    if (printed) {
        cJSON *again = NULL;
        if (slm_json_parse(printed, strlen(printed), "printed", &again, &err) != SLM_OK)
            abort();
        cJSON_Delete(again);
        free(printed);
    }
    cJSON_Delete(json);
    return 0;
}
