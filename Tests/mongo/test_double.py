"""Smoke tests of the MongoDB test double (mongo_double.py), driven by pymongo.

pymongo is not the client under test (the Swift backend uses libmongoc), so the
shapes libmongoc depends on (legacy OP_QUERY handshake, OP_MSG with a kind-1
section, moreToCome) are also checked with hand-built wire messages.

Run: python3 -m pytest -q Tests/mongo
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import bson
import pytest
from bson import ObjectId
from bson.int64 import Int64

pymongo = pytest.importorskip('pymongo')
from pymongo import ReturnDocument, monitoring  # noqa: E402
from pymongo.errors import DuplicateKeyError, OperationFailure  # noqa: E402
from pymongo.write_concern import WriteConcern  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOUBLE = os.path.join(HERE, 'mongo_double.py')


def start_double(tmp_path, *extra):
    """Start mongo_double.py on a free port: (process, port, port file, stderr file)."""
    tag = uuid.uuid4().hex
    port_file = str(tmp_path / ('port-%s' % tag))
    err_path = str(tmp_path / ('stderr-%s' % tag))
    with open(err_path, 'w') as err:  # a file, so a chatty double never blocks on a pipe
        proc = subprocess.Popen([sys.executable, DOUBLE, '--port', '0',
                                 '--port-file', port_file, *extra],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline()
    if not line.startswith('listening on 127.0.0.1:'):
        proc.kill()
        proc.wait()
        raise AssertionError('double did not start: %r %s' % (line, read(err_path)))
    port = int(line.rsplit(':', 1)[1])
    assert int(read(port_file)) == port
    return proc, port, port_file, err_path


def read(path):
    with open(path) as f:
        return f.read()


def stop_double(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    return proc.returncode


@pytest.fixture(scope='module')
def double(tmp_path_factory):
    proc, port, _, err_path = start_double(tmp_path_factory.mktemp('double'))
    yield port
    assert stop_double(proc) == 0
    assert 'Traceback' not in read(err_path), read(err_path)


class Commands(monitoring.CommandListener):
    def __init__(self):
        self.names = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def commands():
    return Commands()


@pytest.fixture
def client(double, commands):
    c = pymongo.MongoClient('127.0.0.1', double, serverSelectionTimeoutMS=5000,
                            event_listeners=[commands])
    yield c
    c.close()


@pytest.fixture
def db(client):
    name = 'test_%s' % uuid.uuid4().hex[:12]
    yield client[name]
    client.drop_database(name)


def raw_types(coll, filt):
    """Field name -> BSON type as stored: bson decodes int64 as Int64, int32 as int."""
    doc = coll.find_one(filt)
    names = {Int64: 'int64', int: 'int32', float: 'double', str: 'string',
             list: 'array', dict: 'document', bool: 'bool', ObjectId: 'objectId'}
    return {k: names.get(type(v), type(v).__name__) for k, v in doc.items()}


# --- handshake and wire shapes that libmongoc uses -----------------------------

def _recv(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError('closed')
        buf += chunk
    return buf


def _read_message(sock):
    header = _recv(sock, 16)
    length, _, response_to, opcode = struct.unpack('<iiii', header)
    return opcode, response_to, _recv(sock, length - 16)


def op_query(sock, request_id, ns, doc):
    body = struct.pack('<i', 0) + ns.encode() + b'\x00' + struct.pack('<ii', 0, -1) + \
        bson.encode(doc)
    sock.sendall(struct.pack('<iiii', 16 + len(body), request_id, 0, 2004) + body)
    opcode, response_to, data = _read_message(sock)
    assert opcode == 1 and response_to == request_id  # OP_REPLY
    _flags, _cursor, _start, number = struct.unpack('<iqii', data[:20])
    assert number == 1
    return bson.decode(data[20:])


def op_msg(sock, request_id, body, sections=(), flags=0):
    payload = struct.pack('<I', flags) + b'\x00' + bson.encode(body)
    for identifier, docs in sections:
        chunk = identifier.encode() + b'\x00' + b''.join(bson.encode(d) for d in docs)
        payload += b'\x01' + struct.pack('<i', 4 + len(chunk)) + chunk
    sock.sendall(struct.pack('<iiii', 16 + len(payload), request_id, 0, 2013) + payload)
    if flags & 2:  # moreToCome: the server must not answer
        return None
    opcode, response_to, data = _read_message(sock)
    assert opcode == 2013 and response_to == request_id
    assert data[4] == 0
    return bson.decode(data[5:])


def test_legacy_handshake_then_op_msg_with_kind1_section(double):
    sock = socket.create_connection(('127.0.0.1', double), timeout=5)
    try:
        hello = op_query(sock, 1, 'admin.$cmd', {
            'isMaster': 1, 'helloOk': True,
            'client': {'driver': {'name': 'mongoc', 'version': '1.23.1'}}})
        assert hello['ok'] == 1 and hello['ismaster'] is True
        assert hello['isWritablePrimary'] is True
        assert 6 <= hello['maxWireVersion'] <= 17 and hello['minWireVersion'] == 0
        assert hello['maxBsonObjectSize'] == 16777216
        assert hello['maxMessageSizeBytes'] == 48000000
        assert hello['maxWriteBatchSize'] == 100000
        assert hello['logicalSessionTimeoutMinutes'] == 30
        assert hello['helloOk'] is True
        assert isinstance(hello['connectionId'], int) and 'localTime' in hello
        assert 'setName' not in hello and 'topologyVersion' not in hello

        lower = op_query(sock, 2, 'admin.$cmd', {'ismaster': 1})
        assert lower['ismaster'] is True

        again = op_msg(sock, 3, {'hello': 1, '$db': 'admin'})
        assert again['isWritablePrimary'] is True
        assert again['connectionId'] == hello['connectionId']

        lsid = {'id': bson.Binary(uuid.uuid4().bytes, 4)}
        db = 'wire_%s' % uuid.uuid4().hex[:8]
        reply = op_msg(sock, 4, {'insert': 'c', 'ordered': True, '$db': db,
                                 'lsid': lsid},
                       sections=[('documents', [{'_id': 1, 'a': 'x'},
                                                {'_id': 2, 'a': 'y'}])])
        assert reply == {'n': 2, 'ok': 1}

        # moreToCome (w:0): executed, never answered
        assert op_msg(sock, 5, {'insert': 'c', '$db': db,
                                'writeConcern': {'w': 0}},
                      sections=[('documents', [{'_id': 3}])], flags=2) is None

        found = op_msg(sock, 6, {'find': 'c', 'filter': {}, 'sort': {'_id': 1},
                                 '$db': db, 'lsid': lsid})
        assert [d['_id'] for d in found['cursor']['firstBatch']] == [1, 2, 3]
        assert found['cursor']['id'] == 0 and found['cursor']['ns'] == db + '.c'

        upd = op_msg(sock, 7, {'update': 'c', '$db': db, 'lsid': lsid},
                     sections=[('updates', [
                         {'q': {'_id': 1}, 'u': {'$set': {'a': 'z'}}},
                         {'q': {'_id': 9}, 'u': {'$set': {'a': 'new'}}, 'upsert': True}])])
        assert upd['n'] == 2 and upd['nModified'] == 1
        assert upd['upserted'] == [{'index': 1, '_id': 9}]

        dele = op_msg(sock, 8, {'delete': 'c', '$db': db},
                      sections=[('deletes', [{'q': {'_id': {'$gt': 2}}, 'limit': 0}])])
        assert dele == {'n': 2, 'ok': 1}

        info = op_msg(sock, 9, {'buildInfo': 1, '$db': 'admin'})
        assert info['version'].startswith('4.') and info['ok'] == 1
        assert op_msg(sock, 10, {'ping': 1, '$db': 'admin'})['ok'] == 1
        assert op_msg(sock, 11, {'getLastError': 1, '$db': db})['ok'] == 1
        assert op_msg(sock, 12, {'endSessions': [lsid], '$db': 'admin'})['ok'] == 1
        assert op_msg(sock, 13, {'dropDatabase': 1, '$db': db})['ok'] == 1
    finally:
        sock.close()


def test_hello_and_build_info_through_pymongo(client):
    hello = client.admin.command('hello')
    assert hello['isWritablePrimary'] is True and hello['maxWireVersion'] == 9
    assert client.server_info()['version'] == '4.4.0'
    assert client.admin.command('ping')['ok'] == 1


# --- CRUD ----------------------------------------------------------------------

def test_insert_objectid_and_string_ids(db):
    oid = db.todos.insert_one({'title': 'Milk'}).inserted_id
    assert isinstance(oid, ObjectId)
    db.todos.insert_one({'_id': 'my-id', 'title': 'Bread'})
    assert db.todos.find_one({'_id': oid})['title'] == 'Milk'
    assert db.todos.find_one({'_id': 'my-id'})['title'] == 'Bread'
    assert db.todos.find_one({'_id': str(oid)}) is None  # no id coercion
    with pytest.raises(DuplicateKeyError) as e:
        db.todos.insert_one({'_id': 'my-id'})
    assert e.value.code == 11000
    assert e.value.details['keyPattern'] == {'_id': 1}


def test_find_filter_sort_skip_limit_and_getmore(db, commands):
    db.items.insert_many([{'_id': i, 'n': i, 'odd': i % 2 == 1} for i in range(10)])
    docs = list(db.items.find({'odd': True}).sort('n', -1).skip(1).limit(3))
    assert [d['n'] for d in docs] == [7, 5, 3]
    assert list(db.items.find({'n': {'$gte': 2, '$lt': 5}}, {'_id': 0, 'n': 1})
                .sort('n', 1)) == [{'n': 2}, {'n': 3}, {'n': 4}]
    assert [d['n'] for d in db.items.find({'$or': [{'n': 1}, {'n': {'$in': [8, 9]}}]})
            .sort([('n', 1)])] == [1, 8, 9]

    commands.names.clear()
    got = [d['n'] for d in db.items.find().sort('n', 1).batch_size(3)]
    assert got == list(range(10))
    assert commands.names.count('getMore') == 3  # 3 + 3 + 3 + 1
    # a limit that the first batch covers needs no getMore and leaves no cursor
    commands.names.clear()
    assert len(list(db.items.find().limit(2).batch_size(5))) == 2
    assert 'getMore' not in commands.names


def test_booleans_are_not_numbers(db):
    # Python's True == 1; a server's booleans never equal numbers.
    db.typed.insert_many([{'_id': 1, 'v': True}, {'_id': 2, 'v': 1}, {'_id': 3, 'v': [1, False]}])
    ids = lambda q: sorted(d['_id'] for d in db.typed.find(q))
    assert ids({'v': {'$eq': True}}) == [1]
    assert ids({'v': {'$eq': 1}}) == [2, 3]
    assert ids({'v': {'$ne': 1}}) == [1]
    assert ids({'v': {'$in': [False]}}) == [3]
    assert ids({'v': {'$nin': [True, 0]}}) == [2, 3]


def test_abandoned_cursor_is_killed(db, commands):
    db.items.insert_many([{'n': i} for i in range(10)])
    cursor = db.items.find().batch_size(2)
    next(cursor)
    cursor.close()
    assert 'killCursors' in commands.names


def test_getmore_unknown_cursor(db):
    with pytest.raises(OperationFailure) as e:
        db.command({'getMore': Int64(12345), 'collection': 'items'})
    assert e.value.code == 43


def test_update_set_and_upsert(db):
    db.todos.insert_one({'_id': 'a', 'title': 'x', 'done': False})
    r = db.todos.update_one({'_id': 'a'}, {'$set': {'done': True}})
    assert (r.matched_count, r.modified_count, r.upserted_id) == (1, 1, None)
    r = db.todos.update_one({'_id': 'a'}, {'$set': {'done': True}})
    assert (r.matched_count, r.modified_count) == (1, 0)
    r = db.todos.update_one({'_id': 'b'}, {'$set': {'title': 'y'}}, upsert=True)
    assert r.upserted_id == 'b' and r.matched_count == 0
    assert db.todos.find_one({'_id': 'b'}) == {'_id': 'b', 'title': 'y'}
    db.todos.update_one({'slug': 's'}, {'$set': {'t': 1}}, upsert=True)
    assert list(db.todos.find_one({'slug': 's'})) == ['_id', 'slug', 't']
    db.todos.delete_one({'slug': 's'})
    r = db.todos.replace_one({'_id': 'c'}, {'title': 'z'}, upsert=True)
    assert r.upserted_id == 'c'
    r = db.todos.update_many({}, {'$set': {'tag': 1}})
    assert (r.matched_count, r.modified_count) == (3, 3)


def test_conditional_update_on_version(db):
    db.todos.insert_one({'_id': 'a', '_v': Int64(1), 'title': 'x'})
    r = db.todos.update_one({'_id': 'a', '_v': 1},
                            {'$set': {'title': 'y'}, '$inc': {'_v': Int64(1)}})
    assert r.matched_count == 1 and r.modified_count == 1
    stale = db.todos.update_one({'_id': 'a', '_v': 1},
                                {'$set': {'title': 'z'}, '$inc': {'_v': Int64(1)}})
    assert stale.matched_count == 0 and stale.modified_count == 0
    assert stale.raw_result['n'] == 0
    doc = db.todos.find_one({'_id': 'a'})
    assert doc == {'_id': 'a', '_v': 2, 'title': 'y'}
    assert raw_types(db.todos, {'_id': 'a'})['_v'] == 'int64'


def test_int64_survives_inc_and_set(db):
    db.n.insert_one({'_id': 1, 'a': Int64(5), 'b': 5, 'l': [Int64(1), 2], 'f': 1.5})
    db.n.update_one({'_id': 1}, {'$inc': {'a': 1, 'b': 1, 'l.0': 1, 'new': Int64(1),
                                          'f': 1}})
    types = raw_types(db.n, {'_id': 1})
    assert types == {'_id': 'int32', 'a': 'int64', 'b': 'int32', 'l': 'array',
                     'f': 'double', 'new': 'int64'}
    got = db.n.find_one({'_id': 1})
    assert got['a'] == 6 and got['l'] == [2, 2] and got['new'] == 1
    assert type(got['l'][0]) is Int64
    # int32 overflow widens to int64, as on the server
    db.n.update_one({'_id': 1}, {'$inc': {'b': 2 ** 31}})
    assert raw_types(db.n, {'_id': 1})['b'] == 'int64'


def test_find_and_modify_sequence_is_atomic(double, db):
    def next_value(coll):
        doc = coll.find_one_and_update({'_id': 'seq'}, {'$inc': {'n': Int64(1)}},
                                       upsert=True, return_document=ReturnDocument.AFTER)
        return doc['n']

    assert next_value(db.counters) == 1
    assert next_value(db.counters) == 2

    seen, errors = [], []

    def worker():
        c = pymongo.MongoClient('127.0.0.1', double, serverSelectionTimeoutMS=5000)
        try:
            coll = c[db.name].counters
            for _ in range(25):
                seen.append(next_value(coll))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(seen) == list(range(3, 203))
    assert db.counters.find_one({'_id': 'seq'})['n'] == 202


def test_find_and_modify_reply_shape(db):
    reply = db.command({'findAndModify': 'c', 'query': {'_id': 'x'},
                        'update': {'$set': {'a': 1}}, 'upsert': True, 'new': False})
    assert reply['value'] is None
    assert reply['lastErrorObject'] == {'n': 1, 'updatedExisting': False,
                                        'upserted': 'x'}
    reply = db.command({'findAndModify': 'c', 'query': {'_id': 'x'},
                        'update': {'$set': {'a': 2}}, 'new': True,
                        'fields': {'a': 1, '_id': 0}})
    assert reply['value'] == {'a': 2}
    assert reply['lastErrorObject'] == {'n': 1, 'updatedExisting': True}
    reply = db.command({'findAndModify': 'c', 'query': {'_id': 'nope'},
                        'update': {'$set': {'a': 3}}})
    assert reply['value'] is None
    assert reply['lastErrorObject'] == {'n': 0, 'updatedExisting': False}
    # sort picks which document
    db.c.insert_many([{'_id': 'p', 'k': 1}, {'_id': 'q', 'k': 2}])
    before = db.c.find_one_and_update({'k': {'$exists': True}}, {'$set': {'hit': True}},
                                      sort=[('k', -1)])
    assert before == {'_id': 'q', 'k': 2}
    removed = db.c.find_one_and_delete({'_id': 'p'})
    assert removed == {'_id': 'p', 'k': 1}
    assert db.c.find_one({'_id': 'p'}) is None
    reply = db.command({'findAndModify': 'c', 'query': {'_id': 'p'}, 'remove': True})
    assert reply['value'] is None and reply['lastErrorObject'] == {'n': 0}


def test_delete(db):
    db.todos.insert_many([{'_id': i, 'done': i < 3} for i in range(6)])
    assert db.todos.delete_one({'_id': 5}).deleted_count == 1
    assert db.todos.delete_one({'_id': 5}).deleted_count == 0
    assert db.todos.delete_many({'done': True}).deleted_count == 3
    assert sorted(d['_id'] for d in db.todos.find()) == [3, 4]


def test_unique_index_and_duplicate_key(db):
    reply = db.command({'createIndexes': 'todos', 'indexes': [
        {'key': {'slug': 1}, 'name': 'slug_1', 'unique': True},
        {'key': {'done': 1, 'created': -1}, 'name': 'done_1_created_-1'}]})
    assert reply['ok'] == 1 and reply['createdCollectionAutomatically'] is True
    assert (reply['numIndexesBefore'], reply['numIndexesAfter']) == (1, 3)
    again = db.command({'createIndexes': 'todos', 'indexes': [
        {'key': {'slug': 1}, 'name': 'slug_1', 'unique': True}]})
    assert again['createdCollectionAutomatically'] is False
    assert (again['numIndexesBefore'], again['numIndexesAfter']) == (3, 3)

    db.todos.insert_one({'_id': 'a', 'slug': 'milk'})
    with pytest.raises(DuplicateKeyError) as e:
        db.todos.insert_one({'_id': 'b', 'slug': 'milk'})
    assert e.value.code == 11000
    assert e.value.details['keyPattern'] == {'slug': 1}
    assert e.value.details['keyValue'] == {'slug': 'milk'}
    assert 'index: slug_1' in e.value.details['errmsg']
    db.todos.insert_one({'_id': 'b', 'slug': 'bread'})
    with pytest.raises(DuplicateKeyError) as e:
        db.todos.update_one({'_id': 'b'}, {'$set': {'slug': 'milk'}})
    assert e.value.code == 11000
    assert db.todos.find_one({'_id': 'b'})['slug'] == 'bread'  # nothing written

    indexes = {i['name']: i for i in db.todos.list_indexes()}
    assert set(indexes) == {'_id_', 'slug_1', 'done_1_created_-1'}
    assert indexes['slug_1']['unique'] is True
    assert list(indexes['done_1_created_-1']['key'].items()) == [('done', 1),
                                                                  ('created', -1)]
    db.todos.drop_index('done_1_created_-1')
    assert {i['name'] for i in db.todos.list_indexes()} == {'_id_', 'slug_1'}
    with pytest.raises(OperationFailure) as e:
        db.todos.drop_index('nope')
    assert e.value.code == 27
    with pytest.raises(OperationFailure) as e:
        db.todos.create_index([('title', 'text')])
    assert e.value.code == 238  # not implemented by the double
    # an existing duplicate makes a unique index fail
    db.other.insert_many([{'k': 1}, {'k': 1}])
    with pytest.raises(OperationFailure) as e:
        db.other.create_index('k', unique=True)
    assert e.value.code == 11000


def test_count_documents_and_aggregate(db):
    db.t.insert_many([{'_id': i, 'g': i % 3, 'v': i} for i in range(10)])
    assert db.t.count_documents({}) == 10
    assert db.t.count_documents({'g': 0}) == 4
    assert db.t.count_documents({'g': 0}, skip=1, limit=2) == 2
    assert db.t.count_documents({'g': 9}) == 0
    assert db.t.estimated_document_count() == 10
    out = list(db.t.aggregate([
        {'$match': {'v': {'$gte': 1}}},
        {'$group': {'_id': '$g', 'total': {'$sum': '$v'}, 'n': {'$sum': 1}}},
        {'$sort': {'_id': 1}}, {'$skip': 1}, {'$limit': 1}]))
    assert out == [{'_id': 1, 'total': 1 + 4 + 7, 'n': 3}]
    assert list(db.t.aggregate([{'$match': {'g': 2}}, {'$count': 'c'}])) == [{'c': 3}]
    assert db.command('count', 't', query={'g': 1})['n'] == 3
    assert sorted(db.t.distinct('g')) == [0, 1, 2]
    # aggregate batches too
    assert len(list(db.t.aggregate([{'$sort': {'v': 1}}], batchSize=3))) == 10


def test_max_time_ms_refuses_a_read_that_ran_longer(db):
    """A find, count or aggregate past its maxTimeMS is answered with code 50 and no
    result, as a server's; within it (or with 0, no limit) the result comes whole."""
    db.slow.insert_many([{'_id': i, 'k': (i * 7919) % 1000} for i in range(1000)])
    with pytest.raises(OperationFailure) as e:
        list(db.slow.find({}).sort('k', 1).max_time_ms(1))
    assert (e.value.code, e.value.details.get('codeName')) == (50, 'MaxTimeMSExpired')
    with pytest.raises(OperationFailure) as e:
        db.command('count', 'slow', query={'k': {'$gte': 0}}, maxTimeMS=1)
    assert e.value.code == 50
    with pytest.raises(OperationFailure) as e:
        list(db.slow.aggregate([{'$sort': {'k': -1}}], maxTimeMS=1))
    assert e.value.code == 50
    assert [d['k'] for d in db.slow.find({}).sort('k', 1).limit(3).max_time_ms(60000)] == [0, 1, 2]
    assert db.command('count', 'slow', maxTimeMS=0)['n'] == 1000
    with pytest.raises(OperationFailure) as e:
        db.command('count', 'slow', maxTimeMS=-1)
    assert e.value.code == 2


