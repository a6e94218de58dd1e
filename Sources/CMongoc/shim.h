#ifndef CMONGOC_SHIM_H
#define CMONGOC_SHIM_H
// Why this shim exists: bson_t and bson_iter_t are declared 128-byte aligned, so Swift
// imports them as opaque pointers and cannot allocate them correctly itself; these
// helpers hand out properly aligned storage. Every symbol is prefixed CMongoc_.
#include <stdlib.h>
#include <mongoc/mongoc.h>

/// A 128-byte-aligned, uninitialized bson_iter_t; free with CMongoc_free.
static inline bson_iter_t *CMongoc_iter_alloc(void) {
    void *p = NULL;
    if (posix_memalign(&p, 128, sizeof(bson_iter_t)) != 0) return NULL;
    return (bson_iter_t *)p;
}

/// A 128-byte-aligned bson_t for out-parameters (child documents, replies),
/// initialized empty; bson_destroy then CMongoc_free it.
static inline bson_t *CMongoc_bson_alloc(void) {
    void *p = NULL;
    if (posix_memalign(&p, 128, sizeof(bson_t)) != 0) return NULL;
    bson_init((bson_t *)p);
    return (bson_t *)p;
}

static inline void CMongoc_free(void *p) { free(p); }

/// libmongoc logs every failed server check at DEBUG level to stderr: keep warnings
/// and worse only (a C callback, so that no Swift closure is called from its threads).
static void CMongoc_log_warnings(mongoc_log_level_t level, const char *domain, const char *message, void *data) {
    (void)data;
    if (level <= MONGOC_LOG_LEVEL_WARNING) mongoc_log_default_handler(level, domain, message, NULL);
}

static inline void CMongoc_quiet_logs(void) { mongoc_log_set_handler(CMongoc_log_warnings, NULL); }

#endif
