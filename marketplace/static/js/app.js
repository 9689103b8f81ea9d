// Small progressive enhancements; every page works without them.
"use strict";

function cellValue(row, index) {
  const cell = row.children[index];
  const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  const number = Number(raw);
  return raw !== "" && !Number.isNaN(number) ? number : raw.toLowerCase();
}

function makeSortable(table) {
  const headers = table.querySelectorAll("th[data-sort]");
  headers.forEach((header) => {
    header.addEventListener("click", () => {
      const index = Array.from(header.parentNode.children).indexOf(header);
      const ascending = !header.classList.contains("sorted-asc");
      headers.forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
      header.classList.add(ascending ? "sorted-asc" : "sorted-desc");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = cellValue(a, index);
        const y = cellValue(b, index);
        if (x < y) return ascending ? -1 : 1;
        if (x > y) return ascending ? 1 : -1;
        return 0;
      });
      rows.forEach((row) => body.appendChild(row));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach(makeSortable);
});

// A new account's time zone: the browser's own, when the form still shows the default and the zone is one the
// server knows (the list the field suggests). Without JavaScript the field keeps UTC, and the user types theirs.
function guessTimezone(input) {
  if (input.value !== "UTC" || input.dataset.guessed) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  const known = document.getElementById(input.getAttribute("list"));
  if (zone && known && known.querySelector(`option[value="${CSS.escape(zone)}"]`)) {
    input.value = zone;
    input.dataset.guessed = "1";
  }
}

// A read-only link with a Copy button next to it (the invitation link).
function addCopyButton(input) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary small";
  button.textContent = "Copy link";
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (error) {
      document.execCommand("copy");
    }
    button.textContent = "Copied";
  });
  input.insertAdjacentElement("afterend", button);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-guess-timezone]").forEach(guessTimezone);
  document.querySelectorAll("input[data-copy]").forEach(addCopyButton);
});
