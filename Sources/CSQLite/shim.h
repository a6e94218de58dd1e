#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/* GRDB.swift owns every SQLite connection; this target only holds the process-wide
 * settings GRDB has no API for. sqlite3_config is variadic, which Swift cannot call. */

/* Debian builds SQLite with SQLITE_DEFAULT_MEMSTATUS=1: every allocation then takes
 * one global mutex to keep statistics nobody here reads, and the server's threads
 * queue on it. Must run before SQLite initializes (the first connection opened);
 * returns SQLITE_MISUSE after. */
static inline int CSQLite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
