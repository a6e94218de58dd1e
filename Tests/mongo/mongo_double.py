#!/usr/bin/env python3
"""A MongoDB TEST DOUBLE: not a MongoDB server.

It speaks enough of the MongoDB wire protocol (through ``mockupdb``) for
libmongoc 1.23 and pymongo to connect, and answers each command by running it on
an in-memory ``mongomock.MongoClient``. It exists because no MongoDB server can be
installed where BackboneSSE's tests run; it lets the MongoDB backend be tested
end to end through the real driver. Every database is lost when it stops.

    python3 Tests/mongo/mongo_double.py --port 0 [--port-file PATH] [--verbose]

prints ``listening on 127.0.0.1:PORT`` once it accepts connections (and writes
PORT to --port-file), then serves until SIGTERM or SIGINT.

What it implements (see Tests/mongo/README.md for the details):
  handshake (legacy OP_QUERY ``isMaster``/``ismaster``, OP_MSG ``hello``/``isMaster``)
  as a standalone server, ``buildInfo``, ``ping``, ``endSessions``, ``killCursors``,
  ``getLastError``; OP_MSG commands with kind-1 sections: ``insert``, ``update``,
  ``delete``, ``find``, ``getMore``, ``aggregate``, ``count``, ``distinct``,
  ``findAndModify``, ``createIndexes``, ``listIndexes``, ``dropIndexes``, ``drop``,
  ``dropDatabase``, ``listCollections``, ``listDatabases``, ``create``.

What it does not: authentication, TLS, compression, transactions (refused with
code 20 like a standalone server), change streams, tailable cursors, retryable
writes, read/write concerns beyond acknowledging, collations, arrayFilters, hints,
text/geo indexes, real concurrency (one command runs at a time), cursors that see
later writes (a cursor is a snapshot), and exact server error texts (codes are
real for duplicate keys, 11000; unknown commands, 59; missing namespaces, 26; the
messages are close but not the server's). Query and update semantics are
mongomock's, which differ from MongoDB's in corner cases.
"""

import argparse
import datetime
import os
import random
import signal
import sys
import threading
import time
import traceback
import weakref
from collections import OrderedDict

import bson
from bson.int64 import Int64
import mockupdb
import mongomock
from mongomock import filtering as mm_filtering

try:  # pymongo >= 3 (mockupdb depends on pymongo, so it is there)
    from pymongo import ReturnDocument
    _AFTER, _BEFORE = ReturnDocument.AFTER, ReturnDocument.BEFORE
except ImportError:  # pragma: no cover
    _AFTER, _BEFORE = True, False

# maxWireVersion -> the server version we claim (and tell mongomock to emulate).
_SERVER_VERSIONS = {6: '3.6.0', 7: '4.0.0', 8: '4.2.0', 9: '4.4.0', 10: '4.7.0',
                    11: '4.8.0', 12: '4.9.0', 13: '5.0.0', 14: '5.1.0',
                    15: '5.2.0', 16: '5.3.0', 17: '6.0.0'}
DEFAULT_MAX_WIRE_VERSION = 9  # libmongoc 1.23 accepts 6..17, pymongo 4.20 needs >= 9

MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE_BYTES = 48000000
MAX_WRITE_BATCH_SIZE = 100000
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_SECONDS = 600  # a real server's cursorTimeoutMillis
MORE_TO_COME = mockupdb.OP_MSG_FLAGS['moreToCome']

# Server error codes (src/mongo/base/error_codes.yml).
BAD_VALUE = 2
UNAUTHORIZED = 13
ILLEGAL_OPERATION = 20
NAMESPACE_NOT_FOUND = 26
INDEX_NOT_FOUND = 27
CURSOR_NOT_FOUND = 43
NAMESPACE_EXISTS = 48
MAX_TIME_MS_EXPIRED = 50
COMMAND_NOT_FOUND = 59
INDEX_OPTIONS_CONFLICT = 85
COMMAND_NOT_SUPPORTED = 115
NOT_IMPLEMENTED = 238
DUPLICATE_KEY = 11000
CODE_NAMES = {BAD_VALUE: 'BadValue', UNAUTHORIZED: 'Unauthorized',
              ILLEGAL_OPERATION: 'IllegalOperation',
              NAMESPACE_NOT_FOUND: 'NamespaceNotFound', INDEX_NOT_FOUND: 'IndexNotFound',
              CURSOR_NOT_FOUND: 'CursorNotFound', NAMESPACE_EXISTS: 'NamespaceExists',
              MAX_TIME_MS_EXPIRED: 'MaxTimeMSExpired',
              COMMAND_NOT_FOUND: 'CommandNotFound',
              INDEX_OPTIONS_CONFLICT: 'IndexOptionsConflict',
              COMMAND_NOT_SUPPORTED: 'CommandNotSupported',
              NOT_IMPLEMENTED: 'NotImplemented', DUPLICATE_KEY: 'DuplicateKey'}


class CommandError(Exception):
    """A command failure, answered as {ok: 0, errmsg, code, codeName}."""

    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg
        self.extra = extra


# --- duplicate key errors that say which index --------------------------------
# mongomock raises a bare 'E11000 Duplicate Key Error'. A caller that maps a
# duplicate to "id taken" versus "unique field taken" needs to know the index, so
# wrap mongomock's unique check to name it, in the server's own format.