def test_collections_and_databases(client, db):
    db.create_collection('made')
    with pytest.raises(OperationFailure) as e:
        db.command('create', 'made')
    assert e.value.code == 48
    db.filled.insert_one({'a': 1})
    assert sorted(db.list_collection_names()) == ['filled', 'made']
    assert [c['name'] for c in db.list_collections(filter={'name': 'made'})] == ['made']
    assert db.name in client.list_database_names()
    reply = db.command('drop', 'made')
    assert reply['ok'] == 1
    with pytest.raises(OperationFailure) as e:
        db.command('drop', 'made')
    assert e.value.code == 26  # 4.4 refuses to drop a missing collection
    db.drop_collection('made')  # pymongo ignores "ns not found"
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()


def test_unacknowledged_write(db):
    db.with_options(write_concern=WriteConcern(w=0)).w.insert_one({'_id': 1})
    deadline = time.time() + 5
    while db.w.find_one({'_id': 1}) is None and time.time() < deadline:
        time.sleep(0.05)
    assert db.w.find_one({'_id': 1}) == {'_id': 1}


def test_errors(db):
    with pytest.raises(OperationFailure) as e:
        db.command('noSuchCommand')
    assert e.value.code == 59
    with pytest.raises(OperationFailure) as e:
        db.command({'insert': 'x', 'documents': [{'a': 1}], 'txnNumber': Int64(1),
                    'startTransaction': True, 'autocommit': False})
    assert e.value.code == 20
    with pytest.raises(OperationFailure) as e:
        list(db.t.find({'a': {'$noSuchOperator': 1}}))
    assert e.value.code != 0
    with pytest.raises(OperationFailure) as e:
        db.command({'listIndexes': 'missing'})
    assert e.value.code == 26
    reply = db.command({'update': 't', 'updates': [
        {'q': {}, 'u': {'$set': {'a': 1}}, 'collation': {'locale': 'fr'}}]})
    assert reply['writeErrors'][0]['code'] == 238 and reply['n'] == 0


