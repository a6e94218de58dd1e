// Observation for the library tests, loaded before backbone-sse.js. It changes nothing
// the library sees, with one opt-in exception: a request made with the ajax option
// `holdResponse: function (held)` reaches the server at once, but its answer is handed
// to jQuery only when the test calls `held.release()`; that is how a test makes the
// stream's echo of a create arrive before the POST's answer, deterministically.
(function () {
  'use strict';
  var H = window.H = {
    requests: [],   // {method, url, contentType, data, headers, status, response}
    streams: [],    // {url, source, events: [{type, id, data, at}], opens, errors}
    held: []
  };

  // --- every EventSource the page opens (the library's ones) ---
  var RealEventSource = window.EventSource;
  var types = ['hello', 'create', 'update', 'delete', 'enter', 'leave', 'reset', 'bye', 'ping', 'expired'];
  function SpyEventSource(url, init) {
    var source = new RealEventSource(url, init);
    var record = {url: String(url), source: source, events: [], opens: 0, errors: 0};
    H.streams.push(record);
    types.forEach(function (type) {
      source.addEventListener(type, function (e) {
        record.events.push({type: type, id: e.lastEventId, data: e.data ? JSON.parse(e.data) : null, at: performance.now()});
      });
    });
    source.addEventListener('open', function () { record.opens++; });
    source.addEventListener('error', function () { record.errors++; });
    return source;
  }
  SpyEventSource.CONNECTING = 0;
  SpyEventSource.OPEN = 1;
  SpyEventSource.CLOSED = 2;
  SpyEventSource.prototype = RealEventSource.prototype;
  window.EventSource = SpyEventSource;

  // --- every $.ajax request: method, URL, body, headers set by beforeSend, status ---
  $.ajaxPrefilter(function (options, original, jqXHR) {
    var record = {method: options.type, url: options.url, contentType: options.contentType,
                  data: options.data == null ? null : options.data, headers: {}, status: null, response: null};
    H.requests.push(record);
    // GET data is appended to the URL after the prefilters: read it when sent.
    var beforeSend = options.beforeSend;
    options.beforeSend = function (xhr, settings) {
      record.url = settings.url;
      if (beforeSend) return beforeSend.apply(this, arguments);
    };
    var set = jqXHR.setRequestHeader;
    jqXHR.setRequestHeader = function (name, value) {
      record.headers[name] = value;
      return set.apply(this, arguments);
    };
    jqXHR.always(function () {
      record.status = jqXHR.status;
      record.response = jqXHR.responseJSON === undefined ? jqXHR.responseText : jqXHR.responseJSON;
    });
  });

  // --- the opt-in held answer ---
  $.ajaxTransport('+*', function (options) {
    if (!options.holdResponse) return undefined;
    var xhr = null;
    return {
      send: function (headers, complete) {
        xhr = new XMLHttpRequest();
        xhr.open(options.type, options.url, true);
        Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
        xhr.onload = xhr.onerror = function () {
          var held = {url: options.url, status: xhr.status, body: xhr.responseText, answeredAt: performance.now(), released: false};
          held.release = function () {
            held.released = true;
            held.releasedAt = performance.now();
            complete(xhr.status, xhr.statusText, {text: xhr.responseText}, xhr.getAllResponseHeaders());
          };
          H.held.push(held);
          options.holdResponse(held);
        };
        xhr.send(options.hasContent && options.data ? options.data : null);
      },
      abort: function () { if (xhr) xhr.abort(); }
    };
  });
})();
