// The checkout's status page (templates/payments/checkout.html): polls the driver API and shows
// the charging as it goes (energy, duration, what the driver pays on the current figures, what
// the card was charged), with the stop button once charging has started, and a question before
// it stops. A static file, so that the page's Content-Security-Policy needs no inline script;
// the status words come translated in #status-words' data attributes, the amounts written by the
// server (`amounts_text`, `cost_text`) as the template writes them on the first paint.
(function () {
  var box = document.getElementById("checkout"), status = document.getElementById("status"), reason = document.getElementById("reason");
  var words = document.getElementById("status-words").dataset;  // each status in words, translated
  var final = ["settled", "failed", "expired"];
  var locale = box.dataset.locale === "de" ? "de-DE" : "en-GB";
  function number(value, digits) { return new Intl.NumberFormat(locale, {maximumFractionDigits: digits}).format(Number(value)); }
  function duration(start, end) {
    var seconds = Math.max(0, Math.floor(((end ? new Date(end) : new Date()) - new Date(start)) / 1000));
    if (seconds < 60) { return seconds + " " + box.dataset.seconds; }  // the first minute
    var minutes = Math.floor(seconds / 60);
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }
  function show(data) {
    status.textContent = words[data.status] || data.status; status.dataset.status = data.status;
    reason.textContent = data.failure_reason || ""; reason.hidden = !data.failure_reason;
    document.getElementById("unconfirmed").hidden = !data.start_unconfirmed || data.status !== "starting";
    var amounts = data.amounts_text;
    document.getElementById("held-amount").textContent = amounts.held;
    // Stop only once the charger has started: before, the start is still being confirmed.
    var stop = document.getElementById("stop");
    stop.hidden = data.status !== "charging" || !document.getElementById("stop-confirm").hidden;
    if (data.status !== "charging") { document.getElementById("stop-confirm").hidden = true; }
    var settled = data.status === "settled", label = document.getElementById("cost-label");
    if (data.status === "finished" || settled) { label.textContent = label.dataset.final; }
    document.getElementById("settlement").hidden = !settled;
    document.getElementById("taken-amount").textContent = amounts.captured;
    ["released", "refunded"].forEach(function (kind) {
      document.getElementById(kind).hidden = !(settled && amounts[kind]);
      document.getElementById(kind + "-amount").textContent = amounts[kind];
    });
    var link = document.getElementById("receipt-link");
    link.hidden = !data.receipt_path; if (data.receipt_path) { link.href = data.receipt_path; }
    document.getElementById("receipt-wait").hidden = data.status !== "finished";
    if (data.session) {
      document.getElementById("figures").hidden = false;
      document.getElementById("energy").textContent = number(data.session.energy_kwh, 2) + " kWh";
      document.getElementById("duration").textContent = duration(data.session.start, data.session.end);
      document.getElementById("cost").textContent = data.session.cost_text || "–";
    }
    // What the driver pays, and in words why it is less than the operator's figure.
    var note = document.getElementById("cost-note"), why = data.session ? data.session.cost_note : "";
    note.textContent = why || ""; note.hidden = !why;
  }
  function poll() {
    fetch(box.dataset.url, {headers: {"Accept": "application/json", "Accept-Language": box.dataset.locale}}).then(function (r) { return r.json(); }).then(function (data) {
      show(data); if (final.indexOf(data.status) < 0) { setTimeout(poll, data.status === "finished" ? 3000 : 2000); }
    }).catch(function () { setTimeout(poll, 5000); });
  }
  // Stop asks first: a tap by mistake would end the charging for good.
  var stop = document.getElementById("stop"), ask = document.getElementById("stop-confirm");
  stop.addEventListener("click", function () { stop.hidden = true; ask.hidden = false; document.getElementById("stop-yes").focus(); });
  document.getElementById("stop-no").addEventListener("click", function () { ask.hidden = true; stop.hidden = false; stop.focus(); });
  document.getElementById("stop-yes").addEventListener("click", function () {
    var yes = this;
    yes.disabled = true;
    fetch(box.dataset.stop, {method: "POST", headers: {"Content-Type": "application/json", "Accept-Language": box.dataset.locale}, body: "{}"})
      .then(function (r) { return r.json().then(function (body) { if (r.ok) { ask.hidden = true; show(body); } }); }).finally(function () { yes.disabled = false; });
  });
  poll();
})();