def _dup_key_error(ns, name, key_list, values):
    pattern = OrderedDict((k, d) for k, d in key_list)
    value = OrderedDict(zip([k for k, _ in key_list], values))
    shown = ', '.join('%s: %s' % (k, _json_ish(v)) for k, v in value.items())
    err = mongomock.DuplicateKeyError(
        'E11000 duplicate key error collection: %s index: %s dup key: { %s }'
        % (ns, name, shown), DUPLICATE_KEY)
    err.key_pattern, err.key_value = pattern, value
    return err


def _json_ish(value):
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, bson.ObjectId):
        return "ObjectId('%s')" % value
    if value is None:
        return 'null'
    return repr(value)


def _patch_mongomock_unique_check():
    Collection = mongomock.collection.Collection
    original = getattr(Collection, '_ensure_uniques', None)
    if original is None:  # another mongomock: keep its generic message
        return
    get = mongomock.helpers.get_value_by_dot

    def _ensure_uniques(self, new_data):
        try:
            original(self, new_data)
        except mongomock.DuplicateKeyError:
            for name, index in self._store.indexes.items():
                if not index.get('unique'):
                    continue
                values = []
                for key, _ in index['key']:
                    try:
                        values.append(get(new_data, key))
                    except KeyError:
                        values.append(None)
                if index.get('sparse') and all(v is None for v in values):
                    continue
                query = {k: v for (k, _), v in zip(index['key'], values)}
                if index.get('partialFilterExpression') is not None:
                    query = {'$and': [index['partialFilterExpression'], query]}
                if len(list(self._iter_documents(query))) > 1:
                    raise _dup_key_error(self.full_name, name, index['key'], values)
            raise

    Collection._ensure_uniques = _ensure_uniques


def _patch_mongomock_inc():
    """$inc keeps an int64 an int64, as the server does.

    mongomock adds Python ints: Int64(5) + 1 is a plain int, which goes back on the
    wire as int32 when it fits. The server's rule: int64 with anything integral is
    int64 (and int32 overflow widens to int64, which Python's encoder does anyway).
    """
    updaters = getattr(mongomock.collection, '_updaters', None)
    original = updaters.get('$inc') if isinstance(updaters, dict) else None
    if original is None:
        return

    def widen(old, inc, new):
        if isinstance(new, int) and not isinstance(new, (bool, Int64)) and \
                (isinstance(old, Int64) or isinstance(inc, Int64)):
            return Int64(new)
        return new

    def _inc_updater(doc, field_name, value):
        if isinstance(doc, dict):
            old = doc.get(field_name, 0)
            original(doc, field_name, value)
            if field_name in doc:
                doc[field_name] = widen(old, value, doc[field_name])
        elif isinstance(doc, list):
            i = int(field_name)
            old = doc[i] if 0 <= i < len(doc) else 0
            original(doc, field_name, value)
            if 0 <= i < len(doc):
                doc[i] = widen(old, value, doc[i])
        else:
            original(doc, field_name, value)

    updaters['$inc'] = _inc_updater


def _patch_mongomock_typed_equality():
    """Booleans are not numbers, as on a server: {done: {$eq: true}} must not match a
    1 (mongomock compares with Python's ==, where True == 1), in $eq, $ne, $in, $nin."""
    filtering = mongomock.filtering
    nothing = filtering.NOTHING

    def same(a, b):
        if isinstance(a, bool) or isinstance(b, bool):
            return isinstance(a, bool) and isinstance(b, bool) and a == b
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict) and isinstance(b, dict):
            return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
        return a == b

    def eq(doc_val, search_val):
        if doc_val is nothing and search_val is None:
            return True
        return same(doc_val, search_val)

    def in_op(doc_val, search_val):
        if not isinstance(search_val, (list, tuple)):
            raise mongomock.OperationFailure('$in needs an array')
        if doc_val is nothing:
            return any(s is None for s in search_val)
        values = list(doc_val) if isinstance(doc_val, (list, tuple)) else [doc_val]
        if isinstance(doc_val, (list, tuple)):
            values.append(doc_val)
        return any(same(v, s) for v in values for s in search_val)

    operators = filtering._filterer_inst._operator_map
    operators['$eq'] = filtering._list_expand(eq)
    operators['$ne'] = filtering._list_expand(lambda dv, sv: not eq(dv, sv), negative=True)
    operators['$in'] = in_op
    operators['$nin'] = lambda dv, sv: not in_op(dv, sv)


_patch_mongomock_unique_check()
_patch_mongomock_inc()
_patch_mongomock_typed_equality()


# --- helpers -----------------------------------------------------------------

def _int(value, field, default=0):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError(BAD_VALUE, "BSON field '%s' is the wrong type" % field)
    return int(value)


def _doc(value, field, default=None):
    if value is None:
        return {} if default is None else default
    if not isinstance(value, dict):
        raise CommandError(BAD_VALUE, "BSON field '%s' must be a document" % field)
    return value


