/* Campaign admin: live preview, progress polls, import progress, confirmations.
 *
 * Plain JavaScript, no library: each feature looks for its element and does nothing when
 * the page does not have it. Polls stop when there is nothing left to watch.
 */
"use strict";

(function () {
  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function jsonScript(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const number = (n) => Number(n).toLocaleString("en-GB");

  /* --- Live preview ------------------------------------------------------------------ */

  function previewPayload(form, fixed) {
    const data = new FormData();
    ["body", "channel", "account", "send_rate", "quiet_hours_start", "quiet_hours_end", "campaign"].forEach((name) => {
      const field = form.elements.namedItem(name);
      if (field) data.append(name, field.value);
      else if (fixed[name] !== undefined) data.append(name, fixed[name]);
    });
    const smart = form.elements.namedItem("smart_encoding");  // a checkbox: its value is "on" either way
    if (smart) data.append("smart_encoding", smart.checked ? "1" : "0");
    else if (fixed.smart_encoding !== undefined) data.append("smart_encoding", fixed.smart_encoding);
    const track = form.elements.namedItem("track_links");
    if (track) data.append("track_links", track.checked ? "on" : "");
    else if (fixed.track_links) data.append("track_links", "on");
    form.querySelectorAll("input[name=recipient_lists]:checked").forEach((box) => data.append("recipient_lists", box.value));
    const select = form.querySelector("select[name=recipient_lists]");
    if (select) Array.from(select.selectedOptions).forEach((o) => data.append("recipient_lists", o.value));
    // Shown read-only (a started campaign's account, channel and lists): sent from the panel.
    if (!form.elements.namedItem("recipient_lists")) (fixed.recipient_lists || []).forEach((id) => data.append("recipient_lists", id));
    return data;
  }

  function renderPreview(panel, p) {
    panel.replaceChildren();
    const facts = el("dl", { class: "cd-facts" });
    const fact = (label, value, cls) => {
      facts.append(el("dt", {}, label));
      facts.append(el("dd", cls ? { class: cls, "data-fact": label } : { "data-fact": label }, value));
    };
    if (p.channel === "mms") {
      fact("Channel", "MMS: one message per recipient");
    } else {
      fact("Encoding", p.encoding, p.encoding === "UCS-2" ? "cd-warn" : "cd-ok");
      // A segment is one SMS; its size is counted in characters as the network counts them.
      fact("Segments per message", p.segments + " SMS" + (p.samples.length ? " (" + p.samples[0].units + " characters, up to " +
        p.samples[0].per_segment + " characters per SMS)" : ""));
    }
    fact("Recipients", number(p.recipients) + (p.recipients ? " (before opt-outs)" : ""));
    if (p.frequency_cap) fact("Frequency cap", p.frequency_cap.rule + ": " + p.frequency_cap.message, p.frequency_cap.capped ? "cd-warn" : "");
    fact("Total segments", (p.total_is_estimate ? "≈ " : "") + number(p.total_segments) + (p.channel === "mms" ? " MMS" : " SMS"));
    fact("Estimated cost", p.estimated_cost ? (p.total_is_estimate ? "≈ " : "") + p.estimated_cost : "no price set for this account");
    fact("Estimated duration", p.estimated_duration + (p.pace_per_s ? " at " + number(p.pace_per_s) + "/s" : "") +
      (p.limited_by ? ", limited by " + p.limited_by : ""));
    panel.append(facts);
    if (p.channel !== "mms") {
      panel.append(el("p", { class: "cd-quiet", id: "cd-segment-help" }, "A segment is one SMS: up to 160 characters in GSM-7 " +
        "(70 in UCS-2), or 153 (67) each when a message needs several. € [ ] { } ~ ^ | \\ count as two characters; an emoji as two in UCS-2."));
    }
    if (p.ucs2_chars.length) {
      const why = el("p", { class: "cd-ucs2", id: "cd-ucs2-reason" }, "UCS-2 because of: ");
      p.ucs2_chars.forEach((c) => {
        why.append(el("code", { title: c.code }, c.char + " " + c.code));
        why.append(" ");
      });
      why.append(el("span", { class: "cd-quiet" }, "Replace them to fit 160 characters per SMS instead of 70."));
      panel.append(why);
    }
    renderSmartEncoding(panel, p.smart_encoding);
    p.problems.forEach((problem) => panel.append(el("p", { class: "errornote" }, problem)));
    renderVariableWarnings(panel, p.variable_warnings || []);
    if (p.samples.length) {
      const list = el("ol", { class: "cd-samples" });
      p.samples.forEach((s) => {
        const item = el("li");
        item.append(el("span", { class: "cd-sample-phone" }, s.phone || "(no recipients yet: defaults shown)"));
        const bubble = el("span", { class: "cd-bubble" });
        // An MMS shows its pictures above the text, as the phone will.
        (p.media || []).filter((m) => m.content_type.startsWith("image/")).forEach((m) =>
          bubble.append(el("img", { class: "cd-preview-image", src: m.url, alt: m.name })));
        bubble.append(s.text);
        item.append(bubble);
        item.append(el("span", { class: "cd-quiet" }, s.encoding + ", " + s.segments + " segment" + (s.segments === 1 ? "" : "s")));
        list.append(item);
      });
      panel.append(list);
    }
  }

  /* Smart encoding: what it replaced (or would) and the segments saved, "3 → 1 segment per message". */
  function renderSmartEncoding(panel, smart) {
    if (!smart || !smart.replaced.length) return;
    const box = el("p", { class: smart.applied ? "cd-smart cd-ok" : "cd-smart cd-quiet", id: "cd-smart-encoding" }, smart.message + " ");
    smart.replaced.forEach((r) => {
      box.append(el("code", { title: r.code }, r.char + " → " + r.to + (r.count > 1 ? " ×" + r.count : "")));
      box.append(" ");
    });
    panel.append(box);
  }

  /* Variables some recipients have no value for (and no default): empty for them when sent. */
  function renderVariableWarnings(panel, warnings) {
    if (!warnings.length) return;
    const box = el("ul", { class: "cd-variable-warnings", id: "cd-variable-warnings", role: "status" });
    warnings.forEach((w) => box.append(el("li", { "data-variable": w.variable }, w.message)));
    panel.append(box);
  }

  function setUpPreview() {
    const panel = document.getElementById("cd-preview");
    const url = jsonScript("cd-preview-url");
    const form = panel && panel.closest("form");
    if (!panel || !url || !form) return;
    const fixed = JSON.parse(panel.dataset.fixed || "{}");
    let timer = null;
    let sequence = 0;
    const refresh = () => {
      const mine = ++sequence;
      fetch(url, { method: "POST", body: previewPayload(form, fixed), headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((p) => { if (mine === sequence) { renderPreview(panel, p); panel.dataset.ready = "1"; } })
        .catch(() => { panel.dataset.ready = "error"; });
    };
    const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    refresh();
  }

  /* --- Progress ------------------------------------------------------------------------ */

  function updateBars(root, p) {
    [["sent", p.sent, p.sent_pct], ["delivered", p.delivered, p.delivered_pct]].forEach(([name, count, pct]) => {
      const fill = root.querySelector(".cd-fill-" + name);
      const figure = root.querySelector("[data-figure=" + name + "]");
      if (fill) {
        fill.setAttribute("width", pct + "%");
        fill.closest(".cd-track").setAttribute("aria-valuenow", pct);
      }
      if (figure) figure.textContent = number(count) + " / " + number(p.sendable) + " (" + pct + " %)";
    });
  }

  function setUpDetailPoll() {
    const box = document.querySelector("[data-progress-url]");
    if (!box || box.dataset.live !== "1") return;
    const poll = () => {
      fetch(box.dataset.progressUrl, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((p) => {
          updateBars(box, p);
          const badge = document.querySelector(".cd-subtitle .cd-badge");
          if (badge && badge.textContent !== p.status_display) {
            badge.textContent = p.status_display;
            badge.className = "cd-badge cd-badge-" + p.status;
          }
          if (p.live) setTimeout(poll, 2000);
          else window.location.reload(); // finished: show the buttons that apply now
        })
        .catch(() => setTimeout(poll, 5000));
    };
    setTimeout(poll, 1000);
  }

  function setUpListPoll() {
    const url = jsonScript("cd-progress-list-url");
    if (!url) return;
    const poll = () => {
      const live = Array.from(document.querySelectorAll(".cd-progress[data-live='1']"));
      if (!live.length) return;
      const query = live.map((n) => "id=" + encodeURIComponent(n.dataset.campaign)).join("&");
      fetch(url + "?" + query, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((all) => {
          live.forEach((node) => {
            const p = all[node.dataset.campaign];
            if (!p) return;
            updateBars(node, p);
            if (!p.live) node.dataset.live = "0";
          });
          setTimeout(poll, 3000);
        })
        .catch(() => setTimeout(poll, 6000));
    };
    setTimeout(poll, 2000);
  }

  /* --- Import progress ------------------------------------------------------------------- */

  function setUpImportPoll() {
    const box = document.getElementById("cd-import");
    if (!box || box.dataset.finished === "1") return;
    const poll = () => {
      fetch(box.dataset.importProgressUrl, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((s) => {
          ["rows", "imported", "duplicates", "rejected"].forEach((k) => {
            const node = box.querySelector("[data-field=" + k + "]");
            if (node) node.textContent = number(s[k]);
          });
          const status = box.querySelector("[data-field=status_display]");
          if (status) status.textContent = s.status_display;
          if (s.finished) window.location.reload();
          else setTimeout(poll, 1000);
        })
        .catch(() => setTimeout(poll, 3000));
    };
    setTimeout(poll, 500);
  }

  /* --- Confirmations ------------------------------------------------------------------- */

  function setUpConfirmations() {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  function start() {
    setUpPreview();
    setUpDetailPoll();
    setUpListPoll();
    setUpImportPoll();
    setUpConfirmations();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
