// TodoMVC on stock Backbone and backbone-sse.js: every change made in any open page
// shows up in every other one. On a server that asks who you are (an `auth` block, as
// with `make run-auth`), a sign-in: each user then sees their own todos, and everyone
// signed in shares one more list.
(function () {
  'use strict';

  // ---- who you are: a name, traded for a token by the server's development issuer ----

  var USER_KEY = 'backbone-sse-example-user';  // per tab: two tabs can be two users
  var user = window.sessionStorage.getItem(USER_KEY);
  // ?token_ttl=SECONDS asks for short-lived tokens, to watch the library renew them.
  var ttl = parseInt((/[?&]token_ttl=(\d+)/.exec(window.location.search) || [])[1], 10) || undefined;

  function devToken(name) {
    return $.ajax({type: 'POST', url: '/auth/dev-token', contentType: 'application/json', dataType: 'json',
                   data: JSON.stringify({sub: name, ttl: ttl})});
  }

  if (user) {
    // Asked for a token when one is first needed, again before it expires and after a 401.
    BackboneSSE.auth(function () {
      return devToken(user).then(function (answer) { return answer.token; }, function (xhr) {
        // A server without --dev-tokens (or without auth): carry on as nobody.
        if (xhr.status === 404) { window.sessionStorage.removeItem(USER_KEY); return null; }
        return $.Deferred().reject('the token issuer failed (' + xhr.status + ')');
      });
    });
    $('#user').text(user);
    $('#signed-in').prop('hidden', false);
  }

  function askWhoYouAre() {
    if (user) { $('#sign-in-error').text('the server refused your token'); }
    $('#sign-in').prop('hidden', false);
    $('#user-name').focus();
  }

  $('#sign-in').on('submit', function (e) {
    e.preventDefault();
    var name = $.trim($('#user-name').val());
    if (!name) return;
    devToken(name).then(function () {
      window.sessionStorage.setItem(USER_KEY, name);
      window.location.reload();
    }, function (xhr) {
      $('#sign-in-error').text(xhr.status === 404
        ? 'this server issues no development tokens (start it with --dev-tokens)'
        : 'sign-in failed (' + xhr.status + ')');
    });
  });

  $('#sign-out').on('click', function () {
    window.sessionStorage.removeItem(USER_KEY);
    window.location.reload();
  });

  var Todo = Backbone.Model.extend({
    defaults: {title: '', done: false},
    initialize: function () {
      this.on('error', this.failed, this);
    },
    toggle: function () { this.save({done: !this.get('done')}, {patch: true}); },
    // A write the server refused: show what the server holds.
    failed: function (model, xhr, options) {
      var status = xhr && xhr.status;
      var body = xhr && xhr.responseJSON;
      if (options && options.refresh) return;  // the read below failed too: leave it
      if (this.isNew() || status === 404) {
        // Never created (say, a title the schema refuses), or deleted by someone else.
        if (this.collection) this.collection.remove(this);
      } else if (status === 409 && body && body.error && body.error.current) {
        // Edited here and elsewhere at once: the row asks which to keep (`conflict`).
      } else if (this.collection) {
        this.fetch({refresh: true});
      }
    }
  });

  var Todos = Backbone.Collection.extend({
    model: Todo,
    url: '/todos',
    comparator: 'created',
    initialize: function () {
      // The server stamps `created` when it answers the POST; keep the list in its order.
      this.on('change:created', function () { this.sort(); }, this);
    },
    done: function () { return this.where({done: true}); },
    remaining: function () { return this.where({done: false}); }
  });

  var todos = new Todos();
  var filter = 'all';

  function hidden(todo) {
    var done = !!todo.get('done');
    return (filter === 'active' && done) || (filter === 'completed' && !done);
  }

  var Shared = Todos.extend({url: '/shared'});

  var TodoView = Backbone.View.extend({
    tagName: 'li',
    template: _.template($('#item-template').html()),
    events: {
      'click .toggle': 'toggle',
      'dblclick label': 'edit',
      'click .destroy': 'clear',
      'keydown .edit': 'key',
      'blur .edit': 'close',
      'click .keep-mine': 'keepMine',
      'click .take-theirs': 'takeTheirs'
    },
    initialize: function (options) {
      this.showOwner = !!(options && options.showOwner);
      this.listenTo(this.model, 'change', this.render);
      this.listenTo(this.model, 'remove destroy', this.remove);
      // The server's words in Backbone's terms (backbone-sse.js): a refused value, and
      // an edit that met another one.
      this.listenTo(this.model, 'invalid', function (model, fields) {
        this.problem = _.map(fields, function (message, field) { return field + ': ' + message; }).join('; ');
        this.render();
      });
      this.listenTo(this.model, 'conflict', function (model, info) {
        this.conflict = info.current.title;
        this.render();
      });
    },
    render: function () {
      // A change from another page while this one is being edited waits for the edit
      // to end, so that the text being typed is not replaced under the cursor.
      if (this.$el.hasClass('editing')) { this.stale = true; return this; }
      this.stale = false;
      var by = this.showOwner && this.model.get('owner');
      this.$el.html(this.template(_.extend(this.model.toJSON(), {
        by: by && by !== user ? by : null, conflict: this.conflict, problem: this.problem
      })));
      this.$el.toggleClass('completed', !!this.model.get('done'));
      this.$el.toggleClass('foreign', !!by);  // someone else's: only they may delete it
      if (this.model.id != null) this.$el.attr('data-id', this.model.id);
      this.applyFilter();
      return this;
    },
    applyFilter: function () {
      this.$el.toggleClass('hidden', hidden(this.model));
    },
    toggle: function () { this.model.toggle(); },
    edit: function () {
      this.$el.addClass('editing');
      // What the edit starts from: when the title changes elsewhere meanwhile, the edit
      // is saved with this version, and is a 409 and a question (`conflict`), not a
      // silent overwrite. (A change to another field, such as `done`, is no conflict.)
      this.editingFrom = {v: this.model.get('_v'), title: this.model.get('title')};
      var input = this.$('.edit');
      input.val(this.model.get('title')).focus();
    },
    close: function () {
      if (!this.$el.hasClass('editing')) return;
      var title = $.trim(this.$('.edit').val());
      this.$el.removeClass('editing');
      if (!title) { this.clear(); return; }
      if (title !== this.model.get('title')) {
        this.problem = null;
        var changedElsewhere = this.model.get('title') !== this.editingFrom.title;
        this.model.save(changedElsewhere ? {title: title, _v: this.editingFrom.v} : {title: title}, {patch: true});
      }
      if (this.stale) this.render();
    },
    key: function (e) {
      if (e.which === 13) this.close();
      if (e.which === 27) { this.$el.removeClass('editing'); this.render(); }
    },
    keepMine: function () {
      var mine = this.model.get('title');
      this.conflict = null;
      this.model.resolveConflict('mine');
      this.model.save({title: mine}, {patch: true});
      this.render();
    },
    takeTheirs: function () {
      this.conflict = null;
      this.model.resolveConflict('server');
      this.render();
    },
    clear: function () { this.model.destroy(); }
  });

  // Enter in a list's input adds what it holds to the list.
  function createFrom(e, input, collection) {
    if (e.which !== 13) return;
    var title = $.trim(input.val());
    if (!title) return;
    collection.create({title: title, done: false});
    input.val('');
  }

  // The rows of one list, in the collection's order (models without an id yet included).
  var RowsView = Backbone.View.extend({
    initialize: function (options) {
      this.showOwner = !!options.showOwner;
      this.views = {};  // by model cid
      this.listenTo(this.collection, 'add', this.addOne);
      this.listenTo(this.collection, 'remove', this.forget);
      this.listenTo(this.collection, 'reset', this.addAll);
      this.listenTo(this.collection, 'sort', this.reorder);
    },
    addOne: function (item) {
      var view = this.views[item.cid] = new TodoView({model: item, showOwner: this.showOwner});
      var index = this.collection.indexOf(item);
      var el = view.render().el;
      if (index >= 0 && index < this.$el.children().length) this.$el.children().eq(index).before(el); else this.$el.append(el);
    },
    forget: function (item) {
      var view = this.views[item.cid];
      delete this.views[item.cid];
      if (view) view.remove();
    },
    addAll: function () {
      _.invoke(_.values(this.views), 'remove');
      this.views = {};
      this.$el.empty();
      this.collection.each(this.addOne, this);
    },
    reorder: function () {
      var list = this.$el;
      var views = this.views;
      this.collection.each(function (item) { if (views[item.cid]) list.append(views[item.cid].el); });
    },
    applyFilter: function () {
      _.invoke(_.values(this.views), 'applyFilter');
    }
  });

  var AppView = Backbone.View.extend({
    el: '#todoapp',
    events: {
      'keypress #new-todo': 'create',
      'click #clear-completed': 'clearCompleted',
      'click #toggle-all': 'toggleAll'
    },
    initialize: function () {
      this.rows = new RowsView({el: '#todo-list', collection: todos});
      this.input = this.$('#new-todo');
      this.listenTo(todos, 'add remove change reset', _.debounce(this.render, 0));
      this.listenTo(todos, 'subscribe:open', function () { this.status('live'); });
      this.listenTo(todos, 'subscribe:error', function () { this.status('reconnecting…'); });
    },
    status: function (text) { this.$('#status').text(text).attr('data-state', text === 'live' ? 'live' : 'down'); },
    render: function () {
      var remaining = todos.remaining().length;
      this.$('#todo-count').html('<strong>' + remaining + '</strong> ' + (remaining === 1 ? 'item' : 'items') + ' left');
      this.$('#clear-completed').toggle(todos.done().length > 0);
      this.$('#toggle-all').prop('checked', todos.length > 0 && remaining === 0);
      this.$('#filters a').removeClass('selected').filter('[data-filter="' + filter + '"]').addClass('selected');
      this.$('#main, #footer').toggle(todos.length > 0);
    },
    create: function (e) { createFrom(e, this.input, todos); },
    clearCompleted: function () {
      _.invoke(todos.done(), 'destroy');
      return false;
    },
    toggleAll: function () {
      var done = this.$('#toggle-all').prop('checked');
      todos.each(function (todo) { if (todo.get('done') !== done) todo.save({done: done}, {patch: true}); });
    },
    applyFilter: function () {
      this.rows.applyFilter();
      this.render();
    }
  });

  // The shared list: the same rows, with who added each one.
  var SharedView = Backbone.View.extend({
    el: '#sharedapp',
    events: {'keypress #new-shared': 'create'},
    initialize: function () {
      this.rows = new RowsView({el: '#shared-list', collection: this.collection, showOwner: true});
      this.input = this.$('#new-shared');
    },
    create: function (e) { createFrom(e, this.input, this.collection); }
  });

  var Router = Backbone.Router.extend({
    routes: {'*filter': 'setFilter'},
    setFilter: function (param) {
      filter = param === 'active' || param === 'completed' ? param : 'all';
      app.applyFilter();
    }
  });

  var app = new AppView();
  window.todos = todos;  // for the browser tests and the curious
  todos.subscribe({
    error: function (collection, xhr) { if (xhr && xhr.status === 401) askWhoYouAre(); }
  }, function () { app.render(); });
  if (user) {
    var shared = new Shared();
    window.shared = shared;
    new SharedView({collection: shared});
    $('#sharedapp').prop('hidden', false);
    shared.subscribe({});
  }
  new Router();
  Backbone.history.start();
})();
