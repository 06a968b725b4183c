// The officer's camera: live quality feedback while the person is framed, a still taken into the form's photo
// field, and a retake prompt when the still is not good enough. Also checks a photo chosen from a file.
// No library, no outside service: frames go only to this server's /biometrics/face-check, and nothing is stored.
(function () {
  "use strict";
  var LIVE_EVERY_MS = 1200;

  function csrf() {
    var holder = document.body.getAttribute("hx-headers");
    try { return JSON.parse(holder)["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  function check(blob) {
    var form = new FormData();
    form.append("image", blob, "frame.jpg");
    return fetch("/biometrics/face-check", {
      method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() }
    }).then(function (r) { return r.json(); });
  }

  function show(box, output, result, final) {
    var ok = result.acceptable;
    output.className = "quality " + (ok ? "quality-ok" : "quality-bad");
    output.textContent = ok ? box.dataset.msgOk : (final ? box.dataset.msgBad + " " : "") + result.reasons.join(", ");
    output.dataset.acceptable = ok ? "yes" : "no";
    output.dataset.final = final ? "yes" : "no";
  }

  function frame(video, type) {
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, 960 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, type || "image/jpeg", 0.92); });
  }

  function start(box) {
    var video = box.querySelector("video"), still = box.querySelector("img");
    var take = box.querySelector("[data-camera-take]"), retake = box.querySelector("[data-camera-retake]");
    var output = document.getElementById(box.dataset.camera + "_quality");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      output.textContent = box.dataset.msgDenied;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 1280, height: 720 } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false; take.hidden = false; still.hidden = true; retake.hidden = true;
      output.textContent = box.dataset.msgLive;
      box.stream = stream;
      var busy = false;
      box.timer = setInterval(function () {
        if (busy || !video.videoWidth) return;
        busy = true;
        // A frame checked after the still was taken must not overwrite the still's verdict.
        frame(video).then(check).then(function (r) { if (box.stream === stream) show(box, output, r, false); })
          .catch(function () {}).then(function () { busy = false; });
      }, LIVE_EVERY_MS);
    }).catch(function () { output.textContent = box.dataset.msgDenied; });
  }

  function stop(box) {
    clearInterval(box.timer);
    if (box.stream) box.stream.getTracks().forEach(function (t) { t.stop(); });
    box.stream = null;
  }

  function takePhoto(box) {
    var video = box.querySelector("video"), still = box.querySelector("img");
    var output = document.getElementById(box.dataset.camera + "_quality");
    var input = document.getElementById(box.dataset.camera + "_photo");
    frame(video).then(function (blob) {
      stop(box);
      var file = new File([blob], "camera.jpg", { type: "image/jpeg" });
      var files = new DataTransfer();
      files.items.add(file);
      input.files = files.files;
      still.src = URL.createObjectURL(blob);
      still.hidden = false; video.hidden = true;
      box.querySelector("[data-camera-take]").hidden = true;
      box.querySelector("[data-camera-retake]").hidden = false;
      return check(blob).then(function (r) { show(box, output, r, true); });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-camera-start], [data-camera-take], [data-camera-retake]");
    if (!button) return;
    var box = button.closest("[data-camera]");
    if (button.hasAttribute("data-camera-take")) takePhoto(box);
    else start(box);
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("input[data-face-check]") || !input.files.length) return;
    var output = document.getElementById(input.dataset.faceCheck);
    var box = input.parentNode.querySelector("[data-camera]");
    check(input.files[0]).then(function (r) { show(box, output, r, true); }).catch(function () {});
  });
})();
