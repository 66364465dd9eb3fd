// The consent page: shows which app asks for which scopes, logs the user in for this one
// decision, then posts the decision and follows the redirect the server answers. Talks
// only to this origin (JSON); the login token lives in this page's memory only and goes
// back in the X-OAuth-Consent header (no cookie, so another site cannot decide for the user).
(function () {
  'use strict';
  var BASE = '/api/v2/oauth2';
  var query = window.location.search.replace(/^\?/, '');
  var consentToken = null;
  var pendingRequestId = null;
  var clientId = new URLSearchParams(query).get('client_id') || '';
  var $ = function (id) { return document.getElementById(id); };

  function show(id, visible) { $(id).hidden = !visible; }
  function say(text) { $('message').textContent = text || ''; }
  function state(text) { $('status').textContent = text; $('app').setAttribute('data-state', text); }

  function call(method, path, body, headers) {
    var sent = Object.assign({ 'Accept': 'application/json' }, headers || {});
    var payload;
    if (body instanceof URLSearchParams) {
      sent['Content-Type'] = 'application/x-www-form-urlencoded';
      payload = body.toString();
    } else if (body !== undefined) {
      sent['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    return fetch(path, { method: method, headers: sent, credentials: 'omit', redirect: 'manual', body: payload })
      .then(function (res) {
        return res.json().then(function (data) { return { ok: res.ok, status: res.status, data: data }; });
      });
  }

  function leave(url) {
    state('redirecting');
    window.location.assign(url);
  }

  function render(view) {
    $('app-name').textContent = view.app.name;
    $('broker-name').textContent = view.broker;
    var host = '';
    try { host = new URL(view.redirect_uri).host; } catch (e) { host = view.redirect_uri; }
    $('redirect-host').textContent = host;
    var list = $('scopes');
    while (list.firstChild) list.removeChild(list.firstChild);
    view.scopes.forEach(function (scope) {
      var item = document.createElement('li');
      if (scope.writes) item.className = 'writes';
      var label = document.createElement('label');
      var box = document.createElement('input');
      box.type = 'checkbox'; box.checked = true; box.value = scope.scope; box.name = 'scope';
      box.setAttribute('data-scope', scope.scope);
      var text = document.createElement('span');
      var title = document.createElement('span'); title.className = 'title'; title.textContent = scope.title;
      var description = document.createElement('span'); description.className = 'description';
      description.textContent = scope.description;
      text.appendChild(title); text.appendChild(description);
      label.appendChild(box); label.appendChild(text); item.appendChild(label); list.appendChild(item);
    });
    state('login');
    show('login-form', true);
  }

  function chosenScopes() {
    var boxes = document.querySelectorAll('#scopes input[type=checkbox]');
    var names = [];
    Array.prototype.forEach.call(boxes, function (box) { if (box.checked) names.push(box.value); });
    return names.join(' ');
  }

  function load() {
    call('GET', BASE + '/page/request?' + query).then(function (r) {
      if (!r.ok) { state('error'); say(r.data.msg || 'This authorization request is not valid.'); return; }
      render(r.data);
    }, function () { state('error'); say('Could not reach the server.'); });
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    say('');
    $('login-button').disabled = true;
    var body = pendingRequestId
      ? { client_id: clientId, request_id: pendingRequestId, ga_code: $('ga-code').value }
      : { client_id: clientId, login: $('login').value, password: $('password').value };
    if (!pendingRequestId && $('ga-code').value) body.ga_code = $('ga-code').value;
    call('POST', BASE + '/page/login', body).then(function (r) {
      $('login-button').disabled = false;
      if (!r.ok) { say(r.data.msg || 'Login failed.'); return; }
      if (r.data.second_factor) {
        pendingRequestId = r.data.request_id;
        show('ga-row', true);
        $('ga-code').focus();
        say('Enter the code of your authenticator app.');
        return;
      }
      consentToken = r.data.consent_token;
      $('account').textContent = r.data.login;
      show('login-form', false);
      show('decision', true);
      state('decide');
    }, function () { $('login-button').disabled = false; say('Could not reach the server.'); });
  });

  function decide(decision) {
    say('');
    var body = new URLSearchParams(query);
    body.set('decision', decision);
    if (decision === 'approve') {
      var scopes = chosenScopes();
      if (!scopes) { say('Keep at least one permission ticked, or deny.'); return; }
      body.set('granted_scope', scopes);
    }
    $('approve-button').disabled = true;
    $('deny-button').disabled = true;
    call('POST', BASE + '/authorize', body, { 'X-OAuth-Consent': consentToken }).then(function (r) {
      if (r.data && r.data.redirect_uri) { leave(r.data.redirect_uri); return; }
      $('approve-button').disabled = false;
      $('deny-button').disabled = false;
      say(r.data.msg || 'The decision could not be recorded.');
    }, function () { say('Could not reach the server.'); });
  }

  $('approve-button').addEventListener('click', function () { decide('approve'); });
  $('deny-button').addEventListener('click', function () { decide('deny'); });
  load();
}());
