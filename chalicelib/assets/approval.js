// The approval page: shows what a BApp asks, logs the user in for this one request,
// then approves or cancels it. Talks only to this origin's /a2a/api/* (JSON); the
// session token lives in this page's memory only (no cookie, so no CSRF surface).
(function () {
  'use strict';
  var key = new URLSearchParams(window.location.search).get('request_key') || '';
  var session = null;
  var $ = function (id) { return document.getElementById(id); };

  function show(id, visible) { $(id).hidden = !visible; }
  function say(text) { $('message').textContent = text || ''; }

  function call(method, path, body) {
    var headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (session) headers['X-Approval-Session'] = session;
    return fetch(path, { method: method, headers: headers, credentials: 'omit',
                         body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (data) { return { ok: res.ok, data: data }; }); });
  }

  function safeCallback(url) {
    if (typeof url !== 'string') return null;
    var scheme = (url.match(/^([a-zA-Z][a-zA-Z0-9+.-]*):/) || [])[1];
    if (!scheme) return null;
    return ['javascript', 'data', 'vbscript', 'file', 'blob'].indexOf(scheme.toLowerCase()) === -1 ? url : null;
  }

  function render(view) {
    $('bapp-name').textContent = view.bapp && view.bapp.name || '';
    var table = $('rows');
    while (table.firstChild) table.removeChild(table.firstChild);
    (view.rows || []).forEach(function (row) {
      var tr = document.createElement('tr');
      var th = document.createElement('th'); th.textContent = row[0];
      var td = document.createElement('td'); td.textContent = row[1];
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    });
    var status = view.expired ? 'expired' : view.status;
    $('status').textContent = status;
    $('app').setAttribute('data-state', status);
    var open = status === 'prepared';
    show('cancel-button', open);
    show('login-form', open && !session);
    show('decision', open && !!session);
    if (view.expiration_time && open) {
      $('expiry').textContent = '(expires ' + new Date(view.expiration_time * 1000).toLocaleTimeString() + ')';
    } else {
      $('expiry').textContent = '';
    }
    if (!open) {
      var text = {completed: 'Done.', canceled: 'Canceled.', requested: 'Approved; the transfer is pending.',
                  expired: 'This request has expired.'}[status] || '';
      if (status === 'error' && view.error) text = 'Failed: ' + view.error.err + ' (' + view.error.code + ')';
      $('outcome').textContent = text;
      show('outcome', true);
      var back = safeCallback(view.callback);
      if (back) { $('return-link').setAttribute('href', back); show('return-link', true); }
    }
  }

  function load() {
    if (!key) { say('No request key in the address.'); return; }
    call('GET', '/a2a/api/request?request_key=' + encodeURIComponent(key)).then(function (r) {
      if (!r.ok) { say(r.data.err || 'This request does not exist.'); $('status').textContent = 'unknown'; return; }
      render(r.data);
    }, function () { say('Could not reach the server.'); });
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    say('');
    $('login-button').disabled = true;
    call('POST', '/a2a/api/login', { request_key: key, login: $('login').value, password: $('password').value,
                                     ga_code: $('ga-code').value || undefined }).then(function (r) {
      $('login-button').disabled = false;
      if (!r.ok) {
        if (r.data.code === 1016) { show('ga-row', true); $('ga-code').focus(); }
        say(r.data.err || 'Login failed.');
        return;
      }
      session = r.data.session;
      $('password').value = '';
      $('account').textContent = r.data.login || '';
      $('address').textContent = r.data.address;
      load();
    }, function () { $('login-button').disabled = false; say('Could not reach the server.'); });
  });

  $('approve-button').addEventListener('click', function () {
    say('');
    $('approve-button').disabled = true;
    call('POST', '/a2a/api/approve', { request_key: key }).then(function (r) {
      $('approve-button').disabled = false;
      if (!r.ok) { say(r.data.err || 'Approval failed.'); if (r.data.code === 7300) { session = null; load(); } return; }
      render(r.data);
    }, function () { $('approve-button').disabled = false; say('Could not reach the server.'); });
  });

  $('cancel-button').addEventListener('click', function () {
    say('');
    call('POST', '/a2a/api/cancel', { request_key: key }).then(function (r) {
      if (!r.ok) { say(r.data.err || 'Cancel failed.'); return; }
      render(r.data);
    }, function () { say('Could not reach the server.'); });
  });

  load();
}());
