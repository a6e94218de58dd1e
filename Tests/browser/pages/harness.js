// Scenarios of the library tests, run in the page by Tests/browser/test_library.py
// through `H.run(name, args)` (a promise of plain data the test checks). Stock
// Backbone models and collections; the library is whatever /backbone-sse.js served.
(function () {
  'use strict';
  var H = window.H;

  var Todo = H.Todo = Backbone.Model.extend({urlRoot: '/todos'});
  var Todos = H.Todos = Backbone.Collection.extend({url: '/todos', model: Todo});
  var Note = H.Note = Backbone.Model.extend({urlRoot: '/notes'});
  var Notes = H.Notes = Backbone.Collection.extend({url: '/notes', model: Note});

  H.state = {};

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  H.until = function (fn, timeout, what) {
    var deadline = performance.now() + (timeout || 5000);
    return new Promise(function (resolve, reject) {
      (function poll() {
        var v;
        try { v = fn(); } catch (e) { reject(e); return; }
        if (v) { resolve(v); return; }
        if (performance.now() > deadline) { reject(new Error('timed out waiting for ' + (what || fn))); return; }
        setTimeout(poll, 10);
      })();
    });
  };

  // A Backbone call with success/error callbacks, as a promise of what they received.
  function outcome(start) {
    return new Promise(function (resolve) {
      var ret = start({
        success: function (obj, resp, options) {
          resolve({ok: true, attrs: obj.toJSON(), resp: resp,
                   cursor: options && options.xhr && options.xhr.getResponseHeader ? options.xhr.getResponseHeader('X-Stream-Cursor') : null});
        },
        error: function (obj, xhr) {
          resolve({ok: false, status: xhr.status, body: xhr.responseJSON === undefined ? xhr.responseText : xhr.responseJSON});
        }
      });
      if (ret === false) resolve({ok: false, status: null, body: 'refused before sending'});
    });
  }

  function lastRequest() { return H.requests[H.requests.length - 1]; }
  function requestsSince(n) { return H.requests.slice(n).map(function (r) { return _.omit(r, 'response'); }); }

  var scenarios = {};

  // fetch({data: ...}) through $.param, for each query given.
  scenarios.fetch = function (args) {
    return args.queries.reduce(function (p, data) {
      return p.then(function (results) {
        var c = new Todos();
        return outcome(function (cb) { return c.fetch(_.extend({data: data}, cb)); }).then(function (o) {
          results.push({ok: o.ok, status: o.status, body: o.body, url: lastRequest().url,
                        orders: c.pluck('order'), titles: c.pluck('title'), ids: c.pluck('id'), cursor: o.cursor});
          return results;
        });
      });
    }, Promise.resolve([]));
  };

  // save (create, full update, patch), fetch, destroy.
  scenarios.crud = function (args) {
    var out = {};
    var m = new Todo({title: args.title, tags: [args.tag]});
    var n0 = H.requests.length;
    return outcome(function (cb) { return m.save(null, cb); }).then(function (o) {
      out.create = o;
      return outcome(function (cb) { return m.save({title: args.title + ' (renamed)', order: 3}, cb); });
    }).then(function (o) {
      out.update = o;
      return outcome(function (cb) { return m.save({done: true}, _.extend({patch: true}, cb)); });
    }).then(function (o) {
      out.patch = o;
      var copy = new Todo({id: m.id});
      return outcome(function (cb) { return copy.fetch(cb); });
    }).then(function (o) {
      out.read = o;
      var c = new Todos();
      c.add(m);
      out.inCollectionBefore = c.length;
      return outcome(function (cb) { return m.destroy(cb); }).then(function (d) {
        out.destroy = d;
        out.inCollectionAfter = c.length;
      });
    }).then(function () {
      // create through a collection, waiting for the server
      var c = new Todos();
      return outcome(function (cb) {
        var made = c.create({title: args.title + ' (collection)', tags: [args.tag]}, _.extend({wait: true}, cb));
        out.pendingLength = c.length;
        return made;
      }).then(function (o) {
        out.collectionCreate = o;
        out.collectionLength = c.length;
      });
    }).then(function () {
      out.requests = requestsSince(n0);
      return out;
    });
  };

  // Backbone.emulateHTTP and Backbone.emulateJSON, alone and together.
  scenarios.emulate = function (args) {
    var out = {steps: []};
    var n0 = H.requests.length;
    var m = new Todo({title: args.title, tags: [args.tag]});
    function step(name, flags, run) {
      return function () {
        Backbone.emulateHTTP = !!flags.http;
        Backbone.emulateJSON = !!flags.json;
        var n = H.requests.length;
        return outcome(run).then(function (o) {
          out.steps.push({name: name, outcome: o, requests: requestsSince(n)});
        });
      };
    }
    return Promise.resolve()
      .then(step('create json', {json: true}, function (cb) { return m.save(null, cb); }))
      .then(step('update json', {json: true}, function (cb) { return m.save({title: args.title + ' 1'}, cb); }))
      .then(step('update http', {http: true}, function (cb) { return m.save({title: args.title + ' 2'}, cb); }))
      .then(step('patch http', {http: true}, function (cb) { return m.save({done: true}, _.extend({patch: true}, cb)); }))
      .then(step('update both', {http: true, json: true}, function (cb) { return m.save({title: args.title + ' 3'}, cb); }))
      .then(step('patch both', {http: true, json: true}, function (cb) { return m.save({order: 7}, _.extend({patch: true}, cb)); }))
      .then(step('destroy http', {http: true}, function (cb) { return m.destroy(cb); }))
      .then(function () {
        var other = new Todo({title: args.title + ' other', tags: [args.tag]});
        return step('create both', {http: true, json: true}, function (cb) { return other.save(null, cb); })()
          .then(step('destroy both', {http: true, json: true}, function (cb) { return other.destroy(cb); }));
      })
      .then(function () {
        Backbone.emulateHTTP = false;
        Backbone.emulateJSON = false;
        out.id = m.id;
        out.all = requestsSince(n0).length;
        return out;
      }, function (e) {
        Backbone.emulateHTTP = false;
        Backbone.emulateJSON = false;
        throw e;
      });
  };

  // A 422 and a 409 reach the error callbacks (and the model's 'error' event).
  scenarios.errors = function (args) {
    var out = {};
    var c = new Todos();
    return outcome(function (cb) { return c.create({title: ''}, _.extend({wait: true}, cb)); }).then(function (o) {
      out.invalidCreate = o;
      out.lengthAfterInvalid = c.length;
      var a = new Todo({id: args.id});
      var b = new Todo({id: args.id});
      return Promise.all([outcome(function (cb) { return a.fetch(cb); }), outcome(function (cb) { return b.fetch(cb); })]).then(function () {
        out.versionsRead = [a.get('_v'), b.get('_v')];
        return outcome(function (cb) { return a.save({title: 'saved by a'}, cb); });
      }).then(function (o) {
        out.firstSave = o;
        return outcome(function (cb) { return b.save({title: 'stale save by b'}, cb); });
      }).then(function (o) {
        out.staleSave = o;
        return outcome(function (cb) { return a.save({title: new Array(202).join('x')}, _.extend({patch: true}, cb)); });
      }).then(function (o) {
        out.invalidPatch = o;
        return out;
      });
    });
  };

  // --- subscriptions kept across calls, observed by the test ---

  // kind: 'collection' | 'model'; name: 'todos' | 'notes'; options: subscribe's options
  scenarios.subscribe = function (args) {
    var key = args.key;
    var obj;
    if (args.kind === 'model') obj = new (args.name === 'notes' ? Note : Todo)({id: args.id});
    else obj = new (args.name === 'notes' ? Notes : Todos)();
    var st = H.state[key] = {obj: obj, events: [], handle: null, finished: false, errors: []};
    obj.on('all', function (name, a, b) {
      if (name === 'subscribe:reset') st.events.push(name + ':' + b.reason);
      else if (/^(add|remove|reset|destroy|subscribe:open|subscribe:error|change)$/.test(name)) st.events.push(name);
    });
    var options = _.extend({}, args.options, {error: function (o, xhr) { st.errors.push(xhr.status); }});
    return new Promise(function (resolve) {
      st.handle = obj.subscribe(options, function () { st.finished = true; resolve(H.snap(key)); });
      if (args.noWait) resolve({started: true});
    });
  };

  H.snap = function (key) {
    var st = H.state[key];
    var json = st.obj.toJSON();
    return {finished: st.finished, events: st.events.slice(), errors: st.errors.slice(),
            models: _.isArray(json) ? _.sortBy(json, 'id') : json,
            order: _.isArray(json) ? _.pluck(json, 'order') : null,  // in the collection's order
            unsaved: st.obj.models ? st.obj.filter(function (m) { return m.isNew(); }).length : 0};
  };

  scenarios.close = function (args) {
    H.state[args.key].handle.close();
    return Promise.resolve(true);
  };

  H.openStreams = function () {
    return H.streams.filter(function (s) { return s.source.readyState !== 2; }).map(function (s) {
      return {url: s.url, readyState: s.source.readyState};
    });
  };

  function echoSeen(title) {
    for (var i = 0; i < H.streams.length; i++) {
      var evs = H.streams[i].events;
      for (var j = 0; j < evs.length; j++) {
        var e = evs[j];
        if (e.type === 'create' && e.data.doc && e.data.doc.title === title) return e;
      }
    }
    return null;
  }

  // The page's own create, on a subscribed collection (state `key`): the echo of the
  // create arrives on the stream first, the POST's answer is handed over only then.
  scenarios.echo = function (args) {
    var st = H.state[args.key];
    var c = st.obj;
    var held = null;
    var out = {};
    var options = {wait: !!args.wait};
    if (args.hold) options.holdResponse = function (h) { held = h; };
    var done = outcome(function (cb) { return c.create({title: args.title, tags: [args.tag]}, _.extend(options, cb)); });
    var same = function () { return c.filter(function (m) { return m.get('title') === args.title; }); };
    return H.until(function () { return echoSeen(args.title) && (!args.hold || held); }, 5000, 'the echo').then(function () {
      var echo = echoSeen(args.title);
      out.echo = {id: echo.data.id, origin: echo.data.origin, at: echo.at};
      out.answeredBeforeEcho = held ? held.answeredAt < echo.at : null;
      // Let the page process the event (it arrived first), then hand over the answer.
      return sleep(args.hold ? 300 : 0);
    }).then(function () {
      if (!args.other) return null;
      // Meanwhile another client (no X-Client-Id: not through Backbone) creates one:
      // the page shows it at once, its own create in flight notwithstanding.
      return window.fetch('/todos', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                     body: JSON.stringify({title: args.other, tags: [args.tag]})}).then(function (r) {
        out.otherStatus = r.status;
        return H.until(function () { return c.findWhere({title: args.other}); }, 3000, 'the other client\'s create');
      }).then(function () {
        out.otherShownWhileHeld = !held || !held.released;
      });
    }).then(function () {
      out.beforeRelease = {count: same().length, withId: same().filter(function (m) { return !m.isNew(); }).length};
      if (held) held.release();
      return done;
    }).then(function (o) {
      out.result = o;
      return sleep(300);
    }).then(function () {
      var models = same();
      out.after = {count: models.length, ids: models.map(function (m) { return m.id; }), unsaved: c.filter(function (m) { return m.isNew(); }).length};
      out.releasedAfterEcho = held ? held.releasedAt > out.echo.at : null;
      out.clientId = window.BackboneSSE.clientId;
      return out;
    });
  };

  // Writes to a new model whose POST is unanswered: they wait for its id.
  scenarios.writesWhileCreating = function (args) {
    var st = H.state[args.key];
    var c = st.obj;
    var held = [];
    var n0 = H.requests.length;
    var keep = c.create({title: args.title + ' kept', tags: [args.tag]}, {holdResponse: function (h) { held.push(h); }});
    keep.save({done: true}, {patch: true});
    keep.save({title: args.title + ' kept, renamed'});
    var gone = c.create({title: args.title + ' gone', tags: [args.tag]}, {holdResponse: function (h) { held.push(h); }});
    gone.save({done: true}, {patch: true});
    gone.destroy();
    var sentWhileHeld;
    return H.until(function () { return held.length === 2; }, 5000, 'both POSTs answered').then(function () {
      sentWhileHeld = requestsSince(n0).map(function (r) { return r.method + ' ' + r.url; });
      held.forEach(function (h) { h.release(); });
      return H.until(function () {
        return H.requests.slice(n0).every(function (r) { return r.status !== null; }) && H.requests.length - n0 >= 6;
      }, 5000, 'the queued writes');
    }).then(function () { return sleep(500); }).then(function () {
      return {
        sentWhileHeld: sentWhileHeld,
        requests: requestsSince(n0).map(function (r) { return {method: r.method, url: r.url, status: r.status, data: r.data}; }),
        keep: keep.toJSON(),
        goneId: gone.id,
        titles: c.pluck('title')
      };
    });
  };

  // fetch(options) as given: backbone-dnode's `query` and `sorting` included.
  scenarios.fetchWith = function (args) {
    var c = new Todos();
    return outcome(function (cb) { return c.fetch(_.extend({}, args.options, cb)); }).then(function (o) {
      return {ok: o.ok, status: o.status, url: lastRequest().url, orders: c.pluck('order')};
    });
  };

  // subscribe(options, {finished, error}): backbone-dnode's callbacks. Kept as state `key`.
  scenarios.subscribeDnode = function (args) {
    var c = new (Backbone.Collection.extend({url: args.url || '/todos', model: Todo}))();
    var st = H.state[args.key] = {obj: c, events: [], errors: [], finished: false, handle: null};
    return new Promise(function (resolve) {
      st.handle = c.subscribe(args.options || {}, {
        finished: function (col) { st.finished = true; resolve({finished: true, orders: col.pluck('order')}); },
        error: function (col, xhr) { resolve({error: xhr.status, finished: st.finished}); }
      });
    });
  };

  // Another client's PATCH, straight to the server (not through the page's models).
  function patchElsewhere(id, attrs) {
    return Promise.resolve($.ajax({type: 'PATCH', url: '/todos/' + encodeURIComponent(id), contentType: 'application/json',
                                   data: JSON.stringify(attrs), dataType: 'json'}));
  }

  // A 422 and a 409 in Backbone's terms: `invalid` with the details keyed by attribute,
  // the model back to the server's state; `conflict` with the server's document, then
  // settled with resolveConflict(args.choice).
  scenarios.errorsInBackboneTerms = function (args) {
    var c = new Todos();
    var out = {};
    var m;
    return outcome(function (cb) { return c.create({title: args.title, tags: ['keep']}, _.extend({wait: true}, cb)); }).then(function () {
      m = c.first();
      m.on('invalid', function (model, fields) { out.invalid = {fields: fields, details: model.validationError}; });
      m.on('conflict', function (model, info) {
        out.conflicts = (out.conflicts || []).concat([{current: info.current, local: info.local, source: info.source}]);
      });
      return outcome(function (cb) { return m.save({title: '', tags: 'not an array'}, cb); });
    }).then(function (o) {
      out.invalidStatus = o.status;
      out.afterInvalid = _.pick(m.attributes, 'title', 'tags', '_v');
      return patchElsewhere(m.id, {title: 'theirs'});
    }).then(function () {
      return outcome(function (cb) { return m.save({title: 'mine'}, cb); });  // still _v 1: 409
    }).then(function (o) {
      out.conflictStatus = o.status;
      out.beforeResolve = _.pick(m.attributes, 'title', '_v');
      m.resolveConflict(args.choice === 'merge' ? function (mine, server) {
        return _.extend({}, server, {title: mine.title + ' + ' + server.title});
      } : args.choice);
      out.afterResolve = _.pick(m.attributes, 'title', '_v');
      return outcome(function (cb) { return m.save(null, cb); });
    }).then(function (o) {
      out.finalSave = {ok: o.ok, status: o.status, title: o.ok ? o.attrs.title : null};
      return out;
    });
  };

  // A subscribed model (state `key`) with unsaved changes meets another client's update.
  scenarios.unsavedMeetsRemote = function (args) {
    var st = H.state[args.key];
    var m = st.obj.get(args.id);
    var seen = [];
    m.on('conflict', function (model, info) { seen.push({current: info.current, local: info.local, source: info.source}); });
    m.set({title: 'typed here'});
    return patchElsewhere(args.id, {title: 'typed elsewhere'}).then(function () {
      return H.until(function () { return seen.length; }, 5000, 'conflict');
    }).then(function () {
      var before = m.get('title');
      m.resolveConflict('server');
      return {seen: seen, kept: before, afterServer: m.get('title'), v: m.get('_v')};
    });
  };

  // BackboneSSE.auth with tokens from the server's development issuer (serve
  // --dev-tokens) for args.user, args.ttl seconds each; args.first: a token handed out
  // before those (a bad one, to see what a 401 does). H.tokensGiven: what the source gave.
  scenarios.signIn = function (args) {
    var first = args.first;
    H.tokensGiven = [];
    BackboneSSE.auth(function () {
      if (first) { var bad = first; first = null; H.tokensGiven.push('first'); return bad; }
      return $.ajax({type: 'POST', url: '/auth/dev-token', contentType: 'application/json', dataType: 'json',
                     data: JSON.stringify({sub: args.user, ttl: args.ttl})})
        .then(function (answer) { H.tokensGiven.push('issued'); return answer.token; });
    });
    return true;
  };

  // A fetch of a collection (args.name) under the token source, as a promise of its outcome.
  scenarios.fetchAs = function (args) {
    var c = new (args.name === 'notes' ? Notes : Todos)();
    return outcome(function (cb) { return c.fetch(cb); }).then(function (o) {
      return {ok: o.ok, status: o.status, titles: c.pluck('title'), tokensGiven: (H.tokensGiven || []).slice()};
    });
  };

  // A create under the token source: what the server stored.
  scenarios.createAs = function (args) {
    var c = new (args.name === 'notes' ? Notes : Todos)();
    return outcome(function (cb) { return c.create(args.attrs, _.extend({wait: true}, cb)); });
  };

  H.run = function (name, args) {
    if (!scenarios[name]) return Promise.reject(new Error('no scenario ' + name));
    try {
      return Promise.resolve(scenarios[name](args || {}));
    } catch (e) {
      return Promise.reject(e);
    }
  };
})();
