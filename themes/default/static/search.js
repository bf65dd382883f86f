// Offline site search: loads this language's index (built by opsmeter) on first
// use and matches queries with the same tokenizer: lowercase words, and for
// Chinese, Japanese and Korean text single characters and two-character pairs.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var list = document.getElementById("search-results");
  var index = null;
  var loading = null;

  function isCjk(c) {
    var n = c.codePointAt(0);
    return (n >= 0x4e00 && n <= 0x9fff) || (n >= 0x3400 && n <= 0x4dbf) ||
      (n >= 0x3040 && n <= 0x30ff) || (n >= 0xac00 && n <= 0xd7af);
  }
  function isWord(c) { return /[\p{L}\p{N}]/u.test(c); }

  // Must match tokenize() in src/site/search.rs.
  function tokenize(text) {
    var out = [];
    var word = "";
    var run = [];
    var chars = Array.from(text.toLowerCase());
    function flushWord() { if (Array.from(word).length >= 2) out.push(word); word = ""; }
    function flushRun() {
      for (var i = 0; i < run.length; i++) {
        out.push(run[i]);
        if (i + 1 < run.length) out.push(run[i] + run[i + 1]);
      }
      run = [];
    }
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (isCjk(c)) { flushWord(); run.push(c); }
      else if (isWord(c)) { flushRun(); word += c; }
      else { flushWord(); flushRun(); }
    }
    flushWord(); flushRun();
    return out;
  }

  function load() {
    if (!loading) {
      loading = fetch(form.getAttribute("data-index")).then(function (r) {
        if (!r.ok) throw new Error("search index: HTTP " + r.status);
        return r.json();
      }).then(function (data) { index = data; return data; });
    }
    return loading;
  }

  function search(query) {
    var tokens = tokenize(query).filter(function (t, i, a) { return a.indexOf(t) === i; });
    if (!tokens.length) return [];
    var hits = null;
    tokens.forEach(function (t) {
      var docs = index.index[t] || [];
      hits = hits === null ? docs.slice() : hits.filter(function (d) { return docs.indexOf(d) >= 0; });
    });
    return (hits || []).map(function (d) { return index.docs[d]; });
  }

  function render(results) {
    list.textContent = "";
    if (!results.length) {
      var li = document.createElement("li");
      li.textContent = form.getAttribute("data-empty");
      list.appendChild(li);
      return;
    }
    results.slice(0, 20).forEach(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = doc.u;
      a.textContent = doc.t;
      li.appendChild(a);
      if (doc.s) {
        var p = document.createElement("p");
        p.textContent = doc.s;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
  }

  function run() {
    var q = input.value.trim();
    if (!q) { list.textContent = ""; list.hidden = true; return; }
    load().then(function () { list.hidden = false; render(search(q)); });
  }
  input.addEventListener("input", run);
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
})();
