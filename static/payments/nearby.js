// "Use my position" on /charge/: the browser's position becomes ?near=lat,lon, which the
// server answers with the chargers near it. Without geolocation the button stays hidden and
// the postal code or city box does the same.
(function () {
  "use strict";
  var form = document.getElementById("nearby-search");
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  if (!form || !button || !navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = form.dataset.locating;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var near = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
        window.location.assign(form.action + "?near=" + encodeURIComponent(near) + "#nearby-title");
      },
      function () {
        status.textContent = form.dataset.denied;
        button.disabled = false;
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
