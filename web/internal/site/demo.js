// The demo page of the local PBX (index.html): every card's buttons call
// IPCortex.PBX.Auth as any page would, and each card shows the lines of
// this file that do it. No framework; data goes into the page with
// textContent only.
(function () {
  'use strict';
  var Auth = IPCortex.PBX.Auth;
  var systemNames = {ipcortex: 'IPCortex', vodia: 'Vodia', ping: 'Ping'};
  var system = 'ipcortex';

  function $(id) { return document.getElementById(id); }

  // time is the clock time for the logs, hh:mm:ss.
  function time() { return new Date().toTimeString().slice(0, 8); }

  // json is JSON.stringify on one line with a space after each comma, so
  // that it wraps between fields.
  function json(v) { return JSON.stringify(v, null, 1).replace(/\n */g, ' '); }

  // ordered is a copy of o with the keys first in that order, then the others.
  function ordered(o, first) {
    var out = {};
    first.concat(Object.keys(o)).forEach(function (k) { if (k in o && !(k in out)) out[k] = o[k]; });
    return out;
  }

  // append adds a line to a list, keeping its last max lines and its end in
  // view in box, the element that scrolls.
  function append(list, box, text, max) {
    var li = document.createElement('li');
    var t = document.createElement('span');
    t.className = 'time';
    t.textContent = time() + ' ';
    li.appendChild(t);
    li.appendChild(document.createTextNode(text));
    list.appendChild(li);
    while (list.children.length > max) list.removeChild(list.firstChild);
    box.scrollTop = box.scrollHeight;
  }

  // --- Debug log ----------------------------------------------------------

  function debugLog(msg) { append($('debug-log'), $('debug-box'), msg, 400); }
  Auth.debug = function (msg) { debugLog(msg); };
  $('debug-clear').addEventListener('click', function () {
    $('debug-log').textContent = '';
  });

  // --- Who is logged in ---------------------------------------------------

  // show renders the properties, or their nulls once logged out.
  function show(d) {
    $('prop-id').textContent = d ? String(d.id) : 'null';
    $('prop-uname').textContent = d ? d.uname : 'null';
    $('prop-name').textContent = d ? d.name : 'null';
    $('prop-company').textContent = d ? d.company : 'null';
    var info = Auth.getUserInfo();
    $('userinfo').textContent = json(ordered(info, ['id', 'login', 'name', 'company', 'home', 'perms']));
    $('status').textContent = d ? 'Logged in as ' + d.name + ' (' + d.uname + ', id ' + d.id + ') on ' + systemNames[system] : 'Logged out';
    document.body.classList.toggle('in', !!d);
  }

  // current is what a pbxauthchange event would carry now.
  function current() {
    if (Auth.id === null || Auth.id === undefined) return null;
    return {id: Auth.id, uname: Auth.uname, name: Auth.name, company: Auth.company};
  }

  var changes = 0;
  function heard(what) {
    changes++;
    $('changes').textContent = changes + (changes === 1 ? ' time' : ' times') + ', the last at ' + time() + ': ' + what;
  }

  window.addEventListener('pbxauthchange', function (ev) {
    show(ev.detail); // {id, uname, name, company}, or null
    heard(ev.detail ? ev.detail.uname : 'logged out');
  });

  // run makes one call and writes its outcome to out: done's words, or the
  // error's code and message; when nobody is logged in (login_required),
  // loggedOut's words instead, if given: for a check that is an answer, not
  // an error. Only the latest call of each output reports.
  function run(out, fn, done, loggedOut) {
    var n = String(Number(out.getAttribute('data-n') || 0) + 1);
    out.setAttribute('data-n', n);
    out.className = 'result';
    out.textContent = 'Working…';
    var p;
    try {
      p = Promise.resolve(fn());
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then(function (v) {
      if (out.getAttribute('data-n') !== n) return;
      out.className = 'result good';
      out.textContent = done(v);
    }, function (e) {
      if (out.getAttribute('data-n') !== n) return;
      if (loggedOut && e && e.code === 'login_required') {
        out.className = 'result';
        out.textContent = loggedOut();
        return;
      }
      out.className = 'result bad';
      out.textContent = (e && e.code ? e.code : 'error') + ': ' + (e && e.message ? e.message : String(e));
    });
  }

  function who() {
    return Auth.id === null ? 'nobody' : Auth.uname + ' (' + Auth.name + ')';
  }

  // --- Log in -------------------------------------------------------------

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var user = $('username'), pass = $('password'), remember = $('remember');
    var o = {username: user.value, password: pass.value};
    if (!remember.checked) o.notoken = true; // keep no token
    pass.value = ''; // the password is not left in the page
    run($('login-result'), function () {
      return Auth.login(o);
    }, function () {
      return 'Logged in as ' + who() + (o.notoken ? ', with no token kept.' : ', with a token kept: reload, or open a new tab.');
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll('[data-user]'), function (b) {
    b.addEventListener('click', function () {
      $('username').value = b.getAttribute('data-user');
      $('password').value = b.getAttribute('data-pass');
      $('login').focus();
    });
  });

  $('overlay').addEventListener('click', function () {
    run($('login-result'), function () {
      return Auth.login(); // no credentials: the PBX's page, over this one
    }, function () { return 'Logged in as ' + who() + '.'; });
  });

  $('check').addEventListener('click', function () {
    run($('login-result'), function () {
      return Auth.login({checkonly: true}); // logged in? never asks
    }, function () { return 'Still logged in as ' + who() + '.'; },
    function () { return 'Not logged in.'; });
  });

  $('logout').addEventListener('click', function () {
    stopFeed('logout() stops it');
    run($('login-result'), function () {
      return Auth.logout();
    }, function () { return 'Logged out, in every tab that shared the login.'; });
  });

  $('reload').addEventListener('click', function () {
    location.reload(); // the saved login is found again
  });

  // --- Three phone systems ------------------------------------------------

  function choose(name) {
    system = name;
    stopFeed('it belongs to the host the page leaves');
    ['ipcortex', 'vodia', 'ping'].forEach(function (s) { $('panel-' + s).hidden = s !== name; });
    if (system === 'vodia') Auth.setHost(location.origin, {backend: 'vodia'});
    else if (system === 'ping') Auth.setHost(location.origin, {backend: 'ping'});
    else Auth.setHost(location.origin);
    // Where does this page stand on that system? A login it kept is found.
    run($('system-result'), function () {
      return Auth.login({checkonly: true});
    }, function () { return systemNames[name] + ': logged in as ' + who() + '.'; },
    function () { return systemNames[name] + ': not logged in yet.'; });
  }
  Array.prototype.forEach.call(document.querySelectorAll('input[name=system]'), function (r) {
    r.addEventListener('change', function () { if (r.checked) choose(r.value); });
  });

  // A reload may bring back the radio the browser remembers; the page
  // starts on IPCortex, as the module does.
  $('system-ipcortex').checked = true;

  $('vodia-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var admin = $('vodia-admin').value + ':' + $('vodia-admin-password').value;
    var ask = {name: '3rd', username: $('vodia-extension').value, domain: $('vodia-domain').value};
    run($('system-result'), function () {
      // your server: POST /rest/system/session (Basic: the admin)
      // {name: '3rd', username: '40', domain: 'default'} -> "id"
      return fetch('/rest/system/session', {
        method: 'POST',
        headers: {'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(admin)},
        body: JSON.stringify(ask)
      }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error('the PBX refused the temporary id (' + r.status + '): ' + body.error);
          return body;
        });
      }).then(function (id) {
        return Auth.login({tokens: [id]});
      });
    }, function () { return 'Vodia: logged in as ' + who() + ' with a temporary id.'; });
  });

  $('ping-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var ext = $('ping-extension'), pass = $('ping-password');
    run($('system-result'), function () {
      return Auth.login({username: ext.value, password: pass.value});
    }, function () { return 'Ping: logged in as ' + who() + ' (Basic).'; });
    pass.value = ''; // the call has read it
  });

  $('ping-jwt-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var jwt = $('ping-jwt');
    run($('system-result'), function () {
      return Auth.login({tokens: [jwt.value.trim()]});
    }, function () { return 'Ping: logged in as ' + who() + ' with the JWT.'; });
  });

  // --- The live feed ------------------------------------------------------

  var feedOn = false; // started, and not stopped or ended since

  // feed shows the feed's state and lists it as an event.
  function feed(state, text) {
    $('feed-state').textContent = state;
    note(text ? state + ': ' + text : state);
  }
  function note(text) { append($('feed-events'), $('feed-events'), text, 50); }

  // stopFeed stops a running feed before a call that ends or changes the
  // login, and says why: the feed tells its callbacks nothing when the
  // page's own call stops it.
  function stopFeed(why) {
    if (!feedOn) return;
    feedOn = false;
    IPCortex.PBX.stopFeed();
    feed('stopped', why);
  }

  $('feed-start').addEventListener('click', function () {
    feedOn = true;
    feed('connecting');
    IPCortex.PBX.startFeed(function () {
      feed('up'); // each time the feed is up
    }, function (errno, text) {
      if (errno === 2 || errno === 3 || errno === 100) feedOn = false; // it has stopped
      feed('error ' + errno, text);
    }).catch(function (e) {
      note('startFeed: ' + e.code); // it did not come up
      if (e.errno !== 1 && e.errno !== 91 && e.errno !== 92) feedOn = false; // nor will it
      if (!e.errno) $('feed-state').textContent = 'not started (' + e.code + ')'; // errCB did not say
    });
  });

  $('feed-stop').addEventListener('click', function () {
    feedOn = false;
    IPCortex.PBX.stopFeed();
    feed('stopped');
  });

  // --- This tab alone -----------------------------------------------------

  $('subid-button').addEventListener('click', function () {
    stopFeed('it belongs to the login the tab leaves');
    var id = Auth.getSubID(); // this tab's own, from now on
    $('subid').textContent = id;
    run($('login-result'), function () {
      return Auth.login({checkonly: true}); // this tab's own login: none yet
    }, function () { return 'This tab alone: logged in as ' + who() + '.'; },
    function () { return 'This tab now logs in on its own: not logged in yet.'; });
  });

  // --- At load: where do we stand? ----------------------------------------

  show(current());
  $('status').textContent = 'Checking…';
  run($('login-result'), function () {
    return Auth.login({checkonly: true});
  }, function () { return 'Logged in as ' + who() + ': a saved login was found.'; },
  function () { return 'Not logged in: log in with the form or on the PBX\'s page.'; }).then(function () {
    show(current());
  });
})();
