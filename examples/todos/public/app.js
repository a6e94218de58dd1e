// TodoMVC on stock Backbone and backbone-sse.js: every change made in any open page
// shows up in every other one.
(function () {
  'use strict';

  var Todo = Backbone.Model.extend({
    defaults: {title: '', done: false},
    toggle: function () { this.save({done: !this.get('done')}, {patch: true}); }
  });

  var Todos = Backbone.Collection.extend({
    model: Todo,
    url: '/todos',
    comparator: 'created',
    done: function () { return this.where({done: true}); },
    remaining: function () { return this.where({done: false}); }
  });

  var todos = new Todos();
  var filter = 'all';

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
      this.$el.html(this.template(this.model.toJSON()));
      this.$el.toggleClass('completed', !!this.model.get('done'));
      this.$el.attr('data-id', this.model.id);
      this.applyFilter();
      return this;
    },
    applyFilter: function () {
      var done = !!this.model.get('done');
      this.$el.toggleClass('hidden', (filter === 'active' && done) || (filter === 'completed' && !done));
    },
    toggle: function () { this.model.toggle(); },
    edit: function () {
      this.$el.addClass('editing');
      this.$('.edit').focus();
    },
    close: function () {
      if (!this.$el.hasClass('editing')) return;
      var title = $.trim(this.$('.edit').val());
      this.$el.removeClass('editing');
      if (!title) { this.clear(); return; }
      if (title !== this.model.get('title')) this.model.save({title: title}, {patch: true});
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
      this.input = this.$('#new-todo');
      this.listenTo(todos, 'add', this.addOne);
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
      var view = new TodoView({model: todo});
      var index = todos.indexOf(todo);
      var list = this.$('#todo-list');
      var el = view.render().el;
      if (index >= 0 && index < list.children().length) list.children().eq(index).before(el); else list.append(el);
    },
    addAll: function () {
      this.$('#todo-list').empty();
      todos.each(this.addOne, this);
    },
    reorder: function () {
      var list = this.$('#todo-list');
      todos.each(function (todo) { list.append(list.children('[data-id="' + todo.id + '"]')); });
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
    }
  });

  var Router = Backbone.Router.extend({
    routes: {'*filter': 'setFilter'},
    setFilter: function (param) {
      filter = param === 'active' || param === 'completed' ? param : 'all';
      todos.trigger('filter');
      $('#todo-list li').each(function () {
        var todo = todos.get($(this).attr('data-id'));
        if (todo) $(this).toggleClass('hidden', (filter === 'active' && todo.get('done')) || (filter === 'completed' && !todo.get('done')));
      });
      app.render();
    }
  });

  var app = new AppView();
  window.todos = todos;  // for the browser tests and the curious
  todos.subscribe({}, function () { app.render(); });
  new Router();
  Backbone.history.start();
})();
