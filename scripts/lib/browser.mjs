// What the browser checks share: Debian's chromium driven by playwright-core, a PASS/FAIL line per
// claim, a page watcher for script errors and requests leaving an origin, and the exit code.
// ensure_playwright (scripts/lib/common.sh) copies this file next to playwright-core in
// DRIVER_DIR, where the checks write their drivers and node resolves the package.
import { chromium } from "playwright-core";

const results = [];

/** Records one claim and prints it as a PASS or FAIL line. */
export const check = (name, ok, detail = "") => {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
};

/** Script errors on a page, and every request that leaves `origin` (data: URLs aside). */
export const watch = (page, origin) => {
  const seen = { problems: [], foreign: [] };
  page.on("pageerror", (e) => seen.problems.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") seen.problems.push(m.text()); });
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(origin + "/") && !url.startsWith("data:")) seen.foreign.push(url);
  });
  return seen;
};

/** true once the promise resolves, false when it rejects (a wait that timed out). */
export const waited = (promise) => promise.then(() => true, () => false);

/** Headless chromium with nothing of its own going to the network. */
export const launch = () => chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

/** Prints the tally as `<label>: N passed, N failed` and exits 0 only when every claim held. */
export const finish = (label) => {
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${label}: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
};
