/* The leader's recorder: camera → MediaRecorder → preview → resumable upload (tus).
 *
 * No inline script (CSP): configuration and translated messages come from the
 * data-config attribute of #recorder. Recording is limited to 1080p at about 2.5 Mbps and
 * to the campaign's maximum length. Where the camera API is missing (an old browser, or a
 * page not served over HTTPS) the file input lets the phone's own camera app do the work.
 */
(function () {
  "use strict";

  var root = document.getElementById("recorder");
  if (!root) { return; }
  var config = JSON.parse(root.getAttribute("data-config"));
  var messages = config.messages || {};
  var el = function (id) { return document.getElementById(id); };
  var preview = el("preview");
  var buttons = {
    camera: el("btn-camera"), start: el("btn-start"), stop: el("btn-stop"),
    retake: el("btn-retake"), send: el("btn-send")
  };
  var fileInput = el("file-input");
  var state = { stream: null, recorder: null, chunks: [], file: null, url: null,
                timer: null, started: 0, upload: null, mimeType: "" };
  var lang = document.documentElement.lang || "en";
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  var digits = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2 });

  function show(name, visible) { buttons[name].hidden = !visible; }
  function only(names) {
    Object.keys(buttons).forEach(function (n) { show(n, names.indexOf(n) >= 0); });
  }
  function say(code, isError) {
    var box = el("message");
    box.textContent = messages[code] || messages.server || code;
    box.hidden = false;
    box.setAttribute("data-code", code);
    box.classList.toggle("error", !!isError);
  }
  function quiet() { el("message").hidden = true; }

  /* Pick what this browser records: WebM (VP9/VP8 + Opus) where it can, else MP4 (Safari). */
  function pickMimeType() {
    var candidates = [
      "video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm",
      "video/mp4;codecs=avc1,mp4a", "video/mp4;codecs=avc1,opus", "video/mp4"
    ];
    for (var i = 0; i < candidates.length; i++) {
      if (window.MediaRecorder.isTypeSupported(candidates[i])) { return candidates[i]; }
    }
    return "";
  }

  function cameraAvailable() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
              window.MediaRecorder && window.isSecureContext);
  }

  function clearPreview() {
    if (state.url) { URL.revokeObjectURL(state.url); state.url = null; }
    preview.removeAttribute("src");
    preview.controls = false;
  }

  function startCamera() {
    quiet();
    var constraints = {
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { facingMode: "user", width: { ideal: 1280, max: 1920 },
               height: { ideal: 720, max: 1080 }, frameRate: { ideal: 30, max: 30 } }
    };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      state.stream = stream;
      clearPreview();
      preview.muted = true;
      preview.srcObject = stream;
      preview.play().catch(function () {});
      only(["start"]);
    }).catch(function () {
      say("camera.denied", true);
    });
  }

  function tick() {
    var seconds = Math.floor((Date.now() - state.started) / 1000);
    el("elapsed").textContent = digits.format(Math.floor(seconds / 60)).replace(/^0/, "") +
      ":" + digits.format(seconds % 60);
    if (seconds >= config.maxSeconds) { stopRecording(true); }
  }

  function startRecording() {
    quiet();
    state.mimeType = pickMimeType();
    var options = { videoBitsPerSecond: 2500000, audioBitsPerSecond: 128000 };
    if (state.mimeType) { options.mimeType = state.mimeType; }
    state.chunks = [];
    state.recorder = new MediaRecorder(state.stream, options);
    state.recorder.ondataavailable = function (event) {
      if (event.data && event.data.size > 0) { state.chunks.push(event.data); }
    };
    state.recorder.onstop = finishRecording;
    state.recorder.start(1000);
    state.started = Date.now();
    el("timer").hidden = false;
    tick();
    state.timer = window.setInterval(tick, 250);
    only(["stop"]);
    root.setAttribute("data-state", "recording");
  }

  function stopRecording(limitReached) {
    if (!state.recorder || state.recorder.state === "inactive") { return; }
    window.clearInterval(state.timer);
    state.recorder.stop();
    if (limitReached) { say("recording.time_limit", false); }
  }

  function finishRecording() {
    var type = (state.recorder.mimeType || state.mimeType || "video/webm").split(";")[0];
    var blob = new Blob(state.chunks, { type: type });
    if (!blob.size) { say("upload.empty", true); only(["start"]); return; }
    var ext = type.indexOf("mp4") >= 0 ? "mp4" : "webm";
    useFile(new File([blob], "recording-" + Date.now() + "." + ext,
                     { type: type, lastModified: Date.now() }));
    root.setAttribute("data-state", "recorded");
  }

  function useFile(file) {
    state.file = file;
    clearPreview();
    preview.hidden = false;
    preview.srcObject = null;
    state.url = URL.createObjectURL(file);
    preview.src = state.url;
    preview.muted = false;
    preview.controls = true;
    only(state.stream ? ["retake", "send"] : ["send"]);
  }

  function retake() {
    state.file = null;
    clearPreview();
    if (state.stream) {
      preview.muted = true;
      preview.srcObject = state.stream;
      preview.play().catch(function () {});
      only(["start"]);
    } else {
      only(cameraAvailable() ? ["camera"] : []);
    }
    el("timer").hidden = true;
    quiet();
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* The SHA-256 lets the server prove the stored original is exactly what was recorded.
   * Hashing needs the whole file in memory, so very large picked files skip it (the server
   * still hashes what it received). */
  function digest(file) {
    if (!window.crypto || !window.crypto.subtle || file.size > 300 * 1024 * 1024) {
      return Promise.resolve("");
    }
    return file.arrayBuffer().then(function (data) {
      return window.crypto.subtle.digest("SHA-256", data);
    }).then(hex).catch(function () { return ""; });
  }

  function errorCode(error) {
    try {
      var body = error.originalResponse && error.originalResponse.getBody();
      var code = body && JSON.parse(body).code;
      if (code && messages[code]) { return code; }
    } catch (e) { /* not our JSON */ }
    return "upload.failed";
  }

  function send() {
    if (!state.file) { return; }
    if (state.file.size > config.maxBytes) { say("upload.too_large", true); return; }
    quiet();
    only([]);
    el("progress-box").hidden = false;
    if (state.upload) { state.upload.start(); return; } /* resume the same upload */
    digest(state.file).then(function (sha) {
      var metadata = { filename: state.file.name, filetype: state.file.type || "video/webm",
                       language: config.language };
      if (sha) { metadata.sha256 = sha; }
      state.upload = new window.tus.Upload(state.file, {
        endpoint: config.endpoint,
        headers: { "Chorus-Invite": config.token },
        chunkSize: 5 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
        metadata: metadata,
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) {
          var share = total ? sent / total : 0;
          el("progress").value = Math.round(share * 100);
          el("progress-text").textContent = percent.format(share);
        },
        onSuccess: function () {
          root.setAttribute("data-state", "sent");
          if (state.stream) { state.stream.getTracks().forEach(function (t) { t.stop(); }); }
          window.location.assign(config.thanks);
        },
        onError: function (error) {
          var code = errorCode(error);
          say(code, true);
          root.setAttribute("data-state", "error");
          /* A refused file (too large, not a video, damaged) must be recorded again; a
           * network failure resumes where it stopped when "send" is pressed again. */
          if (code !== "upload.failed") { state.upload = null; }
          only(state.stream ? ["retake", "send"] : ["send"]);
        }
      });
      state.upload.findPreviousUploads().then(function (previous) {
        if (previous.length) { state.upload.resumeFromPreviousUpload(previous[0]); }
        state.upload.start();
      });
    });
  }

  buttons.camera.addEventListener("click", startCamera);
  buttons.start.addEventListener("click", startRecording);
  buttons.stop.addEventListener("click", function () { stopRecording(false); });
  buttons.retake.addEventListener("click", retake);
  buttons.send.addEventListener("click", send);
  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) {
      var file = fileInput.files[0];
      if (file.type && file.type.indexOf("video/") !== 0 && file.type.indexOf("audio/") !== 0) {
        say("upload.not_media", true);
        return;
      }
      state.upload = null;
      useFile(file);
    }
  });

  if (!cameraAvailable()) {
    show("camera", false);
    preview.hidden = true;
    say("camera.unavailable", false);
  }
  root.setAttribute("data-state", "ready");
})();
