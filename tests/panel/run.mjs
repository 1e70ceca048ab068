// Drives the Marque web panel in headless Chromium (Debian's `chromium`) with playwright-core.
//
// Usage: node run.mjs  (environment below; the Rust test crates/admin/tests/panel_browser.rs
// starts the server, seeds two tenants through the API and runs this script)
//   PANEL_URL         http://127.0.0.1:PORT (the panel is at /admin)
//   PANEL_PORT        the port, for the branded hostname mapped to 127.0.0.1
//   RESELLER_LOGIN / RESELLER_PASSWORD   an administrator of the first tenant
//   POSTMASTER_LOGIN / POSTMASTER_PASSWORD  the postmaster of a domain of another tenant
//   BRAND_HOST, BRAND_NAME (optional)     a branded hostname and the name it must show
//   PROVIDER_NAME     the provider's brand name, which the branded pages must not show
//   SCREENSHOTS       directory for one screenshot per page
//   CHROMIUM          the browser binary (default /usr/bin/chromium)
// Exits non-zero with a message on the first failed expectation.

import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`missing environment variable ${k}`);
  return v;
};
const BASE = env("PANEL_URL");
const PORT = env("PANEL_PORT");
const SHOTS = env("SCREENSHOTS");
const BRAND_HOST = process.env.BRAND_HOST || "";
const BRAND_NAME = process.env.BRAND_NAME || "";
fs.mkdirSync(SHOTS, { recursive: true });

function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page, base, login, password) {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel("User name or email address").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("load");
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/admin\/login$/);
}

