/* Check in at a visit: ask the browser where the RM is, then post it with the form (static file: the CSP allows no
   inline script). Permission refused or no position found still checks in, saying so; without this script the form
   posts "unavailable" as it stands. */
(function () {
  "use strict";

  var OPTIONS = { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 };

  function send(form, status, position) {
    form.elements.status.value = status;
    if (position) {
      form.elements.latitude.value = position.coords.latitude.toFixed(6);
      form.elements.longitude.value = position.coords.longitude.toFixed(6);
      form.elements.accuracy_m.value = Math.round(position.coords.accuracy);
    }
    form.dataset.checkinSent = "1";
    form.submit(); // no second submit event: this goes straight to the server
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-checkin]") || form.dataset.checkinSent) { return; }
    // Browsers give no position to a page served over plain HTTP (outside localhost): that is "unavailable", not a
    // refusal by the RM.
    if (!navigator.geolocation || !window.isSecureContext) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    navigator.geolocation.getCurrentPosition(
      function (position) { send(form, "located", position); },
      function (error) { send(form, error.code === error.PERMISSION_DENIED ? "denied" : "unavailable", null); },
      OPTIONS
    );
  });
})();
