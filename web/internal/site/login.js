// The login overlay's script. The browser module shows this page (from the
// PBX, /api/login.html#parent=<page origin>) in an iframe over the page that
// calls IPCortex.PBX.Auth.login(), so that the user types the password into
// the PBX's own page and never into the application's. web/PROTOCOL.md,
// "The login overlay", is the contract, and the Go package core/overlay
// defines it (the kinds, their fields and shapes, the origin and source
// rules, the limits; the module reads this page's messages with it); keep
// this script in step with it. core/overlay/testdata/login_page.json holds
// the options this page must take and refuse and the messages it posts, and
// both sides are tested against it. In short:
//
//   this page -> parent  {pbxauth: "ready"}
//   parent -> this page  {pbxauth: "options", subid, notoken, application, origin}
//   this page -> parent  {pbxauth: "result", session, token} | {pbxauth: "failed", code, message}
//                        | {pbxauth: "close"}
//
// Messages go only to the parent's exact origin and are taken only from the
// parent window at that origin. The password is never logged or posted.
(function () {
  'use strict';

  var LOGIN_PATH = '/rest/auth/';
  var DEADLINE_MS = 20000;
  var MAX_FAILURES = 3;
  // The options' rules, as core/overlay's Options.Check.
  var SUBID = /^[A-Za-z0-9_-]{1,64}$/;
  var CLASSES = { '': true, refreshable: true, longLogin: true };

  var form = document.getElementById('login');
  var user = document.getElementById('username');
  var pass = document.getElementById('password');
  var submit = document.getElementById('submit');
  var closer = document.getElementById('close');
  var status = document.getElementById('status');

  var parentOrigin = readParent(location.hash);
  var options = null; // the parent's options, once they arrive
  var waiting = false; // the user submitted before they arrived
  var busy = false;
  var failures = 0;
  var locked = false; // after MAX_FAILURES: the parent takes it from here

  // asOrigin returns s when it is exactly an http(s) origin, else ''.
  function asOrigin(s) {
    if (typeof s !== 'string' || s === '') return '';
    var u;
    try { u = new URL(s); } catch (e) { return ''; }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== s) return '';
    return s;
  }

  function readParent(hash) {
    var m = /(?:^#|&)parent=([^&]*)/.exec(hash || '');
    if (!m) return '';
    try { return asOrigin(decodeURIComponent(m[1])); } catch (e) { return ''; }
  }

  function say(text) {
    status.textContent = text;
  }

  function post(msg) {
    window.parent.postMessage(msg, parentOrigin);
  }

  function setBusy(on) {
    busy = on;
    submit.disabled = on || locked;
    submit.textContent = on ? 'Logging in\u2026' : 'Log in';
    if (on) form.setAttribute('aria-busy', 'true'); else form.removeAttribute('aria-busy');
  }

  // readOptions checks the parent's options; null when they are unusable.
  function readOptions(d) {
    var o = {
      subid: d.subid == null ? '' : d.subid,
      notoken: d.notoken == null ? false : d.notoken,
      application: d.application == null ? '' : d.application,
      origin: d.origin == null ? '' : d.origin
    };
    if (typeof o.subid !== 'string' || (o.subid !== '' && !SUBID.test(o.subid))) return null;
    if (typeof o.notoken !== 'boolean') return null;
    if (typeof o.application !== 'string' || !CLASSES.hasOwnProperty(o.application)) return null;
    if (o.origin !== '' && asOrigin(o.origin) === '') return null;
    return o;
  }

  function onMessage(ev) {
    if (ev.source !== window.parent || ev.origin !== parentOrigin) return;
    var d = ev.data;
    if (!d || typeof d !== 'object' || d.pbxauth !== 'options') return;
    var o = readOptions(d);
    if (!o) {
      say('The application sent login options this page cannot use; close this window and tell its author.');
      return;
    }
    options = o;
    failures = 0;
    locked = false;
    setBusy(false);
    // Browsers ignore autofocus in a frame of another origin; the parent has
    // focused the frame by now, so put the caret where the user starts.
    if (!document.activeElement || document.activeElement === document.body) user.focus();
    if (waiting) {
      waiting = false;
      start();
    }
  }

  function start() {
    if (busy || locked) return;
    var u = user.value;
    var p = pass.value;
    if (u === '' || p.replace(/\s+/g, '') === '') {
      say('Enter your username and password.');
      (u === '' ? user : pass).focus();
      return;
    }
    if (!options) {
      waiting = true;
      say('Waiting for the application\u2026');
      return;
    }
    send(u, p);
  }

  function send(u, p) {
    setBusy(true);
    say('');
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      if (ctl) ctl.abort();
    }, DEADLINE_MS);
    var url = LOGIN_PATH + (options.subid ? '?subid=' + encodeURIComponent(options.subid) : '');
    var body = JSON.stringify({ auth: {
      type: 'auth', username: u, password: p, notoken: options.notoken,
      application: options.application, origin: options.origin || parentOrigin
    } });
    var init = {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body,
      credentials: 'omit', redirect: 'error'
    };
    if (ctl) init.signal = ctl.signal;
    fetch(url, init).then(function (res) {
      return res.json().then(function (data) {
        return { status: res.status, data: data };
      }, function () {
        return { status: res.status, data: null };
      });
    }).then(function (r) {
      clearTimeout(timer);
      setBusy(false);
      if (timedOut) return tooSlow();
      answer(r.status, r.data);
    }, function () {
      clearTimeout(timer);
      setBusy(false);
      if (timedOut) return tooSlow();
      say('The phone system cannot be reached; check the network connection and try again.');
    });
  }

  function tooSlow() {
    say('The phone system did not answer within 20 seconds; try again.');
  }

  function answer(code, d) {
    var err = d && typeof d === 'object' && d.error && typeof d.error === 'object' ? d.error : null;
    if (code === 200 && d && d.result === 'success' && d.user && typeof d.user.session === 'string' && d.user.session) {
      pass.value = '';
      var t = d.token;
      var token = t && typeof t.value === 'string' && typeof t.expires === 'number' ? { value: t.value, expires: t.expires } : null;
      post({ pbxauth: 'result', session: d.user.session, token: token });
      return;
    }
    if (err && err.code === 'auth_failed') {
      failures++;
      pass.value = '';
      say('Wrong username or password');
      if (failures >= MAX_FAILURES) {
        locked = true;
        setBusy(false);
        post({ pbxauth: 'failed', code: 'auth_failed', message: 'wrong username or password, ' + MAX_FAILURES + ' times' });
        return;
      }
      pass.focus();
      return;
    }
    var why = err && typeof err.message === 'string' && err.message ? err.message : 'HTTP status ' + code;
    say('The phone system could not log you in (' + why + '); try again.');
  }

  function close() {
    post({ pbxauth: 'close' });
  }

  if (!parentOrigin || window.parent === window) {
    say('This page works only inside the login window of an application that uses the phone system; open the application instead.');
    user.disabled = true;
    pass.disabled = true;
    submit.disabled = true;
    closer.disabled = true;
    return;
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    start();
  });
  closer.addEventListener('click', close);
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' || ev.key === 'Esc') {
      ev.preventDefault();
      close();
    }
  });
  window.addEventListener('message', onMessage);
  // The form is usable from now on: the button is disabled in the HTML so
  // that nothing (a quick user, a quick test) submits it before this script
  // handles the submission.
  submit.disabled = false;
  post({ pbxauth: 'ready' });
}());
