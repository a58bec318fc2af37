// Keeps a library's book list current: when a scan of this library ends (one started by
// a click, a folder watch or the schedule), the list is fetched again and swapped in.
// The resync button already follows that library's scans live (one event stream per
// browser), so this page watches the button's state rather than opening a stream of its own.
const content = document.getElementById("library-books");
const libraryId = content?.dataset.libraryId;
const RUNNING = new Set(["starting", "active", "waiting", "stalled"]);
const ENDED = new Set(["completed", "warning", "failed", "cancelled"]);

async function refreshBooks() {
  const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("library-books");
  if (fresh) content.replaceChildren(...fresh.childNodes);
  const status = document.getElementById("library-books-status");
  if (status) status.textContent = "The book list was updated by the latest scan.";
}

const button = libraryId
  ? document.querySelector(`shisho-resync-button[library-id="${libraryId}"]`)
  : null;
if (button) {
  let previous = button.dataset.state;
  new MutationObserver(() => {
    const state = button.dataset.state;
    if (RUNNING.has(previous) && ENDED.has(state)) refreshBooks();
    previous = state;
  }).observe(button, { attributes: true, attributeFilter: ["data-state"] });
}
