/*!
 * backbone-sse.js: live, persistent Backbone collections over BackboneSSE.
 * Plain ES5, no build step; needs Backbone and Underscore (and Backbone's $.ajax).
 *
 *   var todos = new Todos();
 *   var handle = todos.subscribe({data: {where: {done: false}}}, function () { ... });
 *   handle.close();
 *
 * CRUD stays stock Backbone.sync. This file adds: a per-page X-Client-Id on every
 * write (so the page knows the echo of its own writes), and `subscribe` on
 * collections and models, which fetches, then follows the server's event stream
 * from the fetch's X-Stream-Cursor, so that nothing falls between the two.
 */
(function (root, factory) {
  root.BackboneSSE = factory(root.Backbone, root._);
})(this, function (Backbone, _) {
  'use strict';

  var clientId = 'page-' + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  var pendingCreates = 0;   // this page's POSTs in flight
  var afterCreates = [];    // work that waits for them

  // ---- writes: tag them, and know when this page's creates are in flight -----------

  var sync = Backbone.sync;
  Backbone.sync = function (method, model, options) {
    options = options || {};
    var beforeSend = options.beforeSend;
    options.beforeSend = function (xhr) {
      xhr.setRequestHeader('X-Client-Id', clientId);
      if (beforeSend) return beforeSend.apply(this, arguments);
    };
    var xhr = sync.call(this, method, model, options);
    if (method === 'create' && xhr && xhr.always) {
      pendingCreates++;
      xhr.always(function () {
        pendingCreates--;
        if (pendingCreates === 0) {
          var queued = afterCreates;
          afterCreates = [];
          _.each(queued, function (fn) { fn(); });
        }
      });
    }
    return xhr;
  };

  // Events wait while this page has creates in flight: the echo of a create can arrive
  // before the POST's answer, when the local model has no id yet; applied then, it
  // would add the model a second time. Applied after, it merges into the saved model.
  function whenCreatesSettle(fn) {
    if (pendingCreates === 0) fn(); else afterCreates.push(fn);
  }

  // ---- cursors ---------------------------------------------------------------------

  function parseCursor(text) {
    var m = /^([0-9a-f]+)-(\d+)$/.exec(text || '');
    return m ? {epoch: m[1], seq: parseInt(m[2], 10), text: text} : null;
  }

  // Is a at or before b (same epoch)?
  function notAfter(a, b) {
    return a && b && a.epoch === b.epoch && a.seq <= b.seq;
  }

  // ---- applying an event to local state, idempotent by version ---------------------

  function version(model) {
    var v = model && model.get('_v');
    return typeof v === 'number' ? v : -1;
  }

  function put(collection, doc) {
    var existing = collection.get(doc.id);
    if (existing) {
      if (version(existing) < doc._v) existing.set(existing.parse(doc));
    } else {
      collection.add(doc, {parse: true});
    }
  }

  function drop(collection, id, v) {
    var existing = collection.get(id);
    if (existing && version(existing) <= v) collection.remove(existing);
  }

  // ---- one EventSource, shared, recreated when the browser gives up ----------------

  function Channel(url) {
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
    },

    remove: function (listener) {
      this.listeners = _.without(this.listeners, listener);
      if (this.listeners.length === 0) this.close();
    },

    // (Re)opens the stream from `since` (a cursor text) or from the newest seen.
    open: function (since) {
      var self = this;
      this.shut();
      if (since) this.cursor = parseCursor(since) || this.cursor;
      var url = this.url;
      if (this.cursor) url += (url.indexOf('?') < 0 ? '?' : '&') + 'since=' + encodeURIComponent(this.cursor.text);
      var source = this.source = new EventSource(url);
      var types = ['hello', 'create', 'update', 'delete', 'enter', 'leave', 'reset', 'bye', 'ping'];
      _.each(types, function (type) {
        source.addEventListener(type, function (e) {
          if (self.source !== source) return;
          if (e.lastEventId) self.cursor = parseCursor(e.lastEventId) || self.cursor;
          self.dispatch(type, e.data ? JSON.parse(e.data) : {}, parseCursor(e.lastEventId));
        });
      });
      source.onopen = function () {
        self.attempt = 0;
        self.each('open');
      };
      source.onerror = function () {
        if (self.source !== source) return;
        self.each('error');
        // The browser retries by itself while readyState is CONNECTING; it gives up
        // (CLOSED) on a non-stream answer, such as a 503 during a restart.
        if (source.readyState === 2) self.reconnectLater();
      };
    },

    dispatch: function (type, data, cursor) {
      if (type === 'bye') {
        // The server is stopping: come back, after a jittered pause, from the cursor.
        this.shut();
        this.reconnectLater();
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
      var delay = Math.min(10000, 500 * Math.pow(2, this.attempt++)) * (0.5 + Math.random());
      this.timer = setTimeout(function () {
        self.timer = null;
        if (self.listeners.length) self.open();
      }, delay);
    },

    shut: function () {
      if (this.source) this.source.close();
      this.source = null;
    },

    close: function () {
      this.shut();
      clearTimeout(this.timer);
      this.timer = null;
    }
  });

  // The page's one multiplexed channel, for every unfiltered subscription.
  var shared = {channel: null, names: []};

  function sharedChannel(root, name, since) {
    if (!_.contains(shared.names, name)) shared.names.push(name);
    var url = root + '/events?collections=' + _.map(shared.names, encodeURIComponent).join(',');
    if (!shared.channel) shared.channel = new Channel(url);
    var channel = shared.channel;
    var from = since;
    // Reopen from the older of the two positions: a newly added collection must not
    // miss what happened after its fetch; repeats are harmless (applied by version).
    if (channel.cursor && notAfter(channel.cursor, parseCursor(since))) from = channel.cursor.text;
    channel.url = url;
    channel.open(from);
    return channel;
  }

  // ---- subscriptions -----------------------------------------------------------------

  function splitURL(url) {
    var m = /^(.*)\/([a-z][a-z0-9_-]*)(?:\/([^/?#]+))?\/?(?:[?#].*)?$/.exec(url);
    if (!m) throw new Error('backbone-sse: cannot read a collection name from ' + url);
    return {root: m[1], name: m[2], id: m[3] ? decodeURIComponent(m[3]) : null};
  }

  function hasFilter(data) {
    return !!data && !_.isEmpty(_.omit(data, 'sort', 'limit', 'skip', '_'));
  }

  // A collection that follows the server: fetch, then events after the fetch's cursor.
  function subscribeCollection(collection, options, callback) {
    options = _.extend({}, options);
    if (typeof callback === 'function' && !options.finished) options.finished = callback;
    var target = splitURL(_.result(collection, 'url'));
    var closed = false;
    var syncedTo = null;   // the cursor of the last fetch
    var buffered = null;   // events that arrive while a fetch is in flight
    var channel = null;
    var listener = {
      event: function (type, data, cursor) {
        if (data.collection !== target.name) return;
        if (buffered) { buffered.push([type, data, cursor]); return; }
        whenCreatesSettle(function () { apply(type, data, cursor); });
      },
      open: function () { collection.trigger('subscribe:open', collection); },
      error: function () { collection.trigger('subscribe:error', collection); }
    };

    function apply(type, data, cursor) {
      if (closed) return;
      // Already reflected in the fetched list.
      if (cursor && syncedTo && notAfter(cursor, syncedTo) && type !== 'reset') return;
      switch (type) {
        case 'create': case 'enter': case 'update': put(collection, data.doc); break;
        case 'delete': case 'leave': drop(collection, data.id, data.v); break;
        case 'reset':
          collection.trigger('subscribe:reset', collection, data);
          refetch(true);
          break;
      }
    }

    // Fetch the list; events that arrive meanwhile wait, then those after the
    // fetch's cursor are applied.
    function refetch(reset) {
      buffered = buffered || [];
      var fetchOptions = {
        data: options.data,
        reset: !!reset,
        success: function (c, resp, o) {
          syncedTo = parseCursor(o && o.xhr && o.xhr.getResponseHeader('X-Stream-Cursor'));
          var waiting = buffered || [];
          buffered = null;
          if (!channel) open();
          else if (reset) channel.open(syncedTo && syncedTo.text);
          whenCreatesSettle(function () {
            _.each(waiting, function (e) { apply(e[0], e[1], e[2]); });
          });
          if (options.finished) { var f = options.finished; options.finished = null; f.call(collection, collection); }
        },
        error: function (c, xhr) {
          buffered = null;
          collection.trigger('subscribe:error', collection, xhr);
          if (options.error) options.error.call(collection, collection, xhr);
        }
      };
      collection.fetch(fetchOptions);
    }

    function open() {
      var since = syncedTo && syncedTo.text;
      if (hasFilter(options.data)) {
        // A filtered stream is its own connection: the server evaluates the filter.
        var query = Backbone.$ ? Backbone.$.param(_.omit(options.data, 'sort', 'limit', 'skip')) : '';
        channel = new Channel(_.result(collection, 'url') + '?' + query);
        channel.add(listener);
        channel.open(since);
      } else {
        channel = sharedChannel(target.root, target.name, since);
        channel.add(listener);
      }
    }

    refetch(false);
    return {
      close: function () {
        closed = true;
        if (channel) channel.remove(listener);
      }
    };
  }

  // One model that follows the server: updates and its deletion.
  function subscribeModel(model, options, callback) {
    options = _.extend({}, options);
    if (typeof callback === 'function' && !options.finished) options.finished = callback;
    var target = splitURL(_.result(model, 'url'));
    var closed = false;
    var channel = null;
    var listener = {
      event: function (type, data) {
        if (closed || data.collection !== target.name || data.id !== target.id) return;
        whenCreatesSettle(function () {
          if (type === 'update' || type === 'create') {
            if (version(model) < data.doc._v) model.set(model.parse(data.doc));
          } else if (type === 'delete' && version(model) <= data.v) {
            model.trigger('destroy', model, model.collection, {});
          }
        });
      },
      open: function () { model.trigger('subscribe:open', model); },
      error: function () { model.trigger('subscribe:error', model); }
    };
    model.fetch({
      success: function (m, resp, o) {
        var cursor = o && o.xhr && o.xhr.getResponseHeader('X-Stream-Cursor');
        channel = sharedChannel(target.root, target.name, cursor);
        channel.add(listener);
        if (options.finished) options.finished.call(model, model);
      },
      error: function (m, xhr) {
        model.trigger('subscribe:error', model, xhr);
        if (options.error) options.error.call(model, model, xhr);
      }
    });
    return {
      close: function () {
        closed = true;
        if (channel) channel.remove(listener);
      }
    };
  }

  Backbone.Collection.prototype.subscribe = function (options, callback) {
    return subscribeCollection(this, options, callback);
  };

  Backbone.Model.prototype.subscribe = function (options, callback) {
    return subscribeModel(this, options, callback);
  };

  return {clientId: clientId, version: '0.1.0'};
});
