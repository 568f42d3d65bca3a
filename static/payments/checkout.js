// The checkout's status page (templates/payments/checkout.html): polls the driver API and shows
// the charging as it goes (energy, duration, what the driver pays on the current figures, what
// the card was charged), with the stop button. A static file, so that the page's
// Content-Security-Policy needs no inline script; the status words come translated in
// #status-words' data attributes.
(function () {
  var box = document.getElementById("checkout"), status = document.getElementById("status"), reason = document.getElementById("reason");
  var words = document.getElementById("status-words").dataset;  // each status in words, translated
  var final = ["settled", "failed", "expired"], stoppable = ["created", "authorized", "starting", "charging"];
  var locale = box.dataset.locale === "de" ? "de-DE" : "en-GB";
  function money(amount, currency) { return amount == null ? "–" : new Intl.NumberFormat(locale, {style: "currency", currency: currency}).format(Number(amount)); }
  function number(value, digits) { return new Intl.NumberFormat(locale, {maximumFractionDigits: digits}).format(Number(value)); }
  function duration(start, end) {
    var minutes = Math.max(0, Math.floor(((end ? new Date(end) : new Date()) - new Date(start)) / 60000));
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }
  function show(data) {
    status.textContent = words[data.status] || data.status; status.dataset.status = data.status;
    reason.textContent = data.failure_reason || ""; reason.hidden = !data.failure_reason;
    document.getElementById("unconfirmed").hidden = !data.start_unconfirmed || data.status !== "starting";
    document.getElementById("held-amount").textContent = money(data.amount_held, data.currency);
    document.getElementById("stop").hidden = stoppable.indexOf(data.status) < 0;
    var settled = data.status === "settled", label = document.getElementById("cost-label");
    if (data.status === "finished" || settled) { label.textContent = label.dataset.final; }
    document.getElementById("settlement").hidden = !settled;
    document.getElementById("taken-amount").textContent = money(data.amount_captured || "0", data.currency);
    [["released", data.amount_released], ["refunded", data.amount_refunded]].forEach(function (pair) {
      document.getElementById(pair[0]).hidden = !(settled && pair[1]);
      document.getElementById(pair[0] + "-amount").textContent = money(pair[1], data.currency);
    });
    var link = document.getElementById("receipt-link");
    link.hidden = !data.receipt_path; if (data.receipt_path) { link.href = data.receipt_path; }
    document.getElementById("receipt-wait").hidden = data.status !== "finished";
    if (data.session) {
      document.getElementById("figures").hidden = false;
      document.getElementById("energy").textContent = number(data.session.energy_kwh, 2) + " kWh";
      document.getElementById("duration").textContent = duration(data.session.start, data.session.end);
      document.getElementById("cost").textContent = money(data.session.cost, data.session.currency);
    }
    // What the driver pays, and in words why it is less than the operator's figure.
    var note = document.getElementById("cost-note"), why = data.session ? data.session.cost_note : "";
    note.textContent = why || ""; note.hidden = !why;
  }
  function poll() {
    fetch(box.dataset.url, {headers: {"Accept": "application/json"}}).then(function (r) { return r.json(); }).then(function (data) {
      show(data); if (final.indexOf(data.status) < 0) { setTimeout(poll, data.status === "finished" ? 3000 : 2000); }
    }).catch(function () { setTimeout(poll, 5000); });
  }
  document.getElementById("stop").addEventListener("click", function () {
    this.disabled = true;
    fetch(box.dataset.stop, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})
      .then(function (r) { return r.json().then(function (body) { if (r.ok) { show(body); } }); }).finally(function () { document.getElementById("stop").disabled = false; });
  });
  poll();
})();
