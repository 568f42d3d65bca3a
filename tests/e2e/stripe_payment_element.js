// A stand-in for Stripe.js with the Payment Element, which localstripe's own stand-in lacks.
// The browser tests serve it in place of Stripe.js (Playwright `page.route`), with the fake
// Stripe's address put in for FAKE_STRIPE. It offers what the charger page uses, shaped as
// Stripe.js has it: `elements({mode: "payment", ...})` with the "payment" Element (three plain
// labelled fields: card number, expiry "MM / YY", security code) and the "expressCheckout"
// Element (no wallet in a headless browser: `ready` says so), `elements.submit()`,
// `createConfirmationToken()` (the fake Stripe's `/v1/confirmation_tokens`) and
// `handleNextAction()`, which asks for 3-D Secure in a dialog with the buttons "Complete
// authentication" / "Fail authentication" and drives the server-created PaymentIntent on the
// fake Stripe. Its errors carry Stripe's English messages, which the page must not show.
// A test that sets `window.standinWallet` (a card number) before the page loads gets a wallet
// button "Pay with Google Pay" in the Express Checkout Element: pressed, it asks the page
// (`click`, which must `resolve()`), then "pays" with that card (`confirm`).
(function () {
  "use strict";
  var BASE = "FAKE_STRIPE";

  function call(key, path, body) {
    // A text/plain body, as localstripe's stand-in sends: no CORS preflight.
    return fetch(BASE + path, {method: "POST", body: JSON.stringify(Object.assign({key: key}, body))})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); });
  }

  function input(parent, id, label, inputmode) {
    var wrap = document.createElement("div"), tag = document.createElement("label"), field = document.createElement("input");
    tag.setAttribute("for", id); tag.textContent = label;
    field.id = id; field.type = "text"; field.setAttribute("inputmode", inputmode); field.setAttribute("autocomplete", "off");
    wrap.style.flex = "1"; tag.style.margin = "0.2rem 0"; field.style.padding = "0.5rem";
    wrap.appendChild(tag); wrap.appendChild(field); parent.appendChild(wrap);
    return field;
  }

  function element(type, listeners) {
    var fields = null;
    return {
      mount: function (selector) {
        var node = typeof selector === "string" ? document.querySelector(selector) : selector;
        if (type === "payment") {
          // Laid out as Stripe's: the number on one row, expiry and security code side by side.
          var row = document.createElement("div");
          row.style.display = "flex"; row.style.gap = "0.6rem";
          fields = {number: input(node, "standin-number", "Card number", "numeric")};
          node.appendChild(row);
          fields.expiry = input(row, "standin-expiry", "Expiry (MM / YY)", "numeric");
          fields.cvc = input(row, "standin-cvc", "Security code", "numeric");
          this._fields = fields;
        }
        var self = this, wallet = type === "expressCheckout" && window.standinWallet;
        if (wallet) {
          var button = document.createElement("button");
          button.type = "button"; button.textContent = "Pay with Google Pay";
          button.addEventListener("click", function () {
            self._emit("click", {expressPaymentType: "google_pay", resolve: function () {
              self._walletCard = {number: wallet, exp_month: "12", exp_year: "30", cvc: "123"};
              self._emit("confirm", {expressPaymentType: "google_pay"});
            }});
          });
          node.appendChild(button);
        }
        setTimeout(function () {
          self._emit("ready", type === "expressCheckout" ? {availablePaymentMethods: wallet ? {googlePay: true} : null} : {});
        }, 0);
      },
      on: function (name, handler) { (listeners[name] = listeners[name] || []).push(handler); },
      _emit: function (name, event) { (listeners[name] || []).forEach(function (handler) { handler(event); }); },
      _card: function () {
        if (!fields) { return null; }
        var expiry = fields.expiry.value.split("/").map(function (part) { return part.trim(); });
        return {number: fields.number.value.replace(/\s/g, ""), exp_month: expiry[0] || "", exp_year: expiry[1] || "", cvc: fields.cvc.value.trim()};
      }
    };
  }

  function dialog() {
    return new Promise(function (resolve) {
      var box = document.createElement("div"), text = document.createElement("p");
      box.setAttribute("role", "dialog"); box.setAttribute("aria-label", "3D Secure");
      text.textContent = "3D Secure: do you want to confirm or cancel?";
      box.appendChild(text);
      [["Complete authentication", true], ["Fail authentication", false]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button"; button.textContent = pair[0];
        button.addEventListener("click", function () { box.remove(); resolve(pair[1]); });
        box.appendChild(button);
      });
      Object.assign(box.style, {position: "fixed", top: "30%", left: "5%", right: "5%", padding: "1rem", background: "#fff", border: "3px solid #333"});
      document.body.appendChild(box);
    });
  }

  window.Stripe = function (key) {
    return {
      elements: function (options) {
        var created = {};
        return {
          options: options,
          create: function (type) { created[type] = element(type, {}); return created[type]; },
          update: function (changes) { Object.assign(options, changes); },
          submit: function () {
            if (this._card() && created.expressCheckout && created.expressCheckout._walletCard) { return Promise.resolve({}); }
            var card = created.payment && created.payment._card();
            var complete = card && card.number.length === 16 && card.exp_month && card.exp_year && card.cvc.length === 3;
            return Promise.resolve(complete ? {} : {error: {type: "validation_error", code: "incomplete_number", message: "Your card number is incomplete."}});
          },
          _card: function () {
            var wallet = created.expressCheckout && created.expressCheckout._walletCard;
            return wallet || (created.payment ? created.payment._card() : null);
          }
        };
      },
      createConfirmationToken: function (options) {
        var card = options.elements._card();
        return call(key, "/v1/confirmation_tokens", {payment_method_data: {type: "card", card: card}})
          .then(function (answer) { return answer.ok ? {confirmationToken: answer.body} : {error: answer.body.error}; });
      },
      handleNextAction: function (options) {
        var intent = options.clientSecret.match(/^(pi_\w+)_secret_/)[1];
        return dialog().then(function (success) {
          return call(key, "/v1/payment_intents/" + intent + "/_authenticate?success=" + success, {client_secret: options.clientSecret});
        }).then(function (answer) {
          if (!answer.ok) { return {error: answer.body.error}; }
          if (answer.body.status === "requires_payment_method") {
            return {error: {type: "card_error", code: "payment_intent_authentication_failure", message: "We are unable to authenticate your payment method. Please choose a different payment method and try again."}};
          }
          return {paymentIntent: answer.body};
        });
      }
    };
  };
})();