const args = ["--no-sandbox", "--disable-dev-shm-usage"];
if (BRAND_HOST) args.push(`--host-resolver-rules=MAP ${BRAND_HOST} 127.0.0.1`);
const browser = await chromium.launch({
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  args,
});
try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();

  // Sign-in failure: one message whatever was wrong.
  await signIn(page, BASE, env("RESELLER_LOGIN"), "wrong password");
  expect(await page.getByRole("alert").isVisible(), "a failed sign-in shows an error");
  await shot(page, "01-login-failed");

  // The reseller signs in and sees its dashboard.
  await signIn(page, BASE, env("RESELLER_LOGIN"), env("RESELLER_PASSWORD"));
  expect(page.url().endsWith("/admin"), "the reseller lands on the dashboard");
  expect(await page.getByRole("link", { name: "Create account" }).isVisible(), "'Create account' is shown");
  expect(await page.getByRole("searchbox").count() > 0, "a search field is shown");
  await shot(page, "02-dashboard");

  // Creates a customer, a domain and a mailbox.
  await page.getByRole("link", { name: "Create account" }).click();
  await shot(page, "03-create-account");
  await page.getByLabel("Name").fill("Widget Co");
  await page.getByLabel(/Storage pool/).fill("4096");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Account Widget Co created"), "the customer is created");
  await shot(page, "04-customer");
  await page.getByLabel("Domain name").fill("widget.test");
  await page.getByRole("button", { name: "Create domain" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Domain widget.test created"), "the domain is created");
  await page.getByLabel(/^Mailbox name/).fill("alice");
  await page.locator("input[name=password]").fill("alice-password-123");
  await page.getByLabel("Storage").selectOption({ label: "1.0 GiB" });
  await page.getByRole("button", { name: "Create mailbox" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Mailbox alice@widget.test created"), "the mailbox is created");
  await page.getByLabel(/^Alias/).fill("sales");
  await page.getByLabel(/^Delivers to/).fill("alice@widget.test");
  await page.getByRole("button", { name: "Create alias" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Alias sales@widget.test created"), "the alias is created");
  await shot(page, "05-domain");

  // Finds them in the lists and through search.
  await page.goto(`${BASE}/admin/customers`);
  expect(await page.getByRole("link", { name: "Widget Co" }).isVisible(), "the customer is in the list");
  await shot(page, "06-customers");
  await page.goto(`${BASE}/admin/domains`);
  expect(await page.getByRole("link", { name: "widget.test" }).isVisible(), "the domain is in the list");
  await shot(page, "07-domains");
  await page.goto(`${BASE}/admin/domains/widget.test`);
  expect(await page.getByRole("link", { name: "alice@widget.test" }).isVisible(), "the mailbox is in the list");
  await page.goto(`${BASE}/admin`);
  await page.getByRole("searchbox").fill("alice");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForLoadState("load");
  expect(await page.getByRole("link", { name: "alice@widget.test" }).isVisible(), "search finds the mailbox");
  await shot(page, "08-search");
  await page.getByRole("link", { name: "alice@widget.test" }).click();
  await shot(page, "09-mailbox");

  // Downloads the usage CSV.
  await page.goto(`${BASE}/admin/usage`);
  await shot(page, "10-usage");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download CSV" }).click(),
  ]);
  const csvPath = path.join(SHOTS, "usage.csv");
  await download.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, "utf8");
  expect(download.suggestedFilename().endsWith(".csv"), "the download is a .csv file");
  expect(csv.split("\n")[0].includes(","), "the CSV has a header line");
  expect(csv.includes("Widget Co"), "the CSV names the new customer");

  // Reselling pages: plans, managers, credit, activations.
  await page.goto(`${BASE}/admin/plans`);
  await page.getByLabel("Name", { exact: true }).fill("Basic");
  await page.getByRole("button", { name: "Create plan" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Plan Basic created"), "a plan is created");
  await shot(page, "10a-plans");
  await page.goto(`${BASE}/admin/managers`);
  await page.getByLabel("Login", { exact: true }).fill("helper");
  await page.getByLabel("Password", { exact: true }).fill("helper-password-1");
  await page.getByLabel(/^Domains, for helpdesk/).fill("widget.test");
  await page.getByRole("button", { name: "Create manager" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("Manager helper created"), "a helpdesk manager is created");
  await shot(page, "10b-managers");
  await page.goto(`${BASE}/admin/credit`);
  await page.getByLabel("Credits", { exact: true }).fill("25");
  await page.getByRole("button", { name: "Top up" }).click();
  await page.waitForLoadState("load");
  expect((await page.textContent("main")).includes("balance is 25"), "a customer's credit is topped up");
  await shot(page, "10c-credit");
  await page.goto(`${BASE}/admin/activations`);
  await shot(page, "10d-activations");

  // Logs.
  await page.goto(`${BASE}/admin/logs/auth`);
  expect((await page.textContent("main")).includes("panel"), "the panel sign-in is in the authentication log");
  await shot(page, "11-auth-log");
  await page.goto(`${BASE}/admin/logs/transactions`);
  await shot(page, "12-transactions");

  // A phone-sized window.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/admin`);
  await shot(page, "13-dashboard-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent) === "Skip to content", "the skip link is the first stop");
  await signOut(page);

  // The postmaster of another tenant sees none of the first tenant's objects.
  await signIn(page, BASE, env("POSTMASTER_LOGIN"), env("POSTMASTER_PASSWORD"));
  await shot(page, "14-postmaster");
  const own = await page.textContent("body");
  expect(!own.includes("widget.test") && !own.includes("Widget Co"), "the postmaster's page names nothing of the other tenant");
  const resp = await page.goto(`${BASE}/admin/domains/widget.test`);
  expect(resp.status() === 404, "the other tenant's domain is not found for the postmaster");
  await shot(page, "15-postmaster-foreign-domain");
  const mb = await page.goto(`${BASE}/admin/mailboxes/alice@widget.test`);
  expect(mb.status() === 404, "the other tenant's mailbox is not found for the postmaster");
  await page.goto(`${BASE}/admin/search?q=widget`);
  expect(!(await page.textContent("main")).includes("widget.test"), "search finds nothing of the other tenant");
  await page.goto(`${BASE}/admin/logs/transactions?address=alice@widget.test`);
  expect(!(await page.textContent("main")).includes("alice@widget.test</"), "the transaction log shows nothing of the other tenant");
  await page.goto(`${BASE}/admin/me/vacation`);
  await shot(page, "16-vacation");
  await page.goto(`${BASE}/admin/password`);
  await shot(page, "17-password");
  await signOut(page);

  // A branded hostname shows its brand's name and logo, and not the provider's.
  if (BRAND_HOST) {
    const branded = `http://${BRAND_HOST}:${PORT}`;
    await page.goto(`${branded}/admin/login`);
    await shot(page, "18-branded-login");
    const text = await page.textContent("body");
    expect(text.includes(BRAND_NAME), `the branded login page shows "${BRAND_NAME}"`);
    const provider = env("PROVIDER_NAME");
    expect(!text.includes(provider), "the provider's brand appears nowhere on the branded page");
    await signIn(page, branded, env("RESELLER_LOGIN"), env("RESELLER_PASSWORD"));
    const inside = await page.textContent("body");
    expect(inside.includes(BRAND_NAME) && !inside.includes(provider), "the branded dashboard shows the brand only");
    expect(await page.getByRole("link", { name: "Support" }).count() === 1, "the brand's support link is shown");
    await shot(page, "19-branded-dashboard");
    const logo = page.locator("img.logo");
    expect(await logo.count() === 1, "the brand's logo is shown");
    const loaded = await logo.evaluate((img) => img.complete && img.naturalWidth > 0);
    expect(loaded, "the logo image loads");
  }
  console.log("all panel checks passed");
} finally {
  await browser.close();
}
