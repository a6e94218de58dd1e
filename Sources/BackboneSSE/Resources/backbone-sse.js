/*!
 * backbone-sse.js: live, persistent Backbone collections over BackboneSSE.
 * Plain ES5, no build step; needs Backbone and Underscore (and Backbone's $.ajax).
 *
 *   var todos = new Todos();
 *   var handle = todos.subscribe({data: {where: {done: false}}}, function () { ... });
 *   handle.close();
 *
 * CRUD stays stock Backbone.sync. This file adds:
 * - a per-page X-Client-Id on every request (the server records it as the origin of
 *   the change);
 * - one model's writes reach the server in the order the page made them: a write to a
 *   model whose previous write is still in flight waits for it. In particular, a save
 *   or destroy of a new model whose POST is unanswered waits for its id instead of
 *   POSTing it a second time (stock Backbone would create a duplicate), or, for
 *   destroy, of leaving it on the server;
 * - `subscribe` on collections and models, which fetches, then follows the server's
 *   event stream from the fetch's X-Stream-Cursor, so that nothing falls between the
 *   two. Events are applied idempotently by version; the echo of the page's own
 *   create merges into the saved model, even when it arrives before the POST's
 *   answer; a `reset` (the server cannot resume: another store, an expired cursor, a
 *   reader too slow) refetches with `reset: true`. Reconnects are automatic.
 *
 * Events on a subscribed collection or model: `subscribe:open` (the stream is live),
 * `subscribe:error` (the stream or a fetch failed; it retries by itself),
 * `subscribe:reset` (data: {reason, cursor}; a refetch follows).
 *
 * On a server with an `auth` block, give the library a token source:
 *
 *   BackboneSSE.auth(function () { return token; });   // or a promise of one
 *
 * It is asked when a token is first needed, when the one in hand is about to expire (its
 * `exp`), and after a 401. Every request then carries `Authorization: Bearer`; streams
 * open with a ticket (`POST /auth/ticket`), since EventSource sends no headers. When the
 * server ends a stream at the token's expiry (`expired`), the stream comes back with a
 * fresh token and ticket from its last cursor, so no event is lost. A source that gives
 * no token (null) makes requests anonymous.
 */
