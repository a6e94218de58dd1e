#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

/* GRDB.swift owns every SQLite connection; this target holds the process-wide settings
 * GRDB has no API for (sqlite3_config is variadic, which Swift cannot call), the read
 * deadline of SQLiteStore/ReadDeadline.swift (a C callback), and what
 * SQLiteStore/HotStatements.swift needs to step GRDB's statements itself. */

/* Debian builds SQLite with SQLITE_DEFAULT_MEMSTATUS=1: every allocation then takes
 * one global mutex to keep statistics nobody here reads, and the server's threads
 * queue on it. Must run before SQLite initializes (the first connection opened);
 * returns SQLITE_MISUSE after. */
static inline int CSQLite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* sqlite3_bind_text with SQLITE_TRANSIENT: SQLite copies the text, so the caller's
 * buffer need not outlive the statement's step. The macro is a pointer cast Swift
 * cannot import. */
static inline int CSQLite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int bytes) {
    return sqlite3_bind_text(statement, index, text, bytes, SQLITE_TRANSIENT);
}

/* A time limit on the statements of one connection: SQLite's progress handler, every
 * thousand or so virtual-machine steps, compares the clock with `*deadline` (monotonic
 * nanoseconds; 0: no limit) and stops the statement with SQLITE_INTERRUPT once it has
 * passed. A C function, so that SQLite calls no Swift closure through a pointer. */
static inline uint64_t CSQLite_monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static inline int CSQLite_deadline_passed(void *deadline) {
    uint64_t limit = *(const uint64_t *)deadline;
    return limit != 0 && CSQLite_monotonic_nanoseconds() > limit;
}

static inline void CSQLite_install_deadline(sqlite3 *connection, uint64_t *deadline) {
    sqlite3_progress_handler(connection, 1000, CSQLite_deadline_passed, deadline);
}

#endif
