// TodoMVC on stock Backbone and backbone-sse.js: every change made in any open page
// shows up in every other one.
(function () {
  'use strict';

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
        this.set(this.parse(body.error.current));
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

  var TodoView = Backbone.View.extend({
    tagName: 'li',
    template: _.template($('#item-template').html()),
    events: {
      'click .toggle': 'toggle',
      'dblclick label': 'edit',
      'click .destroy': 'clear',
      'keydown .edit': 'key',
      'blur .edit': 'close'
    },
    initialize: function () {
      this.listenTo(this.model, 'change', this.render);
      this.listenTo(this.model, 'remove destroy', this.remove);
    },
    render: function () {
      // A change from another page while this one is being edited waits for the edit
      // to end, so that the text being typed is not replaced under the cursor.
      if (this.$el.hasClass('editing')) { this.stale = true; return this; }
      this.stale = false;
      this.$el.html(this.template(this.model.toJSON()));
      this.$el.toggleClass('completed', !!this.model.get('done'));
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
      var input = this.$('.edit');
      input.val(this.model.get('title')).focus();
    },
    close: function () {
      if (!this.$el.hasClass('editing')) return;
      var title = $.trim(this.$('.edit').val());
      this.$el.removeClass('editing');
      if (!title) { this.clear(); return; }
      if (title !== this.model.get('title')) this.model.save({title: title}, {patch: true});
      if (this.stale) this.render();
    },
    key: function (e) {
      if (e.which === 13) this.close();
      if (e.which === 27) { this.$el.removeClass('editing'); this.render(); }
    },
    clear: function () { this.model.destroy(); }
  });

  var AppView = Backbone.View.extend({
    el: '#todoapp',
    events: {
      'keypress #new-todo': 'create',
      'click #clear-completed': 'clearCompleted',
      'click #toggle-all': 'toggleAll'
    },
    initialize: function () {
      this.views = {};  // by model cid
      this.input = this.$('#new-todo');
      this.listenTo(todos, 'add', this.addOne);
      this.listenTo(todos, 'remove', this.forget);
      this.listenTo(todos, 'reset', this.addAll);
      this.listenTo(todos, 'add remove change reset', _.debounce(this.render, 0));
      this.listenTo(todos, 'subscribe:open', function () { this.status('live'); });
      this.listenTo(todos, 'subscribe:error', function () { this.status('reconnecting…'); });
      this.listenTo(todos, 'sort', this.reorder);
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
    addOne: function (todo) {
      var view = this.views[todo.cid] = new TodoView({model: todo});
      var index = todos.indexOf(todo);
      var list = this.$('#todo-list');
      var el = view.render().el;
      if (index >= 0 && index < list.children().length) list.children().eq(index).before(el); else list.append(el);
    },
    forget: function (todo) {
      var view = this.views[todo.cid];
      delete this.views[todo.cid];
      if (view) view.remove();
    },
    addAll: function () {
      _.invoke(_.values(this.views), 'remove');
      this.views = {};
      this.$('#todo-list').empty();
      todos.each(this.addOne, this);
    },
    // Rows follow the collection's order (models without an id yet included).
    reorder: function () {
      var list = this.$('#todo-list');
      var views = this.views;
      todos.each(function (todo) { if (views[todo.cid]) list.append(views[todo.cid].el); });
    },
    create: function (e) {
      if (e.which !== 13) return;
      var title = $.trim(this.input.val());
      if (!title) return;
      todos.create({title: title, done: false});
      this.input.val('');
    },
    clearCompleted: function () {
      _.invoke(todos.done(), 'destroy');
      return false;
    },
    toggleAll: function () {
      var done = this.$('#toggle-all').prop('checked');
      todos.each(function (todo) { if (todo.get('done') !== done) todo.save({done: done}, {patch: true}); });
    },
    applyFilter: function () {
      _.each(this.views, function (view) { view.applyFilter(); });
      this.render();
    }
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
  todos.subscribe({}, function () { app.render(); });
  new Router();
  Backbone.history.start();
})();
