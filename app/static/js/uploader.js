/* Resumable clip uploader: Uppy (app/static/vendor/uppy, built from frontend/) driving the portal's upload protocol
 * (app/uploads/routes.py). Parts go to presigned S3 URLs or through the portal, several at a time; failed parts are
 * retried, the upload pauses while the browser is offline, and after a reload or a browser restart choosing the same
 * file continues the upload: the parts the store already holds (listParts) are not sent again. */
(function () {
  "use strict";

  const MIB = 1024 * 1024,
    MAX_PARTS = 10000,
    MIN_PART = 5 * MIB;

  /* The same rule as app/services/uploads.part_size_for: both sides must cut the file at the same places. */
  function partSizeFor(size, preferred) {
    let part = Math.max(preferred, MIN_PART);
    if (size > part * MAX_PARTS) part = Math.ceil(size / MAX_PARTS / MIB) * MIB;
    return part;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (m, k) {
      return values[k] != null ? values[k] : m;
    });
  }

  const VIDEO_EXTENSIONS = [".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".3gp"];

  /* The same allow-list as the server (app/services/entries.check_upload_name): a video file name. */
  function looksLikeVideo(file) {
    const name = (file.name || "").toLowerCase();
    const ext = name.lastIndexOf(".") >= 0 ? name.slice(name.lastIndexOf(".")) : "";
    return VIDEO_EXTENSIONS.indexOf(ext) >= 0;
  }

  function HttpError(message, status) {
    const err = new Error(message);
    err.source = { status: status }; // Uppy's retry logic reads error.source.status
    return err;
  }

  function start(root) {
    const cfg = JSON.parse(document.getElementById("uploader-config").textContent);
    const S = cfg.strings,
      settings = cfg.settings,
      lang = document.documentElement.lang || root.dataset.lang || "vi";
    const U = window.PortalUppy,
      R = window.PortalUploadRate;
    const ui = root.querySelector("[data-role=ui]");
    if (!U || !R) {
      root.querySelector("[data-role=broken]").hidden = false;
      return;
    }
    ui.hidden = false;
    const input = root.querySelector("#clip-file"),
      button = root.querySelector("[data-role=start]");
    const message = root.querySelector("[data-role=message]"),
      speedEl = root.querySelector("[data-role=speed]");
    const storeKey = "clip-upload:" + settings.entryId;
    let current = null; // the upload being sent: {clipId, uploadId, key, partSize, urls, …}
    let busy = false;

    function say(text) {
      message.textContent = text || "";
    }

    async function call(method, url, body, signal) {
      let res, doc;
      try {
        res = await fetch(url, {
          method: method,
          credentials: "same-origin",
          signal: signal,
          headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": cfg.csrf },
          body: body ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        if (e && e.name === "AbortError") throw e;
        throw HttpError(S.network, 0);
      }
      try {
        doc = await res.json();
      } catch {
        doc = null;
      }
      if (!res.ok) throw HttpError((doc && doc.error) || S.network, res.status);
      return doc;
    }

    /* Which upload belongs to which file survives reloads and restarts in localStorage (per entry). */
    function fingerprint(file) {
      return [file.name, file.size, file.lastModified].join("|");
    }
    function remember(file, doc) {
      try {
        localStorage.setItem(storeKey, JSON.stringify({ fp: fingerprint(file), upload: doc }));
      } catch {
        /* private browsing: no resume after a reload, the upload itself still works */
      }
    }
    function recall(file) {
      try {
        const saved = JSON.parse(localStorage.getItem(storeKey) || "null");
        return saved && saved.fp === fingerprint(file) ? saved.upload : null;
      } catch {
        return null;
      }
    }
    function forget() {
      try {
        localStorage.removeItem(storeKey);
      } catch {
        /* ignore */
      }
    }

    const uppy = new U.Uppy({
      id: "clip-" + settings.entryId,
      autoProceed: false,
      allowMultipleUploadBatches: true,
      locale: U.locales[lang] || U.locales.vi,
      restrictions: {
        maxNumberOfFiles: 1,
        maxFileSize: settings.maxBytes,
        allowedFileTypes: VIDEO_EXTENSIONS,
      },
    });
    uppy.use(U.AwsS3, {
      shouldUseMultipart: true,
      limit: 4,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      getChunkSize: function (data) {
        return current ? current.partSize : partSizeFor(data.size, settings.partSize);
      },
      createMultipartUpload: async function (file) {
        // Normally not called: begin() creates the upload first, so Uppy always takes its resume path.
        current = await call("POST", settings.createUrl, { filename: file.name, size: file.size, type: file.type });
        remember(file.data, current);
        return { uploadId: current.uploadId, key: current.key };
      },
      listParts: async function (file, opts) {
        const url = current.urls.parts + "?uploadId=" + encodeURIComponent(opts.uploadId);
        return (await call("GET", url, null, opts.signal)).parts;
      },
      signPart: async function (file, opts) {
        const doc = await call("POST", current.urls.sign + opts.partNumber, { uploadId: opts.uploadId }, opts.signal);
        return { method: "PUT", url: doc.url, headers: doc.headers || {}, expires: doc.expires };
      },
      completeMultipartUpload: async function (file, opts) {
        const doc = await call("POST", current.urls.complete, { uploadId: opts.uploadId }, opts.signal);
        return { location: doc.entryUrl, entryUrl: doc.entryUrl };
      },
      abortMultipartUpload: async function (file, opts) {
        forget();
        await call("DELETE", current.urls.abort + "?uploadId=" + encodeURIComponent(opts.uploadId));
      },
    });
    uppy.use(U.StatusBar, {
      target: root.querySelector("[data-role=statusbar]"),
      showProgressDetails: false, // sizes, speed and time left are ours: the page's language and number format
      hideUploadButton: true,
      hideAfterFinish: false,
    });

    function setBusy(value) {
      busy = value;
      input.disabled = value;
      button.disabled = value;
      if (!value) {
        speedEl.hidden = true;
      }
    }

    /* Resume the upload this file started earlier if the portal still has it; otherwise start a new one. */
    async function prepare(file) {
      const saved = recall(file);
      if (saved) {
        try {
          const doc = await call("GET", saved.urls.parts + "?uploadId=" + encodeURIComponent(saved.uploadId));
          say(S.resuming);
          return doc;
        } catch (e) {
          if (!e.source || (e.source.status !== 404 && e.source.status !== 409)) throw e;
          forget();
        }
      }
      say(S.preparing);
      const created = await call("POST", settings.createUrl, { filename: file.name, size: file.size, type: file.type });
      remember(file, created);
      say(S.uploading);
      return created;
    }

    async function begin() {
      const file = input.files && input.files[0];
      if (!file) {
        say(S.choose);
        input.focus();
        return;
      }
      if (busy) return;
      if (!looksLikeVideo(file)) {
        say(fill(S.notVideo, { name: file.name }));
        input.focus();
        return;
      }
      if (file.size > settings.maxBytes) {
        say(fill(S.tooBig, { name: file.name, size: R.formatBytes(settings.maxBytes, lang) }));
        input.focus();
        return;
      }
      uppy.getFiles().forEach(function (f) {
        uppy.removeFile(f.id);
      });
      let id;
      try {
        id = uppy.addFile({ name: file.name, type: file.type, data: file, source: "Local", isRemote: false });
      } catch (e) {
        say(e.message);
        return;
      }
      setBusy(true);
      try {
        current = await prepare(file);
      } catch (e) {
        uppy.removeFile(id);
        setBusy(false);
        say(e.message || S.network);
        return;
      }
      uppy.setFileState(id, { s3Multipart: { uploadId: current.uploadId, key: current.key } });
      uppy.upload();
    }

    button.addEventListener("click", begin);

    /* Sent, speed and time left (Uppy's status bar shows the bar). Measured afresh after a pause or a lost
     * connection, so the figures do not jump; no time left once nothing is left to send. */
    const meter = new R.RateMeter();
    let online = navigator.onLine !== false;
    function showProgress(sent, total) {
      const parts = [fill(S.sent, { sent: R.formatBytes(sent, lang), total: R.formatBytes(total, lang) })];
      const rate = online ? meter.rate() : null,
        left = online ? meter.secondsLeft(total) : null;
      if (rate != null) parts.push(fill(S.speed, { speed: R.formatBytes(rate, lang) }));
      if (left != null) parts.push(fill(S.timeLeft, { time: R.formatDuration(left, lang) }));
      speedEl.textContent = parts.join(" · ");
      speedEl.hidden = false;
    }
    uppy.on("upload-progress", function (file, progress) {
      if (!progress.bytesTotal) return;
      meter.add(Date.now(), progress.bytesUploaded);
      showProgress(progress.bytesUploaded, progress.bytesTotal);
    });
    uppy.on("upload-success", function (file, response) {
      forget();
      setBusy(true);
      say(S.done);
      const next = (response && response.body && response.body.entryUrl) || window.location.href;
      setTimeout(function () {
        window.location.assign(next);
      }, 1200);
    });
    uppy.on("upload-error", function (file, error) {
      const status = error && error.source && error.source.status;
      if (status === 404 || status === 409) {
        forget();
        uppy.getFiles().forEach(function (f) {
          uppy.removeFile(f.id);
        });
        setBusy(false);
        say(error.message || S.gone);
        return;
      }
      let reason;
      if (error && error.source instanceof XMLHttpRequest) reason = error.source.status ? S.refused : S.network;
      else reason = (error && error.message) || S.network;
      say(fill(S.failed, { reason: reason }));
    });
    uppy.on("upload-pause", function () {
      meter.reset(); // the time spent paused is not a slow connection
    });
    uppy.on("cancel-all", function () {
      forget();
      setBusy(false);
      meter.reset();
      say(S.cancelled);
    });
    uppy.on("restriction-failed", function (file) {
      // Uppy's own messages list MIME types ("video/*, .mp4…"); ours say it in plain words.
      const name = (file && file.name) || "";
      if (file && file.size > settings.maxBytes)
        say(fill(S.tooBig, { name: name, size: R.formatBytes(settings.maxBytes, lang) }));
      else say(fill(S.notVideo, { name: name }));
    });
    window.addEventListener("offline", function () {
      online = false;
      meter.reset();
      if (busy) say(S.offline);
    });
    window.addEventListener("online", function () {
      online = true;
      meter.reset();
      if (busy) say(S.online);
    });
    window.addEventListener("beforeunload", function (e) {
      const files = uppy.getFiles();
      if (busy && files.length && !files[0].progress.uploadComplete) {
        e.preventDefault();
        e.returnValue = S.leave;
      }
    });
    root.uppy = uppy; // for tests and debugging
  }

  document.addEventListener("DOMContentLoaded", function () {
    const root = document.getElementById("uploader");
    if (root) start(root);
  });
})();
