/* Drives the MongoDB test double (mongo_double.py) with libmongoc 1.23, the client
 * the Swift MongoDB backend uses. Built and run by test_double.py when
 * pkg-config finds libmongoc-1.0 and a C compiler is there; skipped otherwise.
 *
 *   cc libmongoc_smoke.c $(pkg-config --cflags --libs libmongoc-1.0) -lpthread
 *   ./a.out mongodb://127.0.0.1:PORT/?appname=smoke
 *
 * Prints one "ok NAME" line per check; the first failure prints "FAIL ..." and
 * exits 1.
 */
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *uri_string;

#define CHECK(cond, ...)                                                   \
   do {                                                                    \
      if (!(cond)) {                                                       \
         fprintf (stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
         fprintf (stdout, __VA_ARGS__);                                    \
         fprintf (stdout, "\n");                                           \
         fflush (stdout);                                                  \
         exit (1);                                                         \
      }                                                                    \
   } while (0)

static bson_t *
json (const char *text)
{
   bson_error_t error;
   bson_t *b = bson_new_from_json ((const uint8_t *) text, -1, &error);
   CHECK (b, "bad json %s: %s", text, error.message);
   return b;
}

static int64_t
get_int (const bson_t *doc, const char *path)
{
   bson_iter_t it, found;
   CHECK (bson_iter_init (&it, doc) && bson_iter_find_descendant (&it, path, &found),
          "no %s in %s", path, bson_as_relaxed_extended_json (doc, NULL));
   return bson_iter_as_int64 (&found);
}

static bson_type_t
get_type (const bson_t *doc, const char *path)
{
   bson_iter_t it, found;
   if (!bson_iter_init (&it, doc) || !bson_iter_find_descendant (&it, path, &found)) {
      return BSON_TYPE_EOD;
   }
   return bson_iter_type (&found);
}

static void
ok (const char *name)
{
   printf ("ok %s\n", name);
   fflush (stdout);
}

static mongoc_collection_t *
fresh (mongoc_client_t *client, const char *db, const char *name)
{
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, name);
   mongoc_collection_drop (coll, NULL); /* ns not found is fine */
   return coll;
}

