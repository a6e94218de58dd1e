#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/* GRDB.swift owns every SQLite connection; this target holds the process-wide settings
 * GRDB has no API for (sqlite3_config is variadic, which Swift cannot call), and what
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

#endif
