#include "harness/counters.h"

#include <papi.h>
#include <stdio.h>
#include <string.h>

static json_t *event_json(const char *name, const char *status, const char *reason)
{
    json_t *e = json_pack("{s:s, s:s}", "name", name, "status", status);
    if (reason) json_object_set_new(e, "reason", json_string(reason));
    return e;
}

int sb_counters_open(struct sb_counters *c, const char *list, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->set = PAPI_NULL;
    json_t *events = json_array();
    c->status = json_pack("{s:s, s:s, s:o}", "status", "unavailable", "scope",
                          "main thread, training steps only (evaluation excluded)", "events",
                          events);
    const int ver = PAPI_library_init(PAPI_VER_CURRENT);
    const char *init_reason = ver == PAPI_VER_CURRENT ? NULL
                              : ver > 0                ? "PAPI library version mismatch"
                                                       : PAPI_strerror(ver);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    size_t wanted = 0;
    /* Split by hand: strtok would skip an empty name ("a,,b"), which is a typo to report. */
    for (char *name = buf, *next; name; name = next) {
        next = strchr(name, ',');
        if (next) *next++ = 0;
        if (!*name || strlen(name) >= sizeof c->names[0]) {
            snprintf(err, errlen, "--counters: bad event name in '%s'", list);
            sb_counters_close(c);
            return -1;
        }
        if (++wanted > SB_MAX_COUNTERS) {
            snprintf(err, errlen, "--counters: at most %d events", SB_MAX_COUNTERS);
            sb_counters_close(c);
            return -1;
        }
        if (init_reason) {
            json_array_append_new(events, event_json(name, "unavailable", init_reason));
            continue;
        }
        int set = PAPI_NULL, code, rc;
        const char *step = "PAPI_create_eventset";
        rc = PAPI_create_eventset(&set);
        if (rc == PAPI_OK)
            step = "PAPI_event_name_to_code", rc = PAPI_event_name_to_code(name, &code);
        if (rc == PAPI_OK) step = "PAPI_add_event", rc = PAPI_add_event(set, code);
        if (rc == PAPI_OK) step = "PAPI_start", rc = PAPI_start(set);
        long long v;
        if (rc == PAPI_OK) step = "PAPI_stop", rc = PAPI_stop(set, &v);
        if (rc != PAPI_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s (%s)", PAPI_strerror(rc), step);
            json_array_append_new(events, event_json(name, "unavailable", why));
            if (set != PAPI_NULL) {
                PAPI_cleanup_eventset(set);
                PAPI_destroy_eventset(&set);
            }
            continue;
        }
        PAPI_cleanup_eventset(set);
        PAPI_destroy_eventset(&set);
        /* Counts alone; now it must also count beside the ones already chosen. */
        if (c->n == 0 && (rc = PAPI_create_eventset(&c->set)) != PAPI_OK) {
            json_array_append_new(events, event_json(name, "unavailable", PAPI_strerror(rc)));
            continue;
        }
        if ((rc = PAPI_add_event(c->set, code)) != PAPI_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s (cannot be counted together with the events before it)",
                     PAPI_strerror(rc));
            json_array_append_new(events, event_json(name, "unavailable", why));
            continue;
        }
        snprintf(c->names[c->n++], sizeof c->names[0], "%s", name);
        json_array_append_new(events, event_json(name, "counted", NULL));
    }
    if (wanted == 0) {
        snprintf(err, errlen, "--counters: no event named in '%s'", list);
        sb_counters_close(c);
        return -1;
    }
    const char *overall = c->n == wanted ? "counted" : c->n ? "partial" : "unavailable";
    json_object_set_new(c->status, "status", json_string(overall));
    if (c->n < wanted)
        json_object_set_new(c->status, "reason",
                            json_string(init_reason ? init_reason
                                                    : "some events cannot be counted here; "
                                                      "see events[].reason"));
    return 0;
}

void sb_counters_start(struct sb_counters *c)
{
    memset(c->eval, 0, sizeof c->eval);
    if (c->n) PAPI_start(c->set);
}

void sb_counters_pause(struct sb_counters *c)
{
    if (c->n) PAPI_read(c->set, c->mark);
}

void sb_counters_resume(struct sb_counters *c)
{
    long long now[SB_MAX_COUNTERS] = {0};
    if (!c->n) return;
    PAPI_read(c->set, now);
    for (size_t i = 0; i < c->n; i++) c->eval[i] += now[i] - c->mark[i];
}

json_t *sb_counters_stop(struct sb_counters *c)
{
    json_t *v = json_object();
    long long total[SB_MAX_COUNTERS] = {0};
    if (!c->n) return v;
    PAPI_stop(c->set, total);
    for (size_t i = 0; i < c->n; i++)
        json_object_set_new(v, c->names[i], json_integer(total[i] - c->eval[i]));
    return v;
}

void sb_counters_close(struct sb_counters *c)
{
    if (c->n) {
        PAPI_cleanup_eventset(c->set);
        PAPI_destroy_eventset(&c->set);
    }
    json_decref(c->status);
    c->n = 0;
    c->status = NULL;
}