class _TimeLimit:
    """A read's `maxTimeMS`: a server stops the operation once it has run that long
    and answers code 50 instead of a result. mongomock cannot be stopped midway, so
    the read runs to its end and is refused afterwards if it took longer; either way
    the client gets no result past its limit. 0 or absent: no limit."""

    def __init__(self, cmd):
        limit = cmd.get('maxTimeMS')
        if limit is None:
            self.limit = 0
        elif isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit != int(limit):
            raise CommandError(BAD_VALUE, "maxTimeMS must be a number")
        elif not 0 <= limit <= 2**31 - 1:
            raise CommandError(BAD_VALUE, "%d value for maxTimeMS is out of range [0, 2147483647]" % limit)
        else:
            self.limit = int(limit)
        self.started = time.monotonic()

    def check(self):
        if self.limit and (time.monotonic() - self.started) * 1000 > self.limit:
            raise CommandError(MAX_TIME_MS_EXPIRED, 'operation exceeded time limit')


def _is_operator_update(update):
    return isinstance(update, dict) and bool(update) and \
        all(k.startswith('$') for k in update)


def _bson_size(doc):
    return len(bson.encode(doc))


def _id_first(coll, _id):
    """An upserted document built from a filter without _id gets _id last in
    mongomock; the server puts _id first. Reorder it in mongomock's store."""
    try:
        key = mongomock.helpers.hashdict(_id) if isinstance(_id, dict) else _id
        doc = coll._store[key]
        if next(iter(doc), '_id') != '_id':
            rest = [(k, v) for k, v in doc.items() if k != '_id']
            doc.clear()
            doc['_id'] = _id
            doc.update(rest)
    except Exception:  # cosmetic only: never fail a write over it
        pass


# --- the double --------------------------------------------------------------

def _write_reply(fields, errors):
    """A write command's reply: its counts, `writeErrors` when any, `ok`."""
    reply = OrderedDict(fields)
    if errors:
        reply['writeErrors'] = errors
    reply['ok'] = 1
    return reply


