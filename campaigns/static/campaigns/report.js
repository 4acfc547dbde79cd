/* Delivery report: refresh the live figures in place while the campaign runs, reload the
 * timeline image with them, and fetch the Failures table, the country/operator breakdown and
 * the cost line each on its own request.
 * Plain JavaScript, no library; nothing happens when the page lacks the elements.
 */
"use strict";

(function () {
  const number = (n) => Number(n).toLocaleString("en-GB");
  const POLL_MS = 2000;
  const CHART_MS = 5000;

  function set(root, name, text) {
    root.querySelectorAll("[data-live-figure=" + name + "]").forEach((node) => { node.textContent = text; });
  }

  function bars(root, p) {
    [["sent", p.sent, p.sent_pct], ["delivered", p.delivered, p.delivered_pct]].forEach(([name, count, pct]) => {
      const fill = root.querySelector(".cd-fill-" + name);
      const figure = root.querySelector("[data-live-bars] [data-figure=" + name + "]");
      if (fill) {
        fill.setAttribute("width", pct + "%");
        fill.closest(".cd-track").setAttribute("aria-valuenow", pct);
      }
      if (figure) figure.textContent = number(count) + " / " + number(p.sendable) + " (" + pct + " %)";
    });
  }

  function render(root, p) {
    ["total", "sent", "delivered", "failed", "suppressed", "waiting", "unknown"].forEach((k) => set(root, k, number(p[k])));
    set(root, "funnel_sent", number(p.sent));
    set(root, "funnel_delivered", number(p.delivered));
    set(root, "funnel_failed", number(p.failed));
    set(root, "delivery_rate", p.delivery_rate === null ? "—" : p.delivery_rate + " %");
    set(root, "rate", p.rate_per_s === null ? "–" : p.rate_per_s + " msg/s, " + p.segments_per_s + " segments/s");
    set(root, "eta", p.eta);
    set(root, "elapsed", p.elapsed);
    set(root, "sent_segments", number(p.sent_segments) + " of " + number(p.segments));
    const stamp = root.querySelector("[data-live-figure=computed]");
    if (stamp) { stamp.textContent = p.computed_local; stamp.title = p.computed_utc; }
    bars(root, p);
    const badge = document.querySelector(".cd-subtitle .cd-badge");
    if (badge && badge.textContent !== p.status_display) {
      badge.textContent = p.status_display;
      badge.className = "cd-badge cd-badge-" + p.status;
    }
    root.dataset.status = p.status;
  }

  function setUpLive(root) {
    if (root.dataset.live !== "1") return;
    let chartAt = Date.now();
    const poll = () => {
      fetch(root.dataset.liveUrl, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((p) => {
          render(root, p);
          const chart = document.getElementById("cd-timeline");
          if (chart && Date.now() - chartAt >= CHART_MS) {
            chartAt = Date.now();
            chart.src = chart.src.split("?")[0] + "?t=" + chartAt;
          }
          if (p.live) setTimeout(poll, POLL_MS);
          else window.location.replace(window.location.pathname + "?fresh=1"); // the exact final report, once
        })
        .catch(() => setTimeout(poll, POLL_MS * 2));
    };
    setTimeout(poll, POLL_MS);
  }

  /* The Failures table, the country/operator breakdown and the cost: fragments on their own requests. */
  function setUpFragments() {
    document.querySelectorAll("[data-fragment-url]").forEach((box) => {
      const body = box.querySelector("[data-fragment-body]");
      if (!body || !body.querySelector("a")) return;
      fetch(box.dataset.fragmentUrl, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          const doc = new DOMParser().parseFromString(html, "text/html");
          body.replaceChildren(...doc.body.childNodes);
          box.dataset.ready = "1";
        })
        .catch(() => { box.dataset.ready = "error"; });
    });
  }

  function start() {
    const root = document.querySelector(".cd-report[data-live-url]");
    if (root) setUpLive(root);
    setUpFragments();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
