/* Raw SQLite single-row inserts: the baseline for POST /{c}.
 * One transaction per row (BEGIN IMMEDIATE; INSERT; COMMIT), WAL mode, synchronous
 * NORMAL or FULL, ~300-byte JSON documents, into a table shaped like the server's
 * collection tables (rowid, id TEXT UNIQUE, v INTEGER, body TEXT). One thread, one
 * prepared statement: the best a single writer gets from SQLite on this disk.
 *
 * Usage: sqlite_insert normal|full SECONDS DBFILE
 * Prints: "<mode> inserts=<n> seconds=<s> inserts_per_sec=<r> cpu_us_per_insert=<c>" on stdout.
 * Build: gcc -O2 sqlite_insert.c -lsqlite3 -o sqlite_insert
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(sqlite3 *db, int rc, int want, const char *what) {
    if (rc != want) {
        fprintf(stderr, "sqlite_insert: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_insert: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "normal") != 0 && strcmp(argv[1], "full") != 0)) {
        fprintf(stderr, "usage: %s normal|full SECONDS DBFILE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    double seconds = atof(argv[2]);
    if (seconds <= 0) seconds = 5;
    const char *path = argv[3];

    /* Start from an empty file each run. */
    char extra[4096];
    unlink(path);
    snprintf(extra, sizeof extra, "%s-wal", path); unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", path); unlink(extra);

    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_insert: cannot open %s\n", path);
        return 1;
    }
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, strcmp(mode, "full") == 0 ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(db, "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
             "v INTEGER NOT NULL, body TEXT NOT NULL)");

    sqlite3_stmt *begin, *insert, *commit;
    check(db, sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL), SQLITE_OK, "prepare begin");
    check(db, sqlite3_prepare_v2(db, "INSERT INTO docs (id, v, body) VALUES (?, 1, ?)", -1, &insert, NULL),
          SQLITE_OK, "prepare insert");
    check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), SQLITE_OK, "prepare commit");

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    unsigned prefix = (unsigned)rand();
    char id[32], body[512];
    long n = 0;
    double start = now(), deadline = start + seconds, t = start;
    while (t < deadline) {
        /* 24 hex digits, ObjectId-shaped, like the server's generated ids. */
        snprintf(id, sizeof id, "%08x%016lx", prefix, n);
        int len = snprintf(body, sizeof body,
            "{\"id\":\"%s\",\"_v\":1,\"title\":\"benchmark todo number %ld with a longish title\","
            "\"done\":%s,\"priority\":%ld,\"tags\":[\"bench\",\"sqlite\",\"insert\"],"
            "\"notes\":\"raw single-row insert, one transaction per row, ~300 bytes of JSON\","
            "\"created\":\"2024-03-12T10:00:00.000Z\",\"updated\":\"2024-03-12T10:00:00.000Z\"}",
            id, n, (n & 1) ? "true" : "false", n % 5);
        check(db, sqlite3_step(begin), SQLITE_DONE, "begin");
        sqlite3_bind_text(insert, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, body, len, SQLITE_STATIC);
        check(db, sqlite3_step(insert), SQLITE_DONE, "insert");
        check(db, sqlite3_step(commit), SQLITE_DONE, "commit");
        sqlite3_reset(begin);
        sqlite3_reset(insert);
        sqlite3_reset(commit);
        n++;
        if ((n & 63) == 0 || strcmp(mode, "full") == 0) t = now();
    }
    double elapsed = now() - start;
    if (n > 0) {
        /* One sample body, for the record of its size. */
        fprintf(stderr, "sqlite_insert: %s, body %zu bytes\n", mode, strlen(body));
    }
    sqlite3_finalize(begin);
    sqlite3_finalize(insert);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("%s inserts=%ld seconds=%.2f inserts_per_sec=%.0f cpu_us_per_insert=%.1f\n", mode, n, elapsed, n / elapsed,
           n > 0 ? cpu * 1e6 / n : 0.0);
    return 0;
}
