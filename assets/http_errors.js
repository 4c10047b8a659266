// Neon Arena: a callback request the server refuses as too large (HTTP 413, from nginx or from the app)
// becomes a readable message in the page instead of a silent failure. Both answer with a JSON body
// {"error": "payload_too_large", "message": "..."}; the message is shown as text (never as HTML).
(function () {
  "use strict";
  if (typeof window.fetch !== "function" || window.__neonHttpErrors) {
    return;
  }
  window.__neonHttpErrors = true;
  var FALLBACK = "This file is too large to upload. Choose a smaller file.";
  var originalFetch = window.fetch.bind(window);

  function show(message) {
    var box = document.getElementById("neon-http-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "neon-http-error";
      box.className = "alert alert-danger alert-dismissible neon-alert";
      box.setAttribute("role", "alert");
      box.style.position = "fixed";
      box.style.top = "4.5rem";
      box.style.left = "50%";
      box.style.transform = "translateX(-50%)";
      box.style.zIndex = "2000";
      box.style.maxWidth = "40rem";
      var text = document.createElement("span");
      text.className = "neon-http-error-text";
      var close = document.createElement("button");
      close.type = "button";
      close.className = "btn-close";
      close.setAttribute("aria-label", "Close");
      close.addEventListener("click", function () {
        box.remove();
      });
      box.appendChild(text);
      box.appendChild(close);
      document.body.appendChild(box);
    }
    box.querySelector(".neon-http-error-text").textContent = message;
  }

  window.fetch = function (input, init) {
    return originalFetch(input, init).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 413 && url.indexOf("_dash-update-component") !== -1) {
        response
          .clone()
          .json()
          .then(
            function (body) {
              show((body && typeof body.message === "string" && body.message) || FALLBACK);
            },
            function () {
              show(FALLBACK);
            }
          );
      }
      return response;
    });
  };
})();