def test_sort_ties_keep_insertion_order(db):
    """A quirk, pinned: mongomock sorts stably over insertion order (both ways).

    A real server orders ties arbitrarily; callers must add a tiebreaker.
    """
    db.s.insert_many([{'_id': i, 'k': i % 2} for i in [5, 3, 1, 4, 2]])
    assert [d['_id'] for d in db.s.find().sort('k', 1)] == [4, 2, 5, 3, 1]
    assert [d['_id'] for d in db.s.find().sort('k', -1)] == [5, 3, 1, 4, 2]
    assert [d['_id'] for d in db.s.find().sort([('k', 1), ('_id', 1)])] == \
        [2, 4, 1, 3, 5]


def test_dates_round_trip_in_milliseconds(db):
    import datetime
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 678901)
    db.d.insert_one({'_id': 1, 'at': when})
    assert db.d.find_one({'_id': 1})['at'] == when.replace(microsecond=678000)
    assert db.d.count_documents({'at': {'$gt': datetime.datetime(2024, 1, 1)}}) == 1


# --- the client under test: libmongoc 1.23 ----------------------------------------

def test_libmongoc_smoke(double, tmp_path):
    """libmongoc_smoke.c against the double, when libmongoc-dev and a C compiler exist."""
    cc = shutil.which('cc') or shutil.which('gcc') or shutil.which('clang')
    pkg = shutil.which('pkg-config')
    if not cc or not pkg or subprocess.run([pkg, '--exists', 'libmongoc-1.0']).returncode:
        pytest.skip('libmongoc-1.0 (libmongoc-dev) or a C compiler is not installed')
    flags = subprocess.run([pkg, '--cflags', '--libs', 'libmongoc-1.0'], check=True,
                           capture_output=True, text=True).stdout.split()
    exe = str(tmp_path / 'libmongoc_smoke')
    subprocess.run([cc, '-o', exe, os.path.join(HERE, 'libmongoc_smoke.c'), *flags,
                    '-lpthread'], check=True)
    run = subprocess.run([exe, 'mongodb://127.0.0.1:%d/?appname=smoke' % double],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.endswith('all ok\n'), \
        run.stdout + run.stderr


# --- lifecycle -------------------------------------------------------------------

def test_sigterm_stops_cleanly_with_clients_connected(tmp_path):
    proc, port, port_file, err_path = start_double(tmp_path)
    c = pymongo.MongoClient('127.0.0.1', port, serverSelectionTimeoutMS=1000)
    try:
        c.t.x.insert_one({'a': 1})
        cursor = c.t.x.find().batch_size(1)  # an open connection mid-use
        next(cursor)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert time.monotonic() - started < 10
        assert not os.path.exists(port_file)
        assert 'stopped' in read(err_path)
    finally:
        c.close()
        stop_double(proc)