class MongoDouble:
    """Answers mockupdb requests from an in-memory mongomock client."""

    def __init__(self, max_wire_version=DEFAULT_MAX_WIRE_VERSION, verbose=False):
        self.max_wire_version = max_wire_version
        self.version = _SERVER_VERSIONS.get(max_wire_version, '4.4.0')
        mongomock.SERVER_VERSION = self.version  # mongomock reads it per client
        self.client = mongomock.MongoClient()
        self.lock = threading.RLock()  # mockupdb serves each connection on a thread
        self.verbose = verbose
        self.cursors = {}  # id -> dict(ns, docs, pos, used)
        self._connection_ids = weakref.WeakKeyDictionary()
        self._next_connection_id = 1
        self.server = None

    # -- server lifecycle --

    def start(self, host='127.0.0.1', port=0):
        server = mockupdb.MockupDB(port=port, auto_ismaster=None,
                                   request_timeout=int(1e6))
        # MockupDB binds ('localhost', port); the brief is 127.0.0.1 exactly.
        server._address = (host, port)
        server.autoresponds(self.handle)  # a bare function matches every request
        server.run()
        self.server = server
        return server.port

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None

    # -- dispatch --

    def handle(self, request):
        """mockupdb responder: always answers (returns True) so nothing queues."""
        try:
            self._handle(request)
        except OSError:
            pass  # the client went away; mockupdb's loop notices on its next read
        except Exception:  # never let a mockupdb thread die with the socket open
            traceback.print_exc()
            try:
                request.hangup()
            except Exception:
                pass
        return True

    def _handle(self, request):
        if isinstance(request, mockupdb.OpKillCursors):  # legacy, no reply
            with self.lock:
                for cid in request.cursor_ids:
                    self.cursors.pop(cid, None)
            return
        if isinstance(request, (mockupdb.OpInsert, mockupdb.OpUpdate,
                                mockupdb.OpDelete)):
            return  # legacy unacknowledged writes: libmongoc 1.23 never sends them
        if isinstance(request, mockupdb.OpGetMore) or (
                isinstance(request, mockupdb.OpQuery)
                and not isinstance(request, mockupdb.Command)):
            request.fail('legacy OP_QUERY/OP_GET_MORE reads are not implemented by '
                         'the test double; use a driver that speaks OP_MSG')
            return

        is_msg = isinstance(request, mockupdb.OpMsg)
        cmd = request.doc
        if not is_msg and '$query' in cmd:  # legacy {$query: {...}, $readPreference}
            cmd = cmd['$query']
        db = request.namespace
        name = self._command_name(cmd)
        no_reply = is_msg and bool((request.flags or 0) & MORE_TO_COME)
        if self.verbose:
            print('%s.%s %s' % (db, name, dict(cmd)), file=sys.stderr, flush=True)

        try:
            with self.lock:
                reply = self._run(request, db, name, cmd)
        except CommandError as e:
            reply = OrderedDict([('ok', 0), ('errmsg', e.errmsg), ('code', e.code),
                                 ('codeName', CODE_NAMES.get(e.code, 'Error'))])
            reply.update(e.extra)
        except mongomock.DuplicateKeyError as e:
            reply = self._dup_reply(e)
        except NotImplementedError as e:
            reply = OrderedDict([('ok', 0), ('code', NOT_IMPLEMENTED),
                                 ('codeName', 'NotImplemented'),
                                 ('errmsg', 'not implemented by the test double '
                                  '(mongomock): %s' % e)])
        except mongomock.OperationFailure as e:
            code = e.code if isinstance(getattr(e, 'code', None), int) else BAD_VALUE
            reply = OrderedDict([('ok', 0), ('errmsg', str(e)), ('code', code),
                                 ('codeName', CODE_NAMES.get(code, 'Error'))])
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
            if self.verbose:
                traceback.print_exc()
            reply = OrderedDict([('ok', 0), ('errmsg', '%s: %s' % (type(e).__name__, e)),
                                 ('code', BAD_VALUE), ('codeName', 'BadValue')])
        if no_reply:
            return
        if self.verbose:
            print('  -> %s' % dict(reply), file=sys.stderr, flush=True)
        request.replies(reply)

    @staticmethod
    def _command_name(cmd):
        for key in cmd:
            if key not in ('documents', 'updates', 'deletes') or \
                    not isinstance(cmd[key], list):
                return key
        return next(iter(cmd), '')

    def _run(self, request, db, name, cmd):
        if cmd.get('startTransaction') or cmd.get('autocommit') is False or \
                name in ('commitTransaction', 'abortTransaction'):
            raise CommandError(ILLEGAL_OPERATION,
                               'Transaction numbers are only allowed on a replica set '
                               'member or mongos (this is a standalone test double)')
        handler = self.COMMANDS.get(name) or self.COMMANDS.get(name.lower())
        if handler is None:
            raise CommandError(COMMAND_NOT_FOUND, "no such command: '%s'" % name)
        return handler(self, request, db, cmd)

    def _coll(self, db, cmd, name):
        coll = cmd.get(name)
        if not isinstance(coll, str) or not coll:
            raise CommandError(BAD_VALUE, "collection name has invalid type %s"
                               % type(coll).__name__)
        return self.client[db][coll]

    def _exists(self, db, coll):
        return coll in self.client[db].list_collection_names()

    def _dup_reply(self, e):
        return OrderedDict([('ok', 0), ('errmsg', str(e)), ('code', DUPLICATE_KEY),
                            ('codeName', 'DuplicateKey')] + self._dup_extra(e))

    @staticmethod
    def _dup_extra(e):
        if getattr(e, 'key_pattern', None) is None:
            return []
        return [('keyPattern', e.key_pattern), ('keyValue', e.key_value)]

    def _write_error(self, index, e):
        if isinstance(e, mongomock.DuplicateKeyError):
            return OrderedDict([('index', index), ('code', DUPLICATE_KEY),
                                ('errmsg', str(e))] + self._dup_extra(e))
        if isinstance(e, NotImplementedError):
            return OrderedDict([('index', index), ('code', NOT_IMPLEMENTED),
                                ('errmsg', 'not implemented by the test double '
                                 '(mongomock): %s' % e)])
        code = getattr(e, 'code', None)
        if not isinstance(code, int) or code == 0:
            code = BAD_VALUE
        return OrderedDict([('index', index), ('code', code), ('errmsg', str(e))])

    # -- handshake and housekeeping --

    def _connection_id(self, request):
        sock = getattr(request, '_client', None)
        if sock is None:
            return 0
        cid = self._connection_ids.get(sock)
        if cid is None:
            cid = self._connection_ids[sock] = self._next_connection_id
            self._next_connection_id += 1
        return cid

    def cmd_hello(self, request, db, cmd):
        reply = OrderedDict([
            ('ismaster', True), ('isWritablePrimary', True),
            ('maxBsonObjectSize', MAX_BSON_OBJECT_SIZE),
            ('maxMessageSizeBytes', MAX_MESSAGE_SIZE_BYTES),
            ('maxWriteBatchSize', MAX_WRITE_BATCH_SIZE),
            ('localTime', datetime.datetime.now(datetime.timezone.utc)),
            ('logicalSessionTimeoutMinutes', 30),
            ('connectionId', self._connection_id(request)),
            ('minWireVersion', 0), ('maxWireVersion', self.max_wire_version),
            ('readOnly', False), ('ok', 1)])
        # No setName (standalone), no topologyVersion (so no streaming/awaitable
        # hello), no compression, no saslSupportedMechs.
        if cmd.get('helloOk'):
            reply['helloOk'] = True
        return reply

    def cmd_build_info(self, request, db, cmd):
        return OrderedDict([
            ('version', self.version),
            ('gitVersion', 'test-double'),
            ('versionArray', [int(p) for p in self.version.split('.')] + [0]),
            ('bits', 64), ('debug', False), ('maxBsonObjectSize', MAX_BSON_OBJECT_SIZE),
            ('storageEngines', ['mongomock']), ('ok', 1)])

    def cmd_ok(self, request, db, cmd):
        return {'ok': 1}

    def cmd_get_last_error(self, request, db, cmd):
        return OrderedDict([('ok', 1), ('err', None), ('n', 0),
                            ('connectionId', self._connection_id(request))])

    def cmd_kill_cursors(self, request, db, cmd):
        ns = '%s.%s' % (db, cmd.get('killCursors'))
        killed, not_found = [], []
        for cid in cmd.get('cursors') or []:
            cursor = self.cursors.get(cid)
            if cursor is not None and cursor['ns'] == ns:
                del self.cursors[cid]
                killed.append(Int64(cid))
            else:
                not_found.append(Int64(cid))
        return OrderedDict([('cursorsKilled', killed), ('cursorsNotFound', not_found),
                            ('cursorsAlive', []), ('cursorsUnknown', []), ('ok', 1)])

    # -- cursors --

    def _cursor_reply(self, ns, docs, batch_size, single_batch=False):
        """First batch of a new cursor; the rest is kept for getMore."""
        now = time.monotonic()
        for cid in [c for c, v in self.cursors.items()
                    if now - v['used'] > CURSOR_IDLE_SECONDS]:
            del self.cursors[cid]
        limit = DEFAULT_FIRST_BATCH if batch_size is None else batch_size
        batch, pos = self._batch(docs, 0, limit)
        cid = 0
        if pos < len(docs) and not single_batch:
            cid = random.randint(1, 2 ** 62)
            self.cursors[cid] = {'ns': ns, 'docs': docs, 'pos': pos, 'used': now}
        return OrderedDict([('cursor', OrderedDict([
            ('firstBatch', batch), ('id', Int64(cid)), ('ns', ns)])), ('ok', 1)])

    @staticmethod
    def _batch(docs, pos, limit):
        """Up to `limit` docs (0: no limit) from pos, within a 16 MiB reply."""
        batch, size = [], 0
        budget = MAX_BSON_OBJECT_SIZE - 16 * 1024
        while pos < len(docs) and (limit == 0 or len(batch) < limit):
            doc_size = _bson_size(docs[pos])
            if batch and size + doc_size > budget:
                break
            batch.append(docs[pos])
            size += doc_size
            pos += 1
        return batch, pos

    def cmd_get_more(self, request, db, cmd):
        cid = cmd.get('getMore')
        ns = '%s.%s' % (db, cmd.get('collection'))
        cursor = self.cursors.get(cid)
        if cursor is None:
            raise CommandError(CURSOR_NOT_FOUND, 'cursor id %s not found' % cid)
        if cursor['ns'] != ns:
            raise CommandError(UNAUTHORIZED,
                               "Requested getMore on namespace '%s', but cursor "
                               "belongs to a different namespace %s" % (ns, cursor['ns']))
        batch_size = _int(cmd.get('batchSize'), 'batchSize', 0)
        batch, cursor['pos'] = self._batch(cursor['docs'], cursor['pos'], batch_size)
        cursor['used'] = time.monotonic()
        if cursor['pos'] >= len(cursor['docs']):
            del self.cursors[cid]
            cid = 0
        return OrderedDict([('cursor', OrderedDict([
            ('nextBatch', batch), ('id', Int64(cid)), ('ns', ns)])), ('ok', 1)])

    # -- reads --

    def cmd_find(self, request, db, cmd):
        coll = self._coll(db, cmd, name=next(iter(cmd)))
        time_limit = _TimeLimit(cmd)
        if cmd.get('tailable') or cmd.get('awaitData'):
            raise CommandError(COMMAND_NOT_SUPPORTED,
                               'tailable cursors are not implemented by the test double')
        filt = _doc(cmd.get('filter'), 'filter')
        sort = _doc(cmd.get('sort'), 'sort')
        projection = cmd.get('projection') or None
        skip = _int(cmd.get('skip'), 'skip')
        limit = _int(cmd.get('limit'), 'limit')
        if skip < 0:
            raise CommandError(51024, "BSON field 'skip' value must be >= 0, "
                               "actual value '%d'" % skip)
        single_batch = bool(cmd.get('singleBatch')) or limit < 0
        limit = abs(limit)
        batch_size = cmd.get('batchSize')
        if batch_size is not None:
            batch_size = _int(batch_size, 'batchSize')
            if batch_size < 0:
                raise CommandError(51024, "BSON field 'batchSize' value must be >= 0")
        docs = list(coll.find(filt, projection, skip=skip, limit=limit,
                              sort=list(sort.items()) or None))
        time_limit.check()
        return self._cursor_reply(coll.full_name, docs, batch_size, single_batch)

    def cmd_aggregate(self, request, db, cmd):
        if not isinstance(cmd.get('aggregate'), str):
            raise CommandError(COMMAND_NOT_SUPPORTED, 'database-level aggregate '
                               '({aggregate: 1}) is not implemented by the test double')
        coll = self._coll(db, cmd, 'aggregate')
        time_limit = _TimeLimit(cmd)
        pipeline = cmd.get('pipeline')
        if not isinstance(pipeline, list):
            raise CommandError(BAD_VALUE, "'pipeline' option must be specified as an array")
        if cmd.get('explain'):
            raise CommandError(COMMAND_NOT_SUPPORTED, 'explain is not implemented')
        cursor_opts = _doc(cmd.get('cursor'), 'cursor')
        batch_size = cursor_opts.get('batchSize')
        if batch_size is not None:
            batch_size = _int(batch_size, 'cursor.batchSize')
        docs = list(coll.aggregate(pipeline))
        time_limit.check()
        return self._cursor_reply(coll.full_name, docs, batch_size)

    def cmd_count(self, request, db, cmd):
        coll = self._coll(db, cmd, 'count')
        time_limit = _TimeLimit(cmd)
        query = _doc(cmd.get('query'), 'query')
        skip = _int(cmd.get('skip'), 'skip')
        limit = abs(_int(cmd.get('limit'), 'limit'))
        n = len(list(coll.find(query, {'_id': 1})))
        n = max(n - skip, 0)
        if limit:
            n = min(n, limit)
        time_limit.check()
        return OrderedDict([('n', n), ('ok', 1)])

    def cmd_distinct(self, request, db, cmd):
        coll = self._coll(db, cmd, 'distinct')
        key = cmd.get('key')
        if not isinstance(key, str):
            raise CommandError(BAD_VALUE, "'key' must be a string")
        values = coll.distinct(key, _doc(cmd.get('query'), 'query'))
        return OrderedDict([('values', values), ('ok', 1)])

    # -- writes --

    def cmd_insert(self, request, db, cmd):
        coll = self._coll(db, cmd, 'insert')
        docs = cmd.get('documents') or []
        ordered = cmd.get('ordered', True) is not False
        n, errors = 0, []
        for i, doc in enumerate(docs):
            try:
                if '_id' in doc and coll.find_one({'_id': doc['_id']}, {'_id': 1}) \
                        is not None:
                    raise _dup_key_error(coll.full_name, '_id_', [('_id', 1)],
                                         [doc['_id']])
                coll.insert_one(doc)
                n += 1
            except (mongomock.WriteError, mongomock.OperationFailure, ValueError,
                    TypeError, NotImplementedError, bson.errors.InvalidDocument) as e:
                errors.append(self._write_error(i, e))
                if ordered:
                    break
        return _write_reply([('n', n)], errors)

    def cmd_update(self, request, db, cmd):
        coll = self._coll(db, cmd, 'update')
        ordered = cmd.get('ordered', True) is not False
        n = n_modified = 0
        upserted, errors = [], []
        for i, op in enumerate(cmd.get('updates') or []):
            try:
                q = _doc(op.get('q'), 'q')
                u = op.get('u')
                upsert = bool(op.get('upsert'))
                multi = bool(op.get('multi'))
                for unsupported in ('arrayFilters', 'collation', 'hint'):
                    if op.get(unsupported):
                        raise NotImplementedError('update with %s' % unsupported)
                if isinstance(u, list):  # pipeline update
                    result = (coll.update_many if multi else coll.update_one)(
                        q, u, upsert=upsert)
                elif _is_operator_update(u):
                    result = (coll.update_many if multi else coll.update_one)(
                        q, u, upsert=upsert)
                elif isinstance(u, dict):
                    if multi:
                        raise mongomock.WriteError(
                            'multi update is not supported for replacement-style update',
                            9)
                    result = coll.replace_one(q, u, upsert=upsert)
                else:
                    raise mongomock.WriteError("'u' must be a document or a pipeline",
                                               BAD_VALUE)
                raw = result.raw_result
                n += raw.get('n', 0)
                n_modified += raw.get('nModified', 0)
                if result.upserted_id is not None:
                    _id_first(coll, result.upserted_id)
                    upserted.append(OrderedDict([('index', i),
                                                 ('_id', result.upserted_id)]))
            except (mongomock.WriteError, mongomock.OperationFailure, ValueError,
                    TypeError, NotImplementedError, bson.errors.InvalidDocument) as e:
                errors.append(self._write_error(i, e))
                if ordered:
                    break
        fields = [('n', n), ('nModified', n_modified)]
        if upserted:
            fields.append(('upserted', upserted))
        return _write_reply(fields, errors)

    def cmd_delete(self, request, db, cmd):
        coll = self._coll(db, cmd, 'delete')
        ordered = cmd.get('ordered', True) is not False
        n, errors = 0, []
        for i, op in enumerate(cmd.get('deletes') or []):
            try:
                q = _doc(op.get('q'), 'q')
                limit = _int(op.get('limit'), 'limit')
                if limit not in (0, 1):
                    raise mongomock.WriteError('limit must be 0 or 1', BAD_VALUE)
                result = (coll.delete_one if limit == 1 else coll.delete_many)(q)
                n += result.deleted_count
            except (mongomock.WriteError, mongomock.OperationFailure, ValueError,
                    TypeError, NotImplementedError) as e:
                errors.append(self._write_error(i, e))
                if ordered:
                    break
        return _write_reply([('n', n)], errors)

    def cmd_find_and_modify(self, request, db, cmd):
        coll = self._coll(db, cmd, next(iter(cmd)))
        query = _doc(cmd.get('query'), 'query')
        sort = list(_doc(cmd.get('sort'), 'sort').items()) or None
        fields = cmd.get('fields') or None
        remove = bool(cmd.get('remove'))
        update = cmd.get('update')
        new = bool(cmd.get('new'))
        upsert = bool(cmd.get('upsert'))
        for unsupported in ('arrayFilters', 'collation', 'hint'):
            if cmd.get(unsupported):
                raise NotImplementedError('findAndModify with %s' % unsupported)
        if remove == (update is not None):
            raise CommandError(BAD_VALUE, 'Either an update or remove=true must be '
                               'specified' if not remove else
                               'Cannot specify both an update and remove=true')
        if remove and (new or upsert):
            raise CommandError(BAD_VALUE, 'Cannot specify both new=true and remove=true;'
                               ' upsert is not allowed with remove=true')

        def project(doc):
            if doc is None or not fields:
                return doc
            return coll.find_one({'_id': doc['_id']}, fields)

        pre = coll.find_one(query, sort=sort)
        pre_projected = project(pre)
        if remove:
            if pre is not None:
                coll.delete_one({'_id': pre['_id']})
            leo = OrderedDict([('n', 1 if pre is not None else 0)])
            value = pre_projected
        else:
            if isinstance(update, list) or _is_operator_update(update):
                after = coll.find_one_and_update(query, update, sort=sort, upsert=upsert,
                                                 return_document=_AFTER)
            elif isinstance(update, dict):
                after = coll.find_one_and_replace(query, update, sort=sort,
                                                  upsert=upsert, return_document=_AFTER)
            else:
                raise CommandError(BAD_VALUE, "'update' must be a document or pipeline")
            leo = OrderedDict([('n', 1 if after is not None else 0),
                               ('updatedExisting', pre is not None)])
            if pre is None and after is not None:
                leo['upserted'] = after['_id']
                _id_first(coll, after['_id'])
                after = coll.find_one({'_id': after['_id']})
            value = project(after) if new else pre_projected
        return OrderedDict([('lastErrorObject', leo), ('value', value), ('ok', 1)])

    # -- indexes and namespaces --

    def cmd_create_indexes(self, request, db, cmd):
        coll = self._coll(db, cmd, 'createIndexes')
        indexes = cmd.get('indexes')
        if not isinstance(indexes, list) or not indexes:
            raise CommandError(BAD_VALUE, "Must specify at least one index to create")
        existed = self._exists(db, coll.name)
        if not existed:
            self.client[db].create_collection(coll.name)
        before = len(coll.index_information())
        for spec in indexes:
            key = spec.get('key')
            name = spec.get('name')
            if not isinstance(key, dict) or not key or not isinstance(name, str):
                raise CommandError(BAD_VALUE, "index specs need a 'key' document and a "
                                   "'name' string")
            for direction in key.values():
                if isinstance(direction, str):
                    raise NotImplementedError('%r indexes' % direction)
            existing = coll.index_information().get(name)
            if name == '_id_' or (existing is not None and
                                  list(existing['key']) == list(key.items())):
                if existing is not None and bool(existing.get('unique')) != \
                        bool(spec.get('unique')):
                    raise CommandError(INDEX_OPTIONS_CONFLICT,
                                       'Index with name: %s already exists with '
                                       'different options' % name)
                continue
            if existing is not None:
                raise CommandError(INDEX_OPTIONS_CONFLICT,
                                   'Index with name: %s already exists with a different'
                                   ' key' % name)
            kwargs = {k: spec[k] for k in ('unique', 'sparse', 'expireAfterSeconds',
                                           'partialFilterExpression') if k in spec}
            try:
                coll.create_index(list(key.items()), name=name, **kwargs)
            except mongomock.DuplicateKeyError as e:
                raise CommandError(DUPLICATE_KEY, 'Index build failed: %s' % e)
            except mongomock.OperationFailure as e:
                raise CommandError(INDEX_OPTIONS_CONFLICT, str(e))
        after = len(coll.index_information())
        reply = OrderedDict([('createdCollectionAutomatically', not existed),
                             ('numIndexesBefore', before), ('numIndexesAfter', after)])
        if before == after:
            reply['note'] = 'all indexes already exist'
        reply['ok'] = 1
        return reply

    def cmd_list_indexes(self, request, db, cmd):
        coll = self._coll(db, cmd, 'listIndexes')
        if not self._exists(db, coll.name):
            raise CommandError(NAMESPACE_NOT_FOUND, 'ns does not exist: %s'
                               % coll.full_name)
        docs = []
        for name, info in coll.index_information().items():
            doc = OrderedDict([('v', 2), ('key', OrderedDict(info['key'])),
                               ('name', name)])
            for k in ('unique', 'sparse', 'expireAfterSeconds',
                      'partialFilterExpression'):
                if k in info:
                    doc[k] = info[k]
            docs.append(doc)
        batch_size = _doc(cmd.get('cursor'), 'cursor').get('batchSize')
        return self._cursor_reply(coll.full_name, docs, batch_size)

    def cmd_drop_indexes(self, request, db, cmd):
        coll = self._coll(db, cmd, next(iter(cmd)))
        if not self._exists(db, coll.name):
            raise CommandError(NAMESPACE_NOT_FOUND, 'ns not found %s' % coll.full_name)
        was = len(coll.index_information())
        which = cmd.get('index')
        names = which if isinstance(which, list) else [which]
        for name in names:
            if name == '*':
                coll.drop_indexes()
                continue
            if isinstance(name, dict):
                matches = [n for n, i in coll.index_information().items()
                           if list(i['key']) == list(name.items())]
                if not matches:
                    raise CommandError(INDEX_NOT_FOUND, "can't find index with key: %s"
                                       % dict(name))
                name = matches[0]
            if name == '_id_':
                raise CommandError(72, 'cannot drop _id index')
            try:
                coll.drop_index(name)
            except mongomock.OperationFailure:
                raise CommandError(INDEX_NOT_FOUND, 'index not found with name [%s]'
                                   % name)
        return OrderedDict([('nIndexesWas', was), ('ok', 1)])

    def cmd_drop(self, request, db, cmd):
        coll = self._coll(db, cmd, 'drop')
        if not self._exists(db, coll.name):
            # MongoDB before 7.0 refuses to drop a missing collection.
            raise CommandError(NAMESPACE_NOT_FOUND, 'ns not found')
        was = len(coll.index_information())
        coll.drop()
        return OrderedDict([('nIndexesWas', was), ('ns', coll.full_name), ('ok', 1)])

    def cmd_drop_database(self, request, db, cmd):
        self.client.drop_database(db)
        self.cursors = {c: v for c, v in self.cursors.items()
                        if not v['ns'].startswith(db + '.')}
        return OrderedDict([('dropped', db), ('ok', 1)])

    def cmd_create(self, request, db, cmd):
        name = cmd.get('create')
        if not isinstance(name, str) or not name:
            raise CommandError(BAD_VALUE, 'collection name must be a string')
        if self._exists(db, name):
            raise CommandError(NAMESPACE_EXISTS, 'Collection already exists. NS: %s.%s'
                               % (db, name))
        for unsupported in ('capped', 'viewOn', 'timeseries', 'validator'):
            if cmd.get(unsupported):
                raise NotImplementedError('create with %s' % unsupported)
        self.client[db].create_collection(name)
        return {'ok': 1}

    def cmd_list_collections(self, request, db, cmd):
        filt = _doc(cmd.get('filter'), 'filter')
        name_only = bool(cmd.get('nameOnly'))
        docs = []
        for name in sorted(self.client[db].list_collection_names()):
            if name_only:
                doc = OrderedDict([('name', name), ('type', 'collection')])
            else:
                doc = OrderedDict([
                    ('name', name), ('type', 'collection'), ('options', {}),
                    ('info', {'readOnly': False}),
                    ('idIndex', OrderedDict([('v', 2), ('key', {'_id': 1}),
                                             ('name', '_id_')]))])
            if not filt or mm_filtering.filter_applies(filt, doc):
                docs.append(doc)
        batch_size = _doc(cmd.get('cursor'), 'cursor').get('batchSize')
        return self._cursor_reply('%s.$cmd.listCollections' % db, docs, batch_size)

    def cmd_list_databases(self, request, db, cmd):
        names = sorted(self.client.list_database_names())
        if cmd.get('nameOnly'):
            dbs = [{'name': n} for n in names]
        else:
            dbs = [OrderedDict([('name', n), ('sizeOnDisk', 0), ('empty', False)])
                   for n in names]
        return OrderedDict([('databases', dbs), ('totalSize', 0), ('ok', 1)])

    COMMANDS = {
        'hello': cmd_hello, 'ismaster': cmd_hello, 'isMaster': cmd_hello,
        'buildInfo': cmd_build_info, 'buildinfo': cmd_build_info,
        'ping': cmd_ok, 'endSessions': cmd_ok, 'endsessions': cmd_ok,
        'killSessions': cmd_ok, 'killsessions': cmd_ok,
        'getLastError': cmd_get_last_error, 'getlasterror': cmd_get_last_error,
        'killCursors': cmd_kill_cursors, 'getMore': cmd_get_more,
        'find': cmd_find, 'aggregate': cmd_aggregate, 'count': cmd_count,
        'distinct': cmd_distinct,
        'insert': cmd_insert, 'update': cmd_update, 'delete': cmd_delete,
        'findAndModify': cmd_find_and_modify, 'findandmodify': cmd_find_and_modify,
        'createIndexes': cmd_create_indexes, 'listIndexes': cmd_list_indexes,
        'dropIndexes': cmd_drop_indexes, 'deleteIndexes': cmd_drop_indexes,
        'drop': cmd_drop, 'dropDatabase': cmd_drop_database, 'create': cmd_create,
        'listCollections': cmd_list_collections, 'listDatabases': cmd_list_databases,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0, help='0: any free port')
    parser.add_argument('--port-file', help='write the bound port here')
    parser.add_argument('--max-wire-version', type=int,
                        default=DEFAULT_MAX_WIRE_VERSION,
                        help='maxWireVersion in the handshake (libmongoc 1.23: 6..17; '
                             'pymongo 4.20: >= 9); default %(default)s')
    parser.add_argument('--verbose', action='store_true',
                        help='log every command and reply to stderr')
    parser.add_argument('--exit-with-stdin', action='store_true',
                        help='stop when stdin ends: a parent that holds a pipe to it '
                             'takes the double down with it, even when it crashes')
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_with_stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()

    double = MongoDouble(args.max_wire_version, args.verbose)
    try:
        port = double.start(args.host, args.port)
    except OSError as e:
        print('mongo_double: cannot listen on %s:%s: %s' % (args.host, args.port, e),
              file=sys.stderr)
        return 1
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.replace(tmp, args.port_file)
    print('listening on %s:%d' % (args.host, port), flush=True)
    while not stop.wait(1.0):
        pass
    # mockupdb's stop() joins its connection threads, which wait on sockets that a
    # pooled driver (libmongoc) keeps open: give it 2 s, then leave anyway.
    stopper = threading.Thread(target=double.stop, daemon=True)
    stopper.start()
    stopper.join(2.0)
    if args.port_file:  # unless another double has written its own port there since
        try:
            with open(args.port_file) as f:
                if f.read().strip() == str(port):
                    os.unlink(args.port_file)
        except OSError:
            pass
    print('mongo_double: stopped', file=sys.stderr, flush=True)
    return 0


if __name__ == '__main__':
    code = main()
    sys.stdout.flush()
    # Not sys.exit: it would wait for mockupdb's non-daemon connection threads.
    os._exit(code)
