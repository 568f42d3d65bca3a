// The charger page (templates/payments/charge.html): Stripe.js collects the card, our driver API
// places the hold (one manual-capture PaymentIntent, created and confirmed by our server) and,
// when the card asks, 3-D Secure is completed once; then on to the checkout's status page.
//
// Stripe.js itself offers the Payment Element and the Express Checkout Element (cards, Apple Pay,
// Google Pay, Link): the page uses them wherever Stripe.js has `createConfirmationToken`. The
// stand-in of the fake Stripe (demo, tests) has only the card Element: there the card is set up
// with the checkout's SetupIntent first. The server reads every outcome from Stripe either way.
//
// A static file, so that the page's Content-Security-Policy needs no inline script; its words
// come translated in the form's data attributes and in #pay-words (by Stripe's error codes).
(function () {
  var form = document.getElementById("pay"), message = document.getElementById("message"), button = document.getElementById("pay-button");
  var texts = form.dataset, words = JSON.parse(document.getElementById("pay-words").textContent);
  var progress = document.getElementById("progress"), terms = document.getElementById("terms");
  var stripe = Stripe(form.dataset.key, {locale: form.dataset.locale});
  var paymentElement = typeof stripe.createConfirmationToken === "function";
  var elements = null, card = null;
  function picked() { return form.querySelector("input[name=connector]:checked"); }
  function say(text) { message.textContent = text || ""; }
  function busy(on) { button.disabled = on; button.setAttribute("aria-busy", on ? "true" : "false"); progress.textContent = on ? texts.busy : ""; if (on) say(""); }
  function accepted() { if (terms.checked) { return true; } say(texts.terms); terms.focus(); return false; }

  if (paymentElement) {
    elements = stripe.elements({
      mode: "payment", amount: Number(picked().dataset.holdMinor), currency: picked().dataset.currency.toLowerCase(),
      captureMethod: "manual", paymentMethodTypes: ["card", "link"], locale: form.dataset.locale
    });
    document.getElementById("payment-element").classList.add("elements");  // it draws its own frame
    elements.create("payment", {layout: "tabs"}).mount("#payment-element");
    var express = elements.create("expressCheckout", {buttonHeight: 48});
    express.on("ready", function (event) { document.getElementById("express").hidden = !event.availablePaymentMethods; });
    express.on("click", function (event) { if (accepted()) { event.resolve(); } });
    express.on("confirm", function () { pay(); });
    express.mount("#express-checkout");
  } else {
    card = stripe.elements({locale: form.dataset.locale}).create("card");
    card.mount("#payment-element");
  }

  // The connector picked: its price on the first screen, its hold, and the amount Stripe shows.
  function showPicked() {
    var choice = picked();
    form.querySelectorAll(".price-summary").forEach(function (box) { box.hidden = box.id !== "price-" + choice.value; });
    document.getElementById("hold-amount").textContent = choice.dataset.hold;
    if (elements) { elements.update({amount: Number(choice.dataset.holdMinor), currency: choice.dataset.currency.toLowerCase()}); }
  }
  form.addEventListener("change", function (event) { if (event.target.name === "connector") { showPicked(); } });

  function post(path, body) {
    return fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "Accept-Language": form.dataset.locale}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, status: r.status, body: b}; }); });
  }
  // Our words for what went wrong: the API's sentence (already in the driver's language), or
  // Stripe's error code looked up in #pay-words; never Stripe's own (English) message.
  function Refusal(text) { this.text = text; }
  function explain(error) {
    if (error instanceof Refusal) { return error.text || words.declined; }
    if (error && (error.decline_code || error.code || error.type)) {
      return words[error.decline_code] || words[error.code] || (error.type === "validation_error" ? words.check : words.declined);
    }
    return words.network;
  }
  function fail(error) { busy(false); say(explain(error)); }

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
      return new Refusal([].concat(nested[name])[0]);
    }
    if (fields.email) { document.getElementById("invoice").open = true; document.getElementById("email").focus(); return new Refusal([].concat(fields.email)[0]); }
    return new Refusal(body.detail);
  }

  var checkout = null, setupSecret = null;
  // The card as /pay takes it: a ConfirmationToken from the Payment Element, or the payment
  // method the card Element set up with the checkout's SetupIntent.
  function collectCard() {
    if (elements) {
      return stripe.createConfirmationToken({elements: elements}).then(function (made) {
        if (made.error) { throw made.error; }
        return {confirmation_token: made.confirmationToken.id};
      });
    }
    return stripe.confirmCardSetup(setupSecret, {payment_method: {card: card}}).then(function (setup) {
      if (setup.error) { throw setup.error; }
      return {payment_method: setup.setupIntent.payment_method};
    });
  }
  // 3-D Secure on the hold; whatever Stripe.js answers, the server reads the outcome itself.
  function authenticate(secret) {
    return elements ? stripe.handleNextAction({clientSecret: secret}) : stripe.confirmCardPayment(secret);
  }
  function pay() {
    busy(true);
    var body = {
      evse_id: form.dataset.evse, connector_id: picked().value,
      email: document.getElementById("email").value, locale: form.dataset.locale, replaces: remembered()
    };
    if (invoice()) { body.invoice = invoice(); }
    // Stripe.js checks the form (and opens a wallet's sheet) before anything else is awaited.
    var checked = elements ? elements.submit() : Promise.resolve({});
    checked.then(function (result) {
      if (result.error) { throw result.error; }
      return checkout ? null : post("/api/v1/checkouts", body);
    }).then(function (created) {
      if (created) {
        if (!created.ok) { throw refusal(created.body); }
        checkout = created.body.id; setupSecret = created.body.setup_client_secret; remember(checkout);
      }
      return collectCard();
    }).then(function (collected) {
      return post("/api/v1/checkouts/" + checkout + "/pay", collected);
    }).then(function (paid) {
      if (paid.body.status === "requires_action") {
        return authenticate(paid.body.client_secret).then(function () { return post("/api/v1/checkouts/" + checkout + "/confirm"); });
      }
      return paid;
    }).then(function (result) {
      if (["created", "failed", "expired"].indexOf(result.body.status) < 0 && result.ok) { remember(""); window.location.href = result.body.status_path; return; }
      if (result.body.setup_client_secret) { setupSecret = result.body.setup_client_secret; }
      fail(new Refusal(result.body.detail || result.body.failure_reason));
    }).catch(fail);
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (accepted()) { pay(); }
  });
})();