static void
test_crud (mongoc_client_t *client)
{
   bson_error_t error;
   bson_t reply;
   mongoc_collection_t *coll = fresh (client, "smoke", "todos");

   /* insert: generated ObjectId and client string id */
   bson_t *doc = json ("{\"title\": \"Milk\", \"_v\": {\"$numberLong\": \"1\"}}");
   bson_oid_t oid;
   bson_oid_init (&oid, NULL);
   BSON_APPEND_OID (doc, "_id", &oid);
   CHECK (mongoc_collection_insert_one (coll, doc, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "insertedCount") == 1, "insertedCount");
   bson_destroy (&reply);
   bson_destroy (doc);
   doc = json ("{\"_id\": \"my-id\", \"title\": \"Bread\", \"_v\": {\"$numberLong\": \"1\"}}");
   CHECK (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s", error.message);
   ok ("insert_one ObjectId and string _id");

   /* duplicate _id: code 11000 */
   CHECK (!mongoc_collection_insert_one (coll, doc, NULL, &reply, &error), "dup accepted");
   CHECK (error.code == 11000, "code %u %s", error.code, error.message);
   CHECK (get_int (&reply, "writeErrors.0.code") == 11000, "writeErrors");
   bson_destroy (&reply);
   bson_destroy (doc);
   ok ("duplicate _id is 11000");

   /* insert_many, then find with filter/sort/skip/limit/projection and getMore */
   bson_t *docs[20];
   for (int i = 0; i < 20; i++) {
      char text[128];
      snprintf (text, sizeof text, "{\"_id\": \"n%02d\", \"n\": %d, \"odd\": %s}", i, i,
                i % 2 ? "true" : "false");
      docs[i] = json (text);
   }
   CHECK (mongoc_collection_insert_many (coll, (const bson_t **) docs, 20, NULL, &reply,
                                         &error),
          "%s", error.message);
   CHECK (get_int (&reply, "insertedCount") == 20, "insertedCount");
   bson_destroy (&reply);
   for (int i = 0; i < 20; i++) {
      bson_destroy (docs[i]);
   }
   ok ("insert_many");

   bson_t *filter = json ("{\"odd\": true}");
   bson_t *opts = json ("{\"sort\": {\"n\": -1}, \"skip\": 1, \"limit\": 3, "
                        "\"projection\": {\"_id\": 0, \"n\": 1}}");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   const bson_t *found;
   int64_t expect[] = {17, 15, 13};
   int count = 0;
   while (mongoc_cursor_next (cursor, &found)) {
      CHECK (count < 3 && get_int (found, "n") == expect[count], "order at %d", count);
      CHECK (get_type (found, "_id") == BSON_TYPE_EOD, "projection kept _id");
      count++;
   }
   CHECK (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   CHECK (count == 3, "count %d", count);
   mongoc_cursor_destroy (cursor);
   bson_destroy (filter);
   bson_destroy (opts);
   ok ("find filter sort skip limit projection");

   filter = json ("{\"n\": {\"$gte\": 0}}");
   opts = json ("{\"sort\": {\"n\": 1}, \"batchSize\": 3}");
   cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   count = 0;
   while (mongoc_cursor_next (cursor, &found)) {
      CHECK (get_int (found, "n") == count, "getMore order at %d", count);
      count++;
   }
   CHECK (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   CHECK (count == 20, "count %d", count);
   CHECK (mongoc_cursor_get_id (cursor) == 0, "cursor left open");
   mongoc_cursor_destroy (cursor);
   /* an abandoned cursor is killed by mongoc_cursor_destroy (killCursors) */
   cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   CHECK (mongoc_cursor_next (cursor, &found), "first");
   CHECK (mongoc_cursor_get_id (cursor) != 0, "cursor should be open");
   mongoc_cursor_destroy (cursor);
   bson_destroy (filter);
   bson_destroy (opts);
   ok ("find batchSize 3 with getMore, killCursors");

   /* update with $set; upsert */
   bson_t *sel = json ("{\"_id\": \"my-id\"}");
   bson_t *upd = json ("{\"$set\": {\"done\": true}}");
   CHECK (mongoc_collection_update_one (coll, sel, upd, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "matchedCount") == 1 && get_int (&reply, "modifiedCount") == 1,
          "%s", bson_as_relaxed_extended_json (&reply, NULL));
   bson_destroy (&reply);
   bson_destroy (sel);
   bson_destroy (upd);
   sel = json ("{\"_id\": \"up\"}");
   upd = json ("{\"$set\": {\"title\": \"upserted\"}}");
   opts = json ("{\"upsert\": true}");
   CHECK (mongoc_collection_update_one (coll, sel, upd, opts, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "matchedCount") == 0 && get_int (&reply, "upsertedCount") == 1,
          "%s", bson_as_relaxed_extended_json (&reply, NULL));
   CHECK (get_type (&reply, "upsertedId") == BSON_TYPE_UTF8, "upsertedId");
   bson_destroy (&reply);
   bson_destroy (sel);
   bson_destroy (upd);
   /* replace_one with upsert */
   bson_t *repl = json ("{\"title\": \"replaced\", \"_v\": {\"$numberLong\": \"1\"}}");
   sel = json ("{\"_id\": \"rep\"}");
   CHECK (mongoc_collection_replace_one (coll, sel, repl, opts, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "upsertedCount") == 1, "replace upsert");
   bson_destroy (&reply);
   bson_destroy (sel);
   bson_destroy (repl);
   bson_destroy (opts);
   ok ("update_one $set, upsert; replace_one upsert");

   /* conditional update on _v: fresh then stale */
   sel = json ("{\"_id\": \"my-id\", \"_v\": {\"$numberLong\": \"1\"}}");
   upd = json ("{\"$set\": {\"title\": \"Bread 2\"}, \"$inc\": {\"_v\": {\"$numberLong\": \"1\"}}}");
   CHECK (mongoc_collection_update_one (coll, sel, upd, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "matchedCount") == 1, "fresh");
   bson_destroy (&reply);
   CHECK (mongoc_collection_update_one (coll, sel, upd, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "matchedCount") == 0 && get_int (&reply, "modifiedCount") == 0,
          "stale matched");
   bson_destroy (&reply);
   bson_destroy (sel);
   bson_destroy (upd);
   sel = json ("{\"_id\": \"my-id\"}");
   cursor = mongoc_collection_find_with_opts (coll, sel, NULL, NULL);
   CHECK (mongoc_cursor_next (cursor, &found), "gone");
   CHECK (get_int (found, "_v") == 2 && get_type (found, "_v") == BSON_TYPE_INT64,
          "_v %s", bson_as_relaxed_extended_json (found, NULL));
   mongoc_cursor_destroy (cursor);
   bson_destroy (sel);
   ok ("conditional update: n=0 when stale, _v stays int64");

   /* delete */
   sel = json ("{\"_id\": \"up\"}");
   CHECK (mongoc_collection_delete_one (coll, sel, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "deletedCount") == 1, "deleted");
   bson_destroy (&reply);
   CHECK (mongoc_collection_delete_one (coll, sel, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "deletedCount") == 0, "deleted twice");
   bson_destroy (&reply);
   bson_destroy (sel);
   sel = json ("{\"odd\": true}");
   CHECK (mongoc_collection_delete_many (coll, sel, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "deletedCount") == 10, "deleted many");
   bson_destroy (&reply);
   bson_destroy (sel);
   ok ("delete_one, delete_many");

   /* count_documents (aggregate $match/$skip/$limit/$group), estimated count */
   sel = json ("{\"n\": {\"$gte\": 4}}");
   opts = json ("{\"skip\": 1, \"limit\": 3}");
   int64_t n = mongoc_collection_count_documents (coll, sel, NULL, NULL, NULL, &error);
   CHECK (n == 8, "count %lld %s", (long long) n, error.message);
   n = mongoc_collection_count_documents (coll, sel, opts, NULL, NULL, &error);
   CHECK (n == 3, "count with skip/limit %lld %s", (long long) n, error.message);
   bson_destroy (opts);
   bson_destroy (sel);
   sel = json ("{\"nothing\": 1}");
   n = mongoc_collection_count_documents (coll, sel, NULL, NULL, NULL, &error);
   CHECK (n == 0, "count of nothing %lld %s", (long long) n, error.message);
   bson_destroy (sel);
   n = mongoc_collection_estimated_document_count (coll, NULL, NULL, NULL, &error);
   CHECK (n == 13, "estimated %lld %s", (long long) n, error.message);
   ok ("count_documents, estimated_document_count");

   /* aggregate */
   bson_t *pipeline = json ("[{\"$match\": {\"n\": {\"$exists\": true}}},"
                            " {\"$group\": {\"_id\": null, \"total\": {\"$sum\": \"$n\"}}}]");
   cursor = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   CHECK (mongoc_cursor_next (cursor, &found), "aggregate empty");
   CHECK (get_int (found, "total") == 0 + 2 + 4 + 6 + 8 + 10 + 12 + 14 + 16 + 18, "total");
   CHECK (!mongoc_cursor_next (cursor, &found), "aggregate extra");
   CHECK (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   mongoc_cursor_destroy (cursor);
   bson_destroy (pipeline);
   ok ("aggregate");

   mongoc_collection_destroy (coll);
}

static void
test_indexes (mongoc_client_t *client)
{
   bson_error_t error;
   bson_t reply;
   mongoc_database_t *db = mongoc_client_get_database (client, "smoke");
   mongoc_collection_t *coll = fresh (client, "smoke", "uniq");
   bson_t *cmd = json ("{\"createIndexes\": \"uniq\", \"indexes\": ["
                       "{\"key\": {\"slug\": 1}, \"name\": \"slug_1\", \"unique\": true},"
                       "{\"key\": {\"done\": 1}, \"name\": \"done_1\"}]}");
   CHECK (mongoc_database_write_command_with_opts (db, cmd, NULL, &reply, &error), "%s",
          error.message);
   CHECK (get_int (&reply, "numIndexesBefore") == 1 && get_int (&reply, "numIndexesAfter") == 3,
          "%s", bson_as_relaxed_extended_json (&reply, NULL));
   bson_destroy (&reply);
   bson_destroy (cmd);

   bson_t *doc = json ("{\"_id\": \"a\", \"slug\": \"milk\"}");
   CHECK (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s", error.message);
   bson_destroy (doc);
   doc = json ("{\"_id\": \"b\", \"slug\": \"milk\"}");
   CHECK (!mongoc_collection_insert_one (coll, doc, NULL, &reply, &error), "dup accepted");
   CHECK (error.code == 11000, "code %u", error.code);
   CHECK (strstr (error.message, "index: slug_1") != NULL, "%s", error.message);
   bson_destroy (&reply);
   bson_destroy (doc);

   int names = 0;
   mongoc_cursor_t *cursor = mongoc_collection_find_indexes_with_opts (coll, NULL);
   const bson_t *found;
   while (mongoc_cursor_next (cursor, &found)) {
      names++;
   }
   CHECK (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   CHECK (names == 3, "indexes %d", names);
   mongoc_cursor_destroy (cursor);
   ok ("createIndexes unique, duplicate is 11000 naming the index, listIndexes");

   char **colls = mongoc_database_get_collection_names_with_opts (db, NULL, &error);
   CHECK (colls, "%s", error.message);
   int seen = 0;
   for (char **c = colls; *c; c++) {
      seen += strcmp (*c, "uniq") == 0 || strcmp (*c, "todos") == 0;
   }
   bson_strfreev (colls);
   CHECK (seen == 2, "collections");
   CHECK (mongoc_collection_drop (coll, &error), "%s", error.message);
   CHECK (!mongoc_collection_drop (coll, &error) && error.code == 26,
          "second drop: %u %s", error.code, error.message);
   ok ("listCollections, drop");

   mongoc_collection_destroy (coll);
   mongoc_database_destroy (db);
}

static void
test_unknown_command (mongoc_client_t *client)
{
   bson_error_t error;
   bson_t *cmd = json ("{\"noSuchCommand\": 1}");
   CHECK (!mongoc_client_command_simple (client, "smoke", cmd, NULL, NULL, &error), "ok?");
   CHECK (error.code == 59, "code %u %s", error.code, error.message);
   bson_destroy (cmd);
   ok ("unknown command is 59");
}

/* findAndModify as an atomic sequence, from a pool on several threads */
#define THREADS 6
#define PER_THREAD 20
static int64_t values[THREADS * PER_THREAD];

static int64_t
next_seq (mongoc_collection_t *coll)
{
   bson_error_t error;
   bson_t reply;
   bson_t *query = json ("{\"_id\": \"seq\"}");
   bson_t *update = json ("{\"$inc\": {\"n\": {\"$numberLong\": \"1\"}}}");
   mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_update (opts, update);
   mongoc_find_and_modify_opts_set_flags (
      opts, MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW);
   CHECK (mongoc_collection_find_and_modify_with_opts (coll, query, opts, &reply, &error),
          "%s", error.message);
   CHECK (get_type (&reply, "value.n") == BSON_TYPE_INT64, "n type %d",
          (int) get_type (&reply, "value.n"));
   int64_t n = get_int (&reply, "value.n");
   bson_destroy (&reply);
   mongoc_find_and_modify_opts_destroy (opts);
   bson_destroy (query);
   bson_destroy (update);
   return n;
}

static mongoc_client_pool_t *pool;

static void *
worker (void *arg)
{
   int t = (int) (intptr_t) arg;
   for (int i = 0; i < PER_THREAD; i++) {
      mongoc_client_t *client = mongoc_client_pool_pop (pool);
      mongoc_collection_t *coll = mongoc_client_get_collection (client, "smoke", "counters");
      values[t * PER_THREAD + i] = next_seq (coll);
      mongoc_collection_destroy (coll);
      mongoc_client_pool_push (pool, client);
   }
   return NULL;
}

static int
cmp (const void *a, const void *b)
{
   int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
   return x < y ? -1 : x > y;
}

static void
test_pool_sequence (void)
{
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (uri_string, &error);
   CHECK (uri, "%s", error.message);
   pool = mongoc_client_pool_new (uri);
   mongoc_client_pool_set_error_api (pool, MONGOC_ERROR_API_VERSION_2);
   mongoc_client_t *client = mongoc_client_pool_pop (pool);
   mongoc_collection_t *coll = fresh (client, "smoke", "counters");
   CHECK (next_seq (coll) == 1, "first");
   CHECK (next_seq (coll) == 2, "second");
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (pool, client);

   pthread_t threads[THREADS];
   for (int t = 0; t < THREADS; t++) {
      pthread_create (&threads[t], NULL, worker, (void *) (intptr_t) t);
   }
   for (int t = 0; t < THREADS; t++) {
      pthread_join (threads[t], NULL);
   }
   qsort (values, THREADS * PER_THREAD, sizeof values[0], cmp);
   for (int i = 0; i < THREADS * PER_THREAD; i++) {
      CHECK (values[i] == i + 3, "sequence %d is %lld", i, (long long) values[i]);
   }
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (uri);
   ok ("findAndModify $inc upsert+new is an atomic sequence from a pool of 6 threads");
}

int
main (int argc, char **argv)
{
   bson_error_t error;
   CHECK (argc == 2, "usage: %s URI", argv[0]);
   uri_string = argv[1];
   mongoc_init ();

   mongoc_client_t *client = mongoc_client_new (uri_string);
   CHECK (client, "bad uri");
   mongoc_client_set_error_api (client, MONGOC_ERROR_API_VERSION_2);
   bson_t *ping = json ("{\"ping\": 1}");
   bson_t reply;
   CHECK (mongoc_client_command_simple (client, "admin", ping, NULL, &reply, &error), "%s",
          error.message);
   bson_destroy (&reply);
   bson_destroy (ping);
   mongoc_server_description_t *sd = mongoc_client_select_server (client, true, NULL, &error);
   CHECK (sd, "%s", error.message);
   CHECK (strcmp (mongoc_server_description_type (sd), "Standalone") == 0, "type %s",
          mongoc_server_description_type (sd));
   mongoc_server_description_destroy (sd);
   ok ("handshake and ping (standalone)");

   test_crud (client);
   test_indexes (client);
   test_unknown_command (client);
   mongoc_client_destroy (client); /* sends endSessions */

   test_pool_sequence ();

   mongoc_cleanup ();
   printf ("all ok\n");
   return 0;
}