(function (root, factory) {
  root.BackboneSSE = factory(root, root.Backbone, root._);
})(this, function (window, Backbone, _) {
  'use strict';

  var clientId = 'page-' + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  var pendingCreates = 0;   // this page's POSTs in flight
  var afterCreates = [];    // events that wait for them
  var waitingIds = {};      // 'name/id' -> true: documents whose events wait for them
  var buried = {};          // 'name/id' -> true: documents this page is deleting
  var buriedCount = 0;

  // ---- small helpers -----------------------------------------------------------------

  function splitURL(url) {
    var m = /^(.*)\/([a-z][a-z0-9_-]*)(?:\/([^/?#]+))?\/?(?:[?#].*)?$/.exec(url || '');
    if (!m) throw new Error('backbone-sse: cannot read a collection name from ' + url);
    return {root: m[1], name: m[2], id: m[3] ? decodeURIComponent(m[3]) : null};
  }

  function join(base, id) {
    return base.replace(/[?#].*$/, '').replace(/[^\/]$/, '$&/') + encodeURIComponent(id);
  }

  // A failure worth retrying: no answer, or the server (or a proxy) is not ready.
  function retryable(xhr) {
    return !xhr || xhr.status === 0 || xhr.status >= 500 || xhr.status === 429;
  }

  function backoff(attempt) {
    return Math.min(10000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random());
  }

  // Documents this page is deleting: events that would show them again are ignored
  // until the server reports the deletion (or the DELETE fails).
  function bury(name, id) {
    var key = name + '/' + id;
    if (buried[key]) return;
    if (buriedCount > 1000) { buried = {}; buriedCount = 0; }
    buried[key] = true;
    buriedCount++;
  }

  function unbury(name, id) {
    var key = name + '/' + id;
    if (!buried[key]) return;
    delete buried[key];
    buriedCount--;
  }

  function isBuried(name, id) {
    return buried[name + '/' + id] === true;
  }

  // ---- identity: the token source of BackboneSSE.auth -------------------------------

  var tokenSource = null;   // function () -> token, or a promise of one
  var token = null;         // the last token it gave
  var renewAt = null;       // when to ask for the next one (ms), from the token's `exp`
  var tokenAsked = null;    // a promise of the next one, while the source is asked

  // When a JWT stops being good (ms since 1970), from its `exp`; null when unreadable.
  function expiryOf(jwt) {
    try {
      var part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var exp = JSON.parse(window.atob(part + '===='.slice(part.length % 4 || 4))).exp;
      return typeof exp === 'number' ? exp * 1000 : null;
    } catch (e) {
      return null;
    }
  }

  // Calls done(token) with the token in hand, or a new one from the source when there is
  // none, when it is about to expire (10 s before, or a quarter of its life for short
  // ones), or when `fresh` (the server refused it); done(null) without a source;
  // fail(reason) when the source fails.
  function withToken(fresh, done, fail) {
    if (!tokenSource) return done(null);
    if (token && !fresh && !(renewAt && Date.now() >= renewAt)) return done(token);
    var pending = tokenAsked;
    if (!pending) {
      var deferred = Backbone.$.Deferred();
      var asked = pending = tokenAsked = deferred.promise();
      var settle = function (t) {
        if (tokenAsked === asked) {
          var now = Date.now();
          var expiry = t ? expiryOf(t) : null;
          token = t || null;
          renewAt = expiry ? expiry - Math.min(10000, Math.max(0, expiry - now) / 4) : null;
          tokenAsked = null;
        }
        deferred.resolve(t || null);
      };
      var refuse = function (reason) { if (tokenAsked === asked) tokenAsked = null; deferred.reject(reason); };
      try {
        var result = tokenSource();
        if (result && typeof result.then === 'function') result.then(settle, refuse); else settle(result);
      } catch (e) {
        refuse(e);
      }
    }
    pending.then(done, fail);  // (a source that answers at once has settled it already)
  }

  // ---- writes ------------------------------------------------------------------------

  var sync = Backbone.sync;

  function sendOnce(context, method, model, options, beforeSend, bearer) {
    options.beforeSend = function (xhr) {
      xhr.setRequestHeader('X-Client-Id', clientId);
      if (bearer) xhr.setRequestHeader('Authorization', 'Bearer ' + bearer);
      if (beforeSend) return beforeSend.apply(this, arguments);
    };
    return sync.call(context, method, model, options);
  }

  // With a token source: the request waits for a token, and a 401 is answered once by
  // asking the source for a fresh token and sending the request again. The promise
  // returned stands for the request that counts.
  function sendAuthorised(context, method, model, options, beforeSend) {
    var error = options.error;
    var deferred = Backbone.$.Deferred();
    var promise = deferred.promise();
    var current = null;
    promise.abort = function () { if (current) current.abort(); };
    // The same body the second time, whatever the model has become meanwhile.
    if (model && !options.attrs && (method === 'create' || method === 'update' || method === 'patch')) {
      options.attrs = model.toJSON(options);
    }
    var attempt = function (fresh) {
      withToken(fresh, function (bearer) {
        var again = function (xhr) { return !fresh && bearer && xhr && xhr.status === 401; };
        options.error = function (xhr) {
          if (again(xhr)) return attempt(true);
          if (error) error.apply(this, arguments);
        };
        // Backbone.sync leaves the first attempt's jqXHR in options.xhr, which $.ajax would
        // take for its XMLHttpRequest factory.
        delete options.xhr;
        var xhr = current = sendOnce(context, method, model, options, beforeSend, bearer);
        xhr.done(deferred.resolve).fail(function (x) { if (!again(x)) deferred.reject.apply(deferred, arguments); });
      }, function (reason) {
        // No token to be had: the request fails as one the server never answered.
        var unanswered = {status: 0, readyState: 0, responseText: '', statusText: 'no token: ' + reason,
                          getResponseHeader: function () { return null; }};
        if (error) error.call(options.context, unanswered, 'error', String(reason));
        deferred.reject(unanswered, 'error', String(reason));
      });
    };
    attempt(false);
    return promise;
  }

  // ---- the server's state of a model, and errors in Backbone's terms -----------------

  // model._sseServer: its attributes as the server last gave them (a fetch, a save's
  // answer, an event), to tell the page's unsaved changes from the server's.
  function remember(model) {
    model._sseServer = _.clone(model.attributes);
  }

  // The attributes the page changed since then (null: none, or no server state known).
  function unsaved(model) {
    var server = model._sseServer;
    if (!server) return null;
    var changed = {};
    _.each(_.union(_.keys(model.attributes), _.keys(server)), function (key) {
      if (!_.isEqual(model.attributes[key], server[key])) changed[key] = model.attributes[key];
    });
    return _.isEmpty(changed) ? null : changed;
  }

  // Back to the server's state (attributes the server did not have are unset).
  function rollBack(model) {
    var server = model._sseServer;
    if (!server) return;
    _.each(_.difference(_.keys(model.attributes), _.keys(server)), function (key) { model.unset(key); });
    model.set(server);
  }

  // A conflict the page has to settle: `current` is the server's document; the model
  // keeps the page's values until `resolveConflict`.
  function conflict(model, current, source) {
    model._sseConflict = current;
    model.trigger('conflict', model, {current: current, local: unsaved(model) || {}, source: source});
  }

  // 422 → `invalid` with the details keyed by attribute, `validationError` the details
  // (and, unless `wait`, the model back to the server's state); 409 with the stored
  // document → `conflict`. Fetches and successful writes record the server's state.
  function inBackboneTerms(method, model, options) {
    var success = options.success;
    options.success = function () {
      if (success) success.apply(this, arguments);
      if (model instanceof Backbone.Model) remember(model);
      else if (model instanceof Backbone.Collection && method === 'read') model.each(remember);
    };
    if (!(model instanceof Backbone.Model) || method === 'read' || method === 'delete') return;
    var error = options.error;
    options.error = function (xhr) {
      var body = xhr && xhr.responseJSON && xhr.responseJSON.error;
      if (xhr && xhr.status === 422 && body) {
        var details = body.details || [];
        var fields = {};
        _.each(details, function (d) {
          var key = String(d.path || '').replace(/^\//, '').split('/')[0] || '';
          if (!_.has(fields, key)) fields[key] = d.message;
        });
        if (!options.wait && !model.isNew()) rollBack(model);
        model.validationError = details;
        model.trigger('invalid', model, fields, _.extend(options, {validationError: details}));
      } else if (xhr && xhr.status === 409 && body && body.current) {
        conflict(model, body.current, 'save');
      }
      if (error) error.apply(this, arguments);
    };
  }

  function send(method, model, options) {
    inBackboneTerms(method, model, options);
    var beforeSend = options.beforeSend;
    var xhr = tokenSource ? sendAuthorised(this, method, model, options, beforeSend)
                          : sendOnce(this, method, model, options, beforeSend, null);
    if (xhr && xhr.always) {
      if (method === 'create') trackCreate(model, options, xhr);
      else if (method === 'delete') trackDelete(model, options, xhr);
    }
    return xhr;
  }

  // The echo of a create can arrive before the POST's answer, when the local model has
  // no id yet; applied then, it would add the model a second time. The page's own
  // events therefore wait while it has creates in flight; applied after, they merge.
  function trackCreate(model, options, xhr) {
    var base = options.url || _.result(model, 'url');
    var destroyed = false;
    var onDestroy = function () { destroyed = true; };
    pendingCreates++;
    if (model.on) model.on('destroy', onDestroy);
    xhr.always(function () {
      if (model.off) model.off('destroy', onDestroy);
      if (destroyed && !model.isNew()) {
        // Destroyed while its POST was unanswered: stock Backbone sends nothing (the
        // model was new) and the document would stay on the server. Delete it now.
        bury(splitURL(base).name, model.id);
        Backbone.sync('delete', model, {url: join(base, model.id)});
      }
      pendingCreates--;
      if (pendingCreates === 0) {
        var queued = afterCreates;
        afterCreates = [];
        waitingIds = {};
        _.each(queued, function (fn) { fn(); });
      }
    });
  }

  function trackDelete(model, options, xhr) {
    var target;
    try { target = splitURL(options.url || _.result(model, 'url')); } catch (e) { return; }
    if (!target.id) return;
    bury(target.name, target.id);
    xhr.fail(function () { unbury(target.name, target.id); });
  }

  // Only this page's own events (and later ones about the same documents) wait: those of
  // other pages cannot be the echo of a create in flight, and go through at once.
  function whenCreatesSettle(name, data, fn) {
    var key = name + '/' + data.id;
    if (pendingCreates > 0 && (data.origin === clientId || waitingIds[key])) {
      waitingIds[key] = true;
      afterCreates.push(fn);
    } else {
      fn();
    }
  }

  // A write to a model whose previous write is unanswered waits for it, then goes out
  // with what the page meant when it made it: the attributes of that moment, the id
  // the server has given meanwhile, and the version the page's own writes reached.
  function queueWrite(method, model, options) {
    var previous = model._sseWrite;
    var deferred = Backbone.$.Deferred();
    var promise = deferred.promise();
    var wasNew = model.isNew();
    var url = options.url || _.result(model, 'url');
    var body = options.attrs || method === 'delete' ? null : model.toJSON(options);
    var seenVersion = model.get('_v');
    model._sseWrite = promise;
    previous.always(function () {
      var m = method;
      if (wasNew && !model.isNew()) {
        if (m === 'create') m = options.patch ? 'patch' : 'update';
        url = join(url, model.id);
      }
      if (m === 'delete' && model.isNew()) {  // the create failed: nothing to delete
        deferred.resolve({}, 'success', null);
        return;
      }
      if (body) {
        body = _.clone(body);
        if (m === 'patch') body = _.omit(body, 'id', '_v');
        else if (m === 'update' && body._v === seenVersion && model.has('_v')) body._v = model.get('_v');
        options.attrs = body;
      }
      options.url = url;
      var xhr;
      try {
        xhr = send(m, model, options);
      } catch (e) {
        deferred.reject(null, 'error', e);
        setTimeout(function () { throw e; }, 0);  // reported, without breaking jQuery's callbacks
        return;
      }
      if (xhr && xhr.done) xhr.done(deferred.resolve).fail(deferred.reject); else deferred.resolve();
    });
    promise.always(function () { if (model._sseWrite === promise) model._sseWrite = null; });
    return promise;
  }

  // ---- backbone-dnode's forms, for pages that move from it (README, "Coming from
  // backbone-dnode") --------------------------------------------------------------

  // [['created', -1], ['title', 1]] (or ['created', 'desc']) → '-created,title'.
  function sortText(keys) {
    return _.map(keys, function (key) {
      var field = _.isArray(key) ? key[0] : key;
      var direction = _.isArray(key) ? key[1] : 1;
      var descending = direction === -1 || direction === '-1' || /^desc/i.test(String(direction));
      return (descending ? '-' : '') + field;
    }).join(',');
  }

  // fetch({query: {...}, sorting: {sort: [[field, ±1]], limit, skip}}) and the array sort
  // in `data`, as the REST query: `where` as JSON (so that false stays a boolean), `sort`
  // as text, `limit` and `skip`. Other options pass as they are.
  function dnodeData(options) {
    var data = options.data;
    var sorting = options.sorting;
    if (!options.query && !sorting && !(data && _.isArray(data.sort))) return data;
    data = _.extend({}, data);
    if (options.query) {
      var where = typeof data.where === 'string' ? JSON.parse(data.where) : data.where;
      data.where = JSON.stringify(where ? {$and: [where, options.query]} : options.query);
    }
    if (sorting) {
      if (sorting.sort) data.sort = sorting.sort;
      if (sorting.limit != null) data.limit = sorting.limit;
      if (sorting.skip != null) data.skip = sorting.skip;
    }
    if (_.isArray(data.sort)) data.sort = sortText(data.sort);
    return data;
  }

  Backbone.sync = function (method, model, options) {
    options = options || {};
    if (method === 'read') options.data = dnodeData(options);
    if (method === 'read' || !(model instanceof Backbone.Model)) return send(method, model, options);
    if (model._sseWrite) return queueWrite(method, model, options);
    var xhr = send(method, model, options);
    if (xhr && xhr.always) {
      model._sseWrite = xhr;
      xhr.always(function () { if (model._sseWrite === xhr) model._sseWrite = null; });
    }
    return xhr;
  };

  // Runs fn once the model's writes in flight are answered (at once when none is):
  // an event is then compared with the version the page's own writes produced.
  function whenWritten(model, fn) {
    if (model && model._sseWrite) model._sseWrite.always(function () { whenWritten(model, fn); });
    else fn();
  }

  // ---- cursors -----------------------------------------------------------------------

  function parseCursor(text) {
    var m = /^([0-9a-f]+)-(\d+)$/.exec(text || '');
    return m ? {epoch: m[1], seq: parseInt(m[2], 10), text: text} : null;
  }

  // Is a at or before b (same epoch)?
  function notAfter(a, b) {
    return !!(a && b && a.epoch === b.epoch && a.seq <= b.seq);
  }

  // ---- applying an event to local state, idempotent by version -----------------------

  function version(model) {
    var v = model && model.get('_v');
    return typeof v === 'number' ? v : -1;
  }

  function put(collection, name, doc) {
    if (isBuried(name, doc.id)) return;
    var existing = collection.get(doc.id);
    if (existing) {
      whenWritten(existing, function () {
        if (collection.get(doc.id) === existing && version(existing) < doc._v) apply(existing, doc);
      });
    } else {
      var added = collection.add(doc, {parse: true});
      if (added && added.get && added.id === doc.id) remember(added);
    }
  }

  // Another page's change to a model: applied, unless the page holds unsaved changes to
  // it, which are not overwritten unseen: `conflict` instead.
  function apply(model, doc) {
    if (unsaved(model)) return conflict(model, doc, 'remote');
    model.set(model.parse(doc));
    remember(model);
  }

  function drop(collection, id, v) {
    var existing = collection.get(id);
    if (existing && version(existing) <= v) collection.remove(existing);
  }

  // ---- one EventSource per channel, recreated when the browser gives up --------------

  var channels = [];

  // The ticket that opens a stream as the token's user (DESIGN.md §5): done(ticket), or
  // done(null) when there is no token or the server needs no tickets (no auth block).
  function streamTicket(root, fresh, done, fail) {
    withToken(fresh, function (bearer) {
      if (!bearer) return done(null);
      Backbone.$.ajax({
        type: 'POST', url: root + '/auth/ticket', dataType: 'json',
        headers: {'Authorization': 'Bearer ' + bearer, 'X-Client-Id': clientId}
      }).done(function (resp) {
        done(resp && resp.ticket);
      }).fail(function (xhr) {
        if (xhr.status === 404) done(null);
        else if (xhr.status === 401 && !fresh) streamTicket(root, true, done, fail);
        else fail(xhr);
      });
    }, fail);
  }

  function Channel(root, url) {
    this.root = root;        // where /auth/ticket is
    this.url = url;          // without since
    this.listeners = [];
    this.cursor = null;      // the newest event id seen
    this.source = null;
    this.attempt = 0;
    this.timer = null;
  }

  _.extend(Channel.prototype, {
    add: function (listener) {
      this.listeners.push(listener);
      if (!_.contains(channels, this)) channels.push(this);
    },

    remove: function (listener) {
      this.listeners = _.without(this.listeners, listener);
      if (this.listeners.length === 0) this.close();
    },

    // (Re)opens the stream from `since` (a cursor text) or from the newest seen; with a
    // fresh token when `fresh` (the old one expired).
    open: function (since, fresh) {
      var self = this;
      this.shut();
      if (since) this.cursor = parseCursor(since) || this.cursor;
      var opening = this.opening = {};
      streamTicket(this.root, !!fresh, function (ticket) {
        if (self.opening === opening) self.connect(ticket);
      }, function () {
        if (self.opening !== opening) return;
        self.opening = null;
        self.each('error');
        self.reconnectLater();
      });
    },

    connect: function (ticket) {
      var self = this;
      this.opening = null;
      var url = this.url;
      var params = [];
      if (this.cursor) params.push('since=' + encodeURIComponent(this.cursor.text));
      if (ticket) params.push('ticket=' + encodeURIComponent(ticket));
      if (params.length) url += (url.indexOf('?') < 0 ? '?' : '&') + params.join('&');
      var source = this.source = new window.EventSource(url);
      var types = ['hello', 'create', 'update', 'delete', 'enter', 'leave', 'reset', 'bye', 'ping', 'expired'];
      _.each(types, function (type) {
        source.addEventListener(type, function (e) {
          if (self.source !== source) return;
          if (e.lastEventId) self.cursor = parseCursor(e.lastEventId) || self.cursor;
          self.dispatch(type, e.data ? JSON.parse(e.data) : {}, e.lastEventId ? parseCursor(e.lastEventId) : null);
        });
      });
      source.onopen = function () {
        if (self.source !== source) return;
        self.attempt = 0;
        self.each('open');
      };
      source.onerror = function () {
        if (self.source !== source) return;
        self.each('error');
        // The browser retries by itself while readyState is CONNECTING (it sends
        // Last-Event-ID); it gives up (CLOSED) on a non-stream answer, such as a 503.
        if (source.readyState === 2) {
          self.source = null;
          self.reconnectLater();
        }
      };
    },

    dispatch: function (type, data, cursor) {
      if (type === 'bye') {
        // The server is stopping: come back, after a jittered pause, from the cursor.
        this.shut();
        this.each('error');
        this.reconnectLater();
        return;
      }
      if (type === 'expired') {
        // The token ran out: back at once, with a new token and ticket, from the cursor.
        this.open(null, true);
        return;
      }
      if (type === 'ping' || type === 'hello') return;
      _.each(this.listeners.slice(), function (l) { l.event(type, data, cursor); });
    },

    each: function (what) {
      _.each(this.listeners.slice(), function (l) { if (l[what]) l[what](); });
    },

    reconnectLater: function () {
      var self = this;
      if (this.timer || this.listeners.length === 0) return;
      this.timer = setTimeout(function () {
        self.timer = null;
        if (self.listeners.length) self.open();
      }, backoff(this.attempt++));
    },

    // Back online: do not wait for the next retry.
    wake: function () {
      if (!this.listeners.length || this.opening || (this.source && this.source.readyState === 1)) return;
      clearTimeout(this.timer);
      this.timer = null;
      this.open();
    },

    shut: function () {
      if (this.source) this.source.close();
      this.source = null;
      this.opening = null;
    },

    close: function () {
      this.shut();
      clearTimeout(this.timer);
      this.timer = null;
      this.cursor = null;
      channels = _.without(channels, this);
    }
  });

  if (window.addEventListener) {
    window.addEventListener('online', function () {
      _.each(channels.slice(), function (c) { c.wake(); });
    });
  }

  // The page's one multiplexed channel, for every unfiltered subscription.
  var shared = {channel: null, names: []};

  function sharedChannel(root, name, since) {
    var url = root + '/events?collections=';
    if (!shared.channel || shared.channel.listeners.length === 0) shared.names = [];
    if (!_.contains(shared.names, name)) shared.names.push(name);
    url += _.map(shared.names, encodeURIComponent).join(',');
    if (!shared.channel) shared.channel = new Channel(root, url);
    var channel = shared.channel;
    if (channel.url === url && (channel.source || channel.opening) && notAfter(channel.cursor, parseCursor(since))) {
      return channel;  // already carries this collection, and has not gone past `since`
    }
    // Reopen from the older of the two positions: a newly added collection must not
    // miss what happened after its fetch; the others skip what they have seen.
    var from = since;
    if (channel.cursor && notAfter(channel.cursor, parseCursor(since))) from = channel.cursor.text;
    channel.url = url;
    channel.open(from);
    return channel;
  }

  // ---- subscriptions -----------------------------------------------------------------

  function hasFilter(data) {
    return !!data && !_.isEmpty(_.omit(data, 'sort', 'limit', 'skip', '_'));
  }

  // What a subscription shares: the events it has seen, the ones that wait while it
  // fetches, and fetching again (with backoff) when a fetch fails for want of a server.
  function Follower(name, options, fetch, apply) {
    this.name = name;         // the collection's name
    this.options = options;
    this.fetch = fetch;       // function (reset, success(cursorText), error(xhr))
    this.apply = apply;       // function (type, data)
    this.seen = null;         // the newest cursor reflected
    this.buffered = null;     // events that arrive while a fetch is in flight
    this.fetching = false;
    this.again = false;
    this.attempt = 0;
    this.timer = null;
    this.closed = false;
    this.generation = 0;      // fetches completed
  }

  _.extend(Follower.prototype, {
    event: function (type, data, cursor) {
      if (this.buffered) { this.buffered.push([type, data, cursor]); return; }
      this.take(type, data, cursor);
    },

    take: function (type, data, cursor) {
      var self = this;
      if (cursor) {
        if (notAfter(cursor, this.seen)) return;  // already reflected
        this.seen = cursor;
      }
      var generation = this.generation;
      whenCreatesSettle(this.name, data, function () {
        // A refetch since then reflects this event already (or knows better).
        if (!self.closed && self.generation === generation) self.apply(type, data);
      });
    },

    refetch: function (reset) {
      var self = this;
      if (this.closed) return;
      this.buffered = this.buffered || [];
      if (this.fetching) { this.again = true; return; }
      this.fetching = true;
      clearTimeout(this.timer);
      this.timer = null;
      this.fetch(!!reset, function (cursorText) {
        self.fetching = false;
        if (self.closed) return;
        if (self.again) { self.again = false; self.refetch(true); return; }
        self.attempt = 0;
        self.generation++;
        var cursor = parseCursor(cursorText);
        if (cursor && !notAfter(cursor, self.seen)) self.seen = cursor;
        var waiting = self.buffered || [];
        self.buffered = null;
        _.each(waiting, function (e) { self.take(e[0], e[1], e[2]); });
        self.fetched();
      }, function (xhr) {
        self.fetching = false;
        if (self.closed) return;
        if (retryable(xhr)) {
          self.timer = setTimeout(function () { self.timer = null; self.refetch(true); }, backoff(self.attempt++));
        } else {
          self.buffered = null;
          if (self.options.error) self.options.error(xhr);
        }
      });
    },

    close: function () {
      this.closed = true;
      clearTimeout(this.timer);
      this.timer = null;
      this.buffered = null;
    }
  });

  // ---- live windows: a subscription's sort and limit kept as events arrive ----------

  // `sort` as [[field, ±1]]: '-created,title', or {created: -1} (the array form is text
  // by now, see dnodeData).
  function sortKeys(sort) {
    if (!sort) return [];
    if (typeof sort === 'string') {
      return _.map(_.compact(_.map(sort.split(','), function (f) { return f.trim(); })), function (f) {
        return f.charAt(0) === '-' ? [f.slice(1), -1] : [f.replace(/^\+/, ''), 1];
      });
    }
    return _.map(_.keys(sort), function (f) {
      var d = sort[f];
      return [f, d === -1 || d === '-1' || /^desc/i.test(String(d)) ? -1 : 1];
    });
  }

  // The stores' order of values: missing and null first, then numbers, strings, objects
  // and arrays (by their JSON), booleans.
  function rank(v) {
    return v == null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : typeof v === 'boolean' ? 4 : 3;
  }

  function compareValues(a, b) {
    var ra = rank(a), rb = rank(b);
    if (ra !== rb) return ra - rb;
    if (ra === 0) return 0;
    if (ra === 3) { a = JSON.stringify(a); b = JSON.stringify(b); }
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function valueAt(model, path) {
    return _.reduce(path.split('.'), function (v, k) { return v == null ? undefined : v[k]; }, model.attributes);
  }

  // A comparator from the sort keys; ties keep their order (the server's creation order).
  function comparatorFor(keys) {
    return function (a, b) {
      for (var i = 0; i < keys.length; i++) {
        var c = compareValues(valueAt(a, keys[i][0]), valueAt(b, keys[i][0]));
        if (c) return c * keys[i][1];
      }
      return 0;
    };
  }

  // With `limit`, the collection stays the window a fresh fetch would give: models
  // pushed past its end go; when one leaves a full window, or an update sends one to
  // its last place (one from beyond may now rank before it), the window is fetched
  // again. With `skip`, every create and removal moves the window: fetched again.
  function windowKeeper(collection, data, refetch) {
    var limit = data && data.limit != null ? parseInt(data.limit, 10) : 0;
    var skip = data && data.skip ? parseInt(data.skip, 10) : 0;
    if (!(limit > 0)) return function () {};
    return function (type, id, wasFull) {
      if (skip > 0 && type !== 'update') return refetch();
      if (collection.length > limit) collection.remove(collection.models.slice(limit));
      if ((type === 'delete' || type === 'leave') && wasFull && collection.length < limit) refetch();
      if (type === 'update' && collection.length === limit && collection.indexOf(collection.get(id)) === limit - 1) refetch();
    };
  }

  // A collection that follows the server: fetch, then events after the fetch's cursor.
  // subscribe(options, function) or, as backbone-dnode had it, subscribe(options,
  // {finished, error}).
  function subscribeOptions(options, callbacks) {
    options = _.extend({}, options);
    if (typeof callbacks === 'function' && !options.finished) options.finished = callbacks;
    if (callbacks && typeof callbacks === 'object') {
      if (callbacks.finished && !options.finished) options.finished = callbacks.finished;
      if (callbacks.error && !options.error) options.error = callbacks.error;
    }
    options.data = dnodeData(options);
    return _.omit(options, 'query', 'sorting');
  }

  function subscribeCollection(collection, options, callback) {
    options = subscribeOptions(options, callback);
    var target = splitURL(_.result(collection, 'url'));
    var channel = null;
    // Sorted by the subscription's sort, as the server sorts, unless the collection has
    // an order of its own; updates move models to their place.
    var keys = sortKeys(options.data && options.data.sort);
    var sorted = keys.length > 0 && !collection.comparator;
    if (sorted) collection.comparator = comparatorFor(keys);
    var keepWindow = windowKeeper(collection, options.data, _.debounce(function () {
      if (!follower.closed) follower.refetch(false);
    }, 50));

    var follower = new Follower(target.name, options, function (reset, success, error) {
      collection.fetch({
        data: options.data,
        reset: reset,
        success: function (c, resp, o) { success(o && o.xhr && o.xhr.getResponseHeader('X-Stream-Cursor')); },
        error: function (c, xhr) {
          collection.trigger('subscribe:error', collection, xhr);
          error(xhr);
        }
      });
    }, function (type, data) {
      var limit = options.data && parseInt(options.data.limit, 10);
      var wasFull = limit > 0 && collection.length >= limit;
      switch (type) {
        case 'create': case 'enter': case 'update': put(collection, target.name, data.doc); break;
        case 'delete': unbury(target.name, data.id); drop(collection, data.id, data.v); break;
        case 'leave': drop(collection, data.id, data.v); break;
      }
      if (sorted && type === 'update') collection.sort();
      keepWindow(type, data.id || (data.doc && data.doc.id), wasFull);
    });
    options.error = _.wrap(options.error, function (error, xhr) {
      if (error) error.call(collection, collection, xhr);
    });

    follower.fetched = function () {
      if (!channel) open();
      if (options.finished) { var f = options.finished; options.finished = null; f.call(collection, collection); }
    };

    var listener = {
      event: function (type, data, cursor) {
        if (follower.closed) return;
        if (type === 'reset') {
          collection.trigger('subscribe:reset', collection, data);
          follower.refetch(true);
          return;
        }
        if (data.collection === target.name) follower.event(type, data, cursor);
      },
      open: function () { collection.trigger('subscribe:open', collection); },
      error: function () { collection.trigger('subscribe:error', collection); }
    };

    function open() {
      var since = follower.seen && follower.seen.text;
      if (hasFilter(options.data)) {
        // A filtered stream is its own connection: the server evaluates the filter.
        var url = _.result(collection, 'url');
        var query = Backbone.$.param(_.omit(options.data, 'sort', 'limit', 'skip', '_'));
        channel = new Channel(target.root, url + (url.indexOf('?') < 0 ? '?' : '&') + query);
        channel.add(listener);
        channel.open(since);
      } else {
        channel = sharedChannel(target.root, target.name, since);
        channel.add(listener);
      }
    }

    follower.refetch(false);
    return {
      close: function () {
        follower.close();
        if (channel) channel.remove(listener);
      }
    };
  }

  // One model that follows the server: its updates and its deletion.
  function subscribeModel(model, options, callback) {
    options = subscribeOptions(options, callback);
    var target = splitURL(_.result(model, 'url'));
    var channel = null;
    var gone = false;

    // The document is gone: the model is destroyed, and there is nothing left to follow.
    function destroyed() {
      if (gone) return;
      gone = true;
      follower.close();
      if (channel) channel.remove(listener);
      model.trigger('destroy', model, model.collection, {});
    }

    var follower = new Follower(target.name, options, function (reset, success, error) {
      model.fetch({
        success: function (m, resp, o) { success(o && o.xhr && o.xhr.getResponseHeader('X-Stream-Cursor')); },
        error: function (m, xhr) {
          if (reset && xhr && xhr.status === 404) {  // gone while the stream could not tell
            destroyed();
            return;
          }
          model.trigger('subscribe:error', model, xhr);
          error(xhr);
        }
      });
    }, function (type, data) {
      if (type === 'update' || type === 'create') {
        whenWritten(model, function () {
          if (version(model) < data.doc._v) apply(model, data.doc);
        });
      } else if (type === 'delete' && version(model) <= data.v) {
        destroyed();
      }
    });
    options.error = _.wrap(options.error, function (error, xhr) {
      if (error) error.call(model, model, xhr);
    });

    follower.fetched = function () {
      if (!channel) {
        channel = sharedChannel(target.root, target.name, follower.seen && follower.seen.text);
        channel.add(listener);
      }
      if (options.finished) { var f = options.finished; options.finished = null; f.call(model, model); }
    };

    var listener = {
      event: function (type, data, cursor) {
        if (follower.closed || gone) return;
        if (type === 'reset') { model.trigger('subscribe:reset', model, data); follower.refetch(true); return; }
        if (data.collection === target.name && data.id === target.id) follower.event(type, data, cursor);
      },
      open: function () { model.trigger('subscribe:open', model); },
      error: function () { model.trigger('subscribe:error', model); }
    };

    // Destroyed by the page: nothing left to follow either.
    model.once('destroy', function () { if (!gone) { gone = true; follower.close(); if (channel) channel.remove(listener); } });

    follower.refetch(false);
    return {
      close: function () {
        follower.close();
        if (channel) channel.remove(listener);
      }
    };
  }

  Backbone.Collection.prototype.subscribe = function (options, callback) {
    return subscribeCollection(this, options, callback);
  };

  // Settles a `conflict`: 'server' takes the server's document; 'mine' keeps the page's
  // values over the server's version (the next save wins); a function (mine, server)
  // returns the attributes to keep (merged), saved over the server's version too.
  Backbone.Model.prototype.resolveConflict = function (choice) {
    var current = this._sseConflict;
    if (!current) return this;
    this._sseConflict = null;
    var server = this.parse(_.clone(current));
    if (choice === 'server') {
      this._sseServer = server;
      rollBack(this);
      return this;
    }
    var mine = _.clone(this.attributes);
    var kept = typeof choice === 'function' ? choice(mine, server) : mine;
    this._sseServer = server;
    this.set(_.extend({}, kept, {_v: server._v}));
    return this;
  };

  Backbone.Model.prototype.subscribe = function (options, callback) {
    return subscribeModel(this, options, callback);
  };

  // Sets where tokens come from: a function returning a token or a promise of one (a
  // token string stands for a function returning it; null: anonymous again). The token
  // in hand is forgotten; streams already open keep their user until they reopen.
  function auth(source) {
    tokenSource = typeof source === 'function' ? source : source ? function () { return source; } : null;
    token = null;
    renewAt = null;
    tokenAsked = null;
  }

  return {clientId: clientId, version: '0.3.0', auth: auth};
});
