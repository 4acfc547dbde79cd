/* CSV mapping: a column chosen as the phone or a name is not offered again as an extra
   column (its checkbox is hidden and cleared while it is mapped). */
(function () {
  "use strict";

  function start() {
    const form = document.querySelector("form.cd-mapping");
    if (!form) return;
    const selects = ["phone", "first_name", "last_name"].map((n) => form.querySelector("select[name=" + n + "]")).filter(Boolean);
    const apply = () => {
      const mapped = new Set(selects.map((s) => s.value).filter(Boolean));
      form.querySelectorAll("input[name=attributes]").forEach((box) => {
        const item = box.closest("li") || box.closest("#id_attributes > div") || box.parentElement;
        const used = mapped.has(box.value);
        if (used) box.checked = false;
        item.hidden = used;
        item.classList.toggle("cd-mapped-column", used);
      });
    };
    selects.forEach((s) => s.addEventListener("change", apply));
    apply();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
