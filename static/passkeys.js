// Portcullis passkeys: the one script. It runs the WebAuthn ceremonies for the forms marked
// `data-passkey` and posts each answer as an ordinary form, so the server answers with a page as
// it does for a password. Without this script (or without WebAuthn in the browser) those forms stay
// hidden and the pages sign in with a password and a code as before.
//   data-passkey="signin"    any passkey, from the button or the browser's autofill (conditional UI)
//   data-passkey="confirm"   one of the signed-in person's passkeys (second factor, step-up)
//   data-passkey="register"  a new passkey for the signed-in person
// Each form has `data-options` (where to fetch the ceremony's options), a `csrf` field, a hidden
// `credential` field for the answer, and an element marked `data-passkey-error` for problems.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(base64url) {
    var s = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var binary = atob(s);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    (list || []).forEach(function (c) { c.id = toBuffer(c.id); });
  }

  // WebAuthn §5.1: the answer as JSON, binary members in base64url.
  function answer(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults()
    });
  }

  function say(form, message) {
    var box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  // The ceremony's options from the server (a POST with the form's CSRF token and `extra`).
  function fetchOptions(form, extra) {
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    Object.keys(extra).forEach(function (k) { body.set(k, extra[k]); });
    return fetch(form.dataset.options, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw new Error(json.error || "The server refused.");
        return json;
      });
    });
  }

  function post(form, credential) {
    form.elements.credential.value = answer(credential);
    form.submit();
  }

  function failed(form, error) {
    if (error && error.name === "AbortError") return;
    if (error && error.name === "NotAllowedError") {
      say(form, "The passkey was not used. Try again, or use another way.");
    } else if (error && error.name === "InvalidStateError") {
      say(form, "This device already holds a passkey for your account.");
    } else {
      say(form, (error && error.message) || "Something went wrong with the passkey. Try again.");
    }
  }

  function request(options, mediation, signal) {
    var publicKey = options.publicKey;
    publicKey.challenge = toBuffer(publicKey.challenge);
    ids(publicKey.allowCredentials);
    var asked = { publicKey: publicKey };
    if (mediation) asked.mediation = mediation;
    if (signal) asked.signal = signal;
    return asked;
  }

  function get(form, purpose) {
    return fetchOptions(form, { purpose: purpose }).then(function (options) {
      return navigator.credentials.get(request(options, null, null));
    });
  }

  function signIn(form) {
    var autofill = null;
    // The autofill ceremony's options are fetched once the page loads; the button waits for that
    // fetch, so the ceremony it begins is always the session's latest.
    var started = Promise.resolve();
    // Conditional UI (WebAuthn §5.1.4.1, mediation "conditional"): passkeys offered in the
    // username field's autofill, where the browser supports it; not again right after a passkey
    // was refused (the page then says why). `data-autofill` tells how it stands: `on` (to start),
    // `pending`, `ended`, or `off`.
    var wanted = form.dataset.autofill === "on";
    if (wanted && PublicKeyCredential.isConditionalMediationAvailable && window.AbortController) {
      form.dataset.autofill = "pending";
      started = PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) { form.dataset.autofill = "ended"; return; }
        var controller = new AbortController();
        autofill = controller;
        return fetchOptions(form, { purpose: "signin" }).then(function (options) {
          navigator.credentials.get(request(options, "conditional", controller.signal))
            .then(function (credential) { if (credential) post(form, credential); })
            .catch(function () { form.dataset.autofill = "ended"; });
        });
      }).catch(function () { form.dataset.autofill = "ended"; });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say(form, "");
      started
        .then(function () {
          if (autofill) { autofill.abort(); autofill = null; }
          return get(form, "signin");
        })
        .then(function (credential) { post(form, credential); })
        .catch(function (error) { failed(form, error); });
    });
  }

  function confirm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say(form, "");
      get(form, "confirm")
        .then(function (credential) { post(form, credential); })
        .catch(function (error) { failed(form, error); });
    });
  }

  function register(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say(form, "");
      fetchOptions(form, { name: form.elements.name.value })
        .then(function (options) {
          var publicKey = options.publicKey;
          publicKey.challenge = toBuffer(publicKey.challenge);
          publicKey.user.id = toBuffer(publicKey.user.id);
          ids(publicKey.excludeCredentials);
          return navigator.credentials.create({ publicKey: publicKey });
        })
        .then(function (credential) { post(form, credential); })
        .catch(function (error) { failed(form, error); });
    });
  }

  var kinds = { signin: signIn, confirm: confirm, register: register };
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var setUp = kinds[form.dataset.passkey];
    if (!setUp) return;
    form.hidden = false;
    document.querySelectorAll("[data-passkey-fallback]").forEach(function (el) { el.hidden = true; });
    setUp(form);
  });
})();
