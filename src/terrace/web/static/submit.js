// The submit page: files dropped on the drop zone join those chosen, the list shows each file with a
// shapefile's sidecars under their .shp (they are uploaded together as one submission), and a bar
// follows the upload. The form is sent by htmx, which swaps in the dry run's answer, a refusal too.
(function () {
  "use strict";
  const SIDECARS = [".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".qpj"];

  function parts(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? [name.slice(0, dot).toLowerCase(), name.slice(dot).toLowerCase()] : [name.toLowerCase(), ""];
  }

  function size(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let unit = 0;
    while (bytes >= 1024 && unit < units.length - 1) { bytes /= 1024; unit++; }
    return (unit ? bytes.toFixed(1) : bytes) + " " + units[unit];
  }

  function list(input) {
    const files = Array.from(input.files);
    const shapefiles = new Set(files.filter(function (f) { return parts(f.name)[1] === ".shp"; })
                                    .map(function (f) { return parts(f.name)[0]; }));
    const rank = function (f) { const [stem, ext] = parts(f.name); return stem + (ext === ".shp" ? "\u0000" : ext); };
    const items = files.sort(function (a, b) { return rank(a) < rank(b) ? -1 : 1; }).map(function (file) {
      const [stem, ext] = parts(file.name);
      const beside = SIDECARS.includes(ext) && shapefiles.has(stem);
      const item = document.createElement("li");
      item.className = beside ? "sidecar" : "";
      item.textContent = file.name + " · " + size(file.size) + (beside ? " · travels with its .shp" : "");
      return item;
    });
    document.getElementById("chosen").replaceChildren(...items);
  }

  function zone(event) {
    return event.target instanceof Element ? event.target.closest(".dropzone") : null;
  }

  document.addEventListener("dragover", function (event) {
    const target = zone(event);
    if (target) { event.preventDefault(); target.classList.add("over"); }
  });
  document.addEventListener("dragleave", function (event) {
    const target = zone(event);
    if (target) { target.classList.remove("over"); }
  });
  // A drop adds to the files already chosen (a file of the same name is replaced).
  document.addEventListener("drop", function (event) {
    const target = zone(event);
    if (!target) { return; }
    event.preventDefault();
    target.classList.remove("over");
    const input = target.querySelector("input[type=file]");
    const files = new DataTransfer();
    const dropped = Array.from(event.dataTransfer.files);
    const names = new Set(dropped.map(function (f) { return f.name; }));
    Array.from(input.files).filter(function (f) { return !names.has(f.name); })
      .concat(dropped).forEach(function (f) { files.items.add(f); });
    input.files = files.files;
    list(input);
  });
  document.addEventListener("change", function (event) {
    if (event.target instanceof Element && event.target.matches(".dropzone input[type=file]")) { list(event.target); }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id !== "upload-form") { return; }
    document.getElementById("upload-progress").hidden = false;
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    if (event.target.id !== "upload-form" || !event.detail.total) { return; }
    const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    document.getElementById("upload-bar").value = percent;
    document.getElementById("upload-percent").textContent = percent + " %";
  });
  // A refused check answers 400 with the page saying why: shown like a success.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.requestConfig.elt.id === "upload-form" && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
