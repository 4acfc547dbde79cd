/* The builder shows only the fields of the chosen channel: an SMS campaign has no MMS subject
   and no media box; an MMS campaign has no SMS segment facts (the preview handles those). */
(function () {
  "use strict";
  const MMS_ONLY = [".field-mms_subject", "#media-group"];

  function apply(channel) {
    const mms = channel === "mms";
    MMS_ONLY.forEach((selector) => {
      document.querySelectorAll(selector).forEach((node) => {
        node.hidden = !mms;
        node.classList.toggle("cd-hidden-for-channel", !mms);
      });
    });
  }

  function start() {
    const select = document.querySelector("select[name=channel]");
    if (select) {
      apply(select.value);
      select.addEventListener("change", () => apply(select.value));
      return;
    }
    const fixed = document.querySelector(".field-channel .readonly");
    if (fixed) apply(fixed.textContent.trim().toLowerCase());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
