/* Upload speed and time left for the clip uploader (uploader.js), steady across pauses and lost connections.
 * Speed is measured over the last few seconds of progress only. The uploader calls reset() when the connection drops
 * or comes back and when the upload is paused or resumed, and progress going backwards (parts sent again) resets it
 * too: the measurement starts afresh instead of averaging over the gap (which made the figures jump).
 * Numbers and units are written by Intl.NumberFormat in the page's language. */
(function (global) {
  "use strict";

  const UNITS = ["B", "KB", "MB", "GB"];

  function RateMeter(options) {
    const opts = options || {};
    this.windowMs = opts.windowMs || 8000;
    this.minSpanMs = opts.minSpanMs || 1000;
    this.reset();
  }

  /* Forget what was measured: after the connection drops or comes back, the speed before it says nothing. */
  RateMeter.prototype.reset = function () {
    this.samples = [];
  };

  /* Record that `bytes` had been sent at time `t` (ms). */
  RateMeter.prototype.add = function (t, bytes) {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last[1]) this.samples = [];
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - this.samples[0][0] > this.windowMs) this.samples.shift();
  };

  /* Bytes per second, or null while there is not enough recent progress to tell. */
  RateMeter.prototype.rate = function () {
    if (this.samples.length < 2) return null;
    const first = this.samples[0],
      last = this.samples[this.samples.length - 1];
    const span = last[0] - first[0];
    if (span < this.minSpanMs) return null;
    return Math.max(0, ((last[1] - first[1]) * 1000) / span);
  };

  /* Whole seconds left to send `total` bytes, or null when nothing is left or the speed is unknown or zero. */
  RateMeter.prototype.secondsLeft = function (total) {
    const rate = this.rate();
    if (!rate || !this.samples.length) return null;
    const remaining = total - this.samples[this.samples.length - 1][1];
    if (remaining <= 0) return null;
    return Math.max(1, Math.ceil(remaining / rate));
  };

  /* 1,5 MB (vi) / 1.5 MB (en): binary multiples, the page's decimal separator. */
  function formatBytes(n, lang) {
    let i = 0;
    while (n >= 1024 && i < UNITS.length - 1) {
      n /= 1024;
      i++;
    }
    return new Intl.NumberFormat(lang, { maximumFractionDigits: i ? 1 : 0 }).format(n) + " " + UNITS[i];
  }

  /* "3 phút" / "3 minutes", "40 giây" / "40 seconds": minutes (rounded up) from one minute on. */
  function formatDuration(seconds, lang) {
    const minutes = seconds >= 60;
    return new Intl.NumberFormat(lang, {
      style: "unit",
      unit: minutes ? "minute" : "second",
      unitDisplay: "long",
    }).format(minutes ? Math.ceil(seconds / 60) : seconds);
  }

  global.PortalUploadRate = { RateMeter: RateMeter, formatBytes: formatBytes, formatDuration: formatDuration };
})(window);
