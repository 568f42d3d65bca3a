// The charger page (templates/payments/charge.html): Stripe.js collects the card into a
// SetupIntent, our driver API places the hold and, when the card asks, 3-D Secure is completed;
// then on to the checkout's status page. A static file, so that the page's Content-Security-Policy
// needs no inline script; the words it shows come translated in the form's data attributes.
(function () {
  var form = document.getElementById("pay"), message = document.getElementById("message"), button = document.getElementById("pay-button");
  var texts = form.dataset;  // declined, busy, terms, network: the page's words, translated
  var stripe = Stripe(form.dataset.key), card = stripe.elements({locale: form.dataset.locale}).create("card");
  card.mount("#card-element");
  var checkout = null, setupSecret = null;
  var progress = document.getElementById("progress");
  function say(text) { message.textContent = text || ""; }
  function busy(on) { button.disabled = on; button.setAttribute("aria-busy", on ? "true" : "false"); progress.textContent = on ? texts.busy : ""; if (on) say(""); }
  function showHold() { var picked = form.querySelector("input[name=connector]:checked"); document.getElementById("hold-amount").textContent = picked ? picked.dataset.hold : ""; }
  form.addEventListener("change", showHold); showHold();
  function post(path, body) {
    return fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "Accept-Language": form.dataset.locale}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, status: r.status, body: b}; }); });
  }
  function fail(text) { busy(false); say(text || texts.declined); }
  // The unpaid checkout this browser started here: its id is the proof that lets a reloaded or
  // re-scanned page take over its own claim at once (another driver's browser has no such id).
  var mine = "checkout:" + form.dataset.evse;
  function remembered() { try { return window.localStorage.getItem(mine) || ""; } catch (e) { return ""; } }
  function remember(id) { try { if (id) { window.localStorage.setItem(mine, id); } else { window.localStorage.removeItem(mine); } } catch (e) { /* storage off: wait for the claim to lapse */ } }
  // The invoice details (all optional): sent with the checkout only when some are filled in.
  var invoiceFields = ["name", "street", "postal_code", "city", "country", "vat_id"];
  function invoice() {
    var details = {}, any = false;
    invoiceFields.forEach(function (name) { var value = document.getElementById("invoice-" + name).value.trim(); details[name] = value; any = any || value !== ""; });
    return any ? details : null;
  }
  // A refused field's message (the API's `fields`, in the page's language), else the sentence.
  function refusal(body) {
    var fields = body.fields || {}, nested = fields.invoice || {};
    for (var name in nested) {
      var field = document.getElementById("invoice-" + name);
      if (field) { document.getElementById("invoice").open = true; field.focus(); }
      return [].concat(nested[name])[0];
    }
    return body.detail;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!document.getElementById("terms").checked) { say(texts.terms); document.getElementById("terms").focus(); return; }
    busy(true);
    var body = {
      evse_id: form.dataset.evse, connector_id: form.querySelector("input[name=connector]:checked").value,
      email: document.getElementById("email").value, locale: form.dataset.locale, replaces: remembered()
    };
    if (invoice()) { body.invoice = invoice(); }
    var start = checkout ? Promise.resolve(null) : post("/api/v1/checkouts", body);
    start.then(function (created) {
      if (created) {
        if (!created.ok) { throw new Error(refusal(created.body)); }
        checkout = created.body.id; setupSecret = created.body.setup_client_secret; remember(checkout);
      }
      return stripe.confirmCardSetup(setupSecret, {payment_method: {card: card}});
    }).then(function (setup) {
      if (setup.error) { throw new Error(setup.error.message); }
      return post("/api/v1/checkouts/" + checkout + "/pay", {payment_method: setup.setupIntent.payment_method});
    }).then(function (paid) {
      if (paid.body.status === "requires_action") {
        return stripe.confirmCardPayment(paid.body.client_secret).then(function () { return post("/api/v1/checkouts/" + checkout + "/confirm"); });
      }
      return paid;
    }).then(function (result) {
      if (["created", "failed", "expired"].indexOf(result.body.status) < 0 && result.ok) { remember(""); window.location.href = result.body.status_path; return; }
      if (result.body.setup_client_secret) { setupSecret = result.body.setup_client_secret; }
      fail(result.body.detail || result.body.failure_reason);
    }).catch(function (error) { fail(error && error.message ? error.message : texts.network); });
  });
})();
