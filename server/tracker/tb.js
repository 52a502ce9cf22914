/*! touchbase browser tracker (tb.js). Speaks Segment's HTTP Tracking API.
 *
 *   <script src="https://YOUR-TOUCHBASE/js/tb.js"></script>
 *   <script>
 *     tb.init("WRITE_KEY");            // host defaults to where tb.js came from
 *     tb.page();
 *     tb.track("Product Viewed", {product_id: "p1", price: 9.5});
 *     tb.identify("user-42", {email: "ada@example.com"});
 *     tb.reset();                       // on sign-out
 *   </script>
 *
 * Events are batched and posted to /v1/batch as text/plain with the write
 * key in the body, so browsers send them without a CORS preflight. The
 * anonymous id lives in a first-party cookie (and localStorage).
 */
(function (w, d) {
  'use strict';
  if (w.tb && w.tb.loaded) return;

  var VERSION = '1.0.0';
  var AID = 'tb_aid', UID = 'tb_uid';
  var MAX_BODY = 450000; // under /v1/batch's 500 KB
  var KEEPALIVE_MAX = 60000; // browsers cap keepalive bodies at 64 KB
  var script = d.currentScript;

  var cfg = null;
  var queue = [];
  var waiting = []; // calls made before init
  var timer = null;
  var anonId = null;
  var userId = null;

  function uuid() {
    var c = w.crypto || w.msCrypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    var h = '';
    for (var j = 0; j < 16; j++) {
      h += (b[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) h += '-';
    }
    return h;
  }

  function readCookie(name) {
    var parts = (d.cookie || '').split(/;\s*/);
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split('=');
      if (kv[0] === name) {
        try { return decodeURIComponent(kv.slice(1).join('=')); } catch (e) { return null; }
      }
    }
    return null;
  }

  function writeCookie(name, value) {
    var c = name + '=' + encodeURIComponent(value || '') + '; path=/; SameSite=Lax';
    c += value ? '; max-age=' + 365 * 86400 : '; max-age=0';
    if (cfg && cfg.cookieDomain) c += '; domain=' + cfg.cookieDomain;
    if (w.location && w.location.protocol === 'https:') c += '; Secure';
    try { d.cookie = c; } catch (e) { /* cookies disabled */ }
  }

  function load(name) {
    var v = readCookie(name);
    if (!v) {
      try { v = w.localStorage.getItem(name); } catch (e) { v = null; }
    }
    return v || null;
  }

  function save(name, value) {
    writeCookie(name, value);
    try {
      if (value) w.localStorage.setItem(name, value);
      else w.localStorage.removeItem(name);
    } catch (e) { /* storage disabled */ }
  }

  function timezone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; }
  }

  function pageInfo() {
    var l = w.location || {};
    return {
      path: l.pathname,
      referrer: d.referrer,
      search: l.search,
      title: d.title,
      url: l.href
    };
  }

  function context() {
    var n = w.navigator || {};
    var ctx = {
      library: { name: 'tb.js', version: VERSION },
      page: pageInfo(),
      userAgent: n.userAgent,
      locale: n.language,
      timezone: timezone()
    };
    if (w.screen) ctx.screen = { width: w.screen.width, height: w.screen.height };
    return ctx;
  }

  function extend(a, b) {
    for (var k in b) if (Object.prototype.hasOwnProperty.call(b, k)) a[k] = b[k];
    return a;
  }

  function enqueue(msg) {
    if (!cfg) { waiting.push(msg); return; }
    msg.messageId = uuid();
    msg.timestamp = new Date().toISOString();
    msg.anonymousId = anonId;
    if (userId && !msg.userId) msg.userId = userId;
    msg.context = context();
    queue.push(msg);
    if (queue.length >= cfg.flushAt) flush();
    else if (!timer) timer = setTimeout(function () { timer = null; flush(); }, cfg.flushInterval);
  }

  // flush sends everything queued, in bodies under the batch limit.
  function flush(unloading) {
    if (!cfg) return;
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) {
      var batch = [];
      var size = 200;
      while (queue.length) {
        var s = JSON.stringify(queue[0]).length + 1;
        if (batch.length && size + s > MAX_BODY) break;
        size += s;
        batch.push(queue.shift());
      }
      send(batch, 0, unloading);
    }
  }

  function send(batch, attempt, unloading) {
    var url = cfg.host + '/v1/batch';
    var body = JSON.stringify({ batch: batch, writeKey: cfg.writeKey, sentAt: new Date().toISOString() });
    var n = w.navigator || {};
    if (unloading && n.sendBeacon) {
      try {
        if (n.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) return;
      } catch (e) { /* fall back to fetch */ }
    }
    var retry = function () {
      if (attempt < 3) {
        setTimeout(function () { send(batch, attempt + 1, false); }, 1000 * Math.pow(4, attempt));
      }
    };
    if (w.fetch) {
      w.fetch(url, {
        method: 'POST',
        body: body,
        headers: { 'Content-Type': 'text/plain' },
        keepalive: body.length < KEEPALIVE_MAX,
        credentials: 'omit',
        mode: 'cors'
      }).then(function (res) {
        // 4xx other than 429 means the events themselves are wrong: retrying
        // would not help.
        if (res.status === 429 || res.status >= 500) retry();
      }, retry);
      return;
    }
    var x = new XMLHttpRequest();
    x.open('POST', url, true);
    x.setRequestHeader('Content-Type', 'text/plain');
    x.onreadystatechange = function () {
      if (x.readyState === 4 && (x.status === 0 || x.status === 429 || x.status >= 500)) retry();
    };
    x.send(body);
  }

  var tb = {
    loaded: true,
    VERSION: VERSION,

    // init(writeKey, {host, flushAt, flushInterval, cookieDomain}) starts the
    // tracker; calls made before it are sent once it runs.
    init: function (writeKey, opts) {
      opts = opts || {};
      var host = opts.host;
      if (!host && script && script.src) host = script.src.replace(/^(https?:\/\/[^\/]+).*$/, '$1');
      cfg = {
        writeKey: writeKey,
        host: (host || '').replace(/\/+$/, ''),
        flushAt: opts.flushAt || 20,
        flushInterval: opts.flushInterval || 1000,
        cookieDomain: opts.cookieDomain
      };
      anonId = load(AID);
      if (!anonId) anonId = uuid();
      save(AID, anonId); // refreshes the cookie's lifetime
      userId = load(UID);
      var early = waiting;
      waiting = [];
      for (var i = 0; i < early.length; i++) enqueue(early[i]);
      return tb;
    },

    // page(name?, properties?) records a page view.
    page: function (name, props) {
      if (typeof name === 'object' && name !== null) { props = name; name = undefined; }
      var msg = { type: 'page', properties: extend(pageInfo(), props || {}) };
      if (name) msg.name = String(name);
      enqueue(msg);
    },

    // track(event, properties?) records what the visitor did.
    track: function (event, props) {
      enqueue({ type: 'track', event: String(event), properties: props || {} });
    },

    // identify(userId?, traits?) says who the visitor is; later events carry
    // the user id too.
    identify: function (id, traits) {
      if (typeof id === 'object' && id !== null) { traits = id; id = undefined; }
      if (id !== undefined && id !== null && id !== '') {
        userId = String(id);
        save(UID, userId);
      }
      var msg = { type: 'identify', traits: traits || {} };
      if (userId) msg.userId = userId;
      enqueue(msg);
    },

    // reset forgets the user (sign-out): a new anonymous id from now on.
    reset: function () {
      flush();
      userId = null;
      save(UID, null);
      anonId = uuid();
      save(AID, anonId);
    },

    anonymousId: function () { return anonId; },
    userId: function () { return userId; },
    flush: function () { flush(false); }
  };

  // Replay calls queued by a loader stub: window.tb = [["init", key], ...].
  var stub = w.tb;
  w.tb = tb;
  if (stub && stub.length) {
    for (var q = 0; q < stub.length; q++) {
      var call = stub[q];
      if (call && tb[call[0]]) tb[call[0]].apply(tb, Array.prototype.slice.call(call, 1));
    }
  }

  var onHide = function () { flush(true); };
  if (w.addEventListener) {
    w.addEventListener('pagehide', onHide);
    d.addEventListener && d.addEventListener('visibilitychange', function () {
      if (d.visibilityState === 'hidden') onHide();
    });
  }
})(window, document);
