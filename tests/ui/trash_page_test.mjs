// The web Trash page in a real browser (Debian's chromium, driven by playwright-core)
// against the real trashd with seeded data: every scenario of issue 12, a screenshot
// of each state under the output folder and an accessibility check (axe-core). With
// --big N it also measures the page's figures (Performance API) on a Trash of N items,
// reported, never asserted as timings: scripts/bench.sh runs it that way, with
// --figures-only (no scenarios), and ctest's ui_trash_page without them.
//
//   node trash_page_test.mjs --trashd BIN --trashctl BIN --out DIR [--chromium BIN]
//   [--big N]  (the size of the Trash the figures are measured on; default 0: none)
//   [--figures-only]
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Daemon, setUpWorkspace } from './daemon.mjs';
import { seedBig, measureFigures } from './figures.mjs';

const require = createRequire(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const OUT = arg('out', path.resolve('ui-output'));
const SHOTS = path.join(OUT, 'screenshots');
mkdirSync(SHOTS, { recursive: true });

let passed = 0, failed = 0, shotNo = 0;
function check(cond, what) { if (!cond) throw new Error('expected: ' + what); }
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log('ok - ' + name);
  } catch (e) {
    failed++;
    console.log('not ok - ' + name + '\n  ' + (e.stack || e).toString().split('\n').join('\n  '));
  }
}
async function shot(page, name) {
  shotNo++;
  const file = path.join(SHOTS, String(shotNo).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file, fullPage: true });
}

// ---- the seeded workspace ------------------------------------------------------------

const IMG_OWN = Buffer.alloc(42648, 'cars-only image ');
const IMG_SHARED = Buffer.alloc(18000, 'shared image ');

async function seed(d) {
  const key = setUpWorkspace(d, 'acme', { quota: 5_000_000 });
  const k = { key };
  const project = (name) => d.ok('POST', '/acme/projects', { ...k, body: { name } });
  for (const p of ['Cars', 'Boats', 'Drones', 'Planes']) await project(p);
  await d.ok('PUT', '/acme/cars/images/front.jpg', { ...k, raw: IMG_OWN });
  await d.ok('PUT', '/acme/cars/images/shared.jpg', { ...k, raw: IMG_SHARED });
  await d.ok('PUT', '/acme/boats/images/shared.jpg', { ...k, raw: IMG_SHARED });
  await d.ok('POST', '/acme/cars/generate', { ...k, body: { name: 'Cars v1' } });
  await d.ok('POST', '/acme/cars/models', { ...k, body: { name: 'Cars detector', url: 'cars-detector' } });
  for (const v of ['Drones v1', 'Drones v2']) await d.ok('POST', '/acme/drones/generate', { ...k, body: { name: v } });
  await d.ok('POST', '/acme/drones/models', { ...k, body: { name: 'Drone tracker', url: 'drone-tracker' } });
  await d.ok('PUT', '/acme/drones/models/drone-tracker/weights', { ...k, raw: Buffer.alloc(30000, 'w') });
  await d.ok('POST', '/acme/datasets', { ...k, body: { name: 'Street signs', url: 'street-signs' } });
  await d.ok('PUT', '/acme/datasets/street-signs/images/stop.png', { ...k, raw: Buffer.alloc(12000, 's') });
  for (const w of ['Nightly export', 'Label sync']) {
    await d.ok('POST', '/acme/createWorkflow?name=' + encodeURIComponent(w) + '&url=' +
      w.toLowerCase().replace(' ', '-'), k);
  }
  // The deletes, oldest first. A version and a model of Drones go before Drones (T7).
  await d.ok('DELETE', '/acme/drones/2', k);
  await d.ok('DELETE', '/acme/drones/models/drone-tracker', k);
  await d.ok('DELETE', '/acme/drones', k);
  await d.ok('DELETE', '/acme/planes', k);
  await d.ok('POST', '/acme/projects', { ...k, body: { name: 'Planes' } });  // takes the slug (R3)
  await d.ok('DELETE', '/acme/datasets/street-signs', k);
  await d.ok('DELETE', '/acme/workflows/nightly-export', k);
  await d.ok('DELETE', '/acme/workflows/label-sync', k);
  await d.ok('DELETE', '/acme/cars?cleanupDeleteImages=true', k);
  const trash = await d.ok('GET', '/acme/trash', k);
  const sync = trash.items.find((i) => i.name === 'Label sync');
  d.ctl(['trash', 'hold', 'acme', 'workflow', sync.id]);
  // A member whose role may look and restore, not purge.
  d.ctl(['role', 'create', 'acme', 'helper', 'view_trash', 'restore_project', 'restore_version',
    'restore_model', 'restore_dataset', 'restore_workflow']);
  d.ctl(['member', 'add', 'acme', 'vic', '--role', 'helper', '--name', 'Vic Helper']);
  d.ctl(['member', 'set-password', 'acme', 'vic'], 'vic password\n');
  return { key, trash };
}

// ---- the page ----------------------------------------------------------------------

async function logIn(page, base, member, password) {
  await page.goto(base + '/trash?workspace=acme');  // redirects to /ui/
  await page.waitForSelector('html[data-ready]');
  check(!(await page.isHidden('#login-view')), 'the log-in form');
  // The keyboard alone: the workspace is filled in from the link, the focus is on the
  // member id.
  await page.keyboard.type(member);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

// The rows shown: each its name and all its text.
async function rowsText(page) {
  return page.$$eval('#rows tr:not(.group)', (rows) => rows.map((r) => ({
    name: r.querySelector('.name').innerText, text: r.innerText })));
}
const named = (rows, name) => rows.find((r) => r.name === name);
// Runs `act` and waits until the page has drawn the list (and with `both`, the usage
// and treemap) again after it.
async function loads(page, act, both) {
  const names = both ? ['trash-load', 'usage-load'] : ['trash-load'];
  const count = () => page.evaluate((ns) => ns.map((n) => performance.getEntriesByName(n).length), names);
  const before = await count();
  await act();
  await page.waitForFunction(([ns, b]) => ns.every((n, i) => performance.getEntriesByName(n).length > b[i]),
    [names, before]);
}

async function axeCheck(page, what) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(() => window.axe.run(document,
    { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  const bad = result.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
  check(bad.length === 0, what + ' passes axe-core, but: ' + bad.join('; '));
}

async function main() {
  const d = new Daemon({ trashd: arg('trashd'), trashctl: arg('trashctl') });
  await d.start();
  const browser = await chromium.launch({ executablePath: arg('chromium', '/usr/bin/chromium'),
    args: ['--no-sandbox'] });
  const figures = {};
  try {
    if (!process.argv.includes('--figures-only')) {
      const { key } = await seed(d);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await scenarios(d, page, context, key);
      await context.close();
    }
    const big = Number(arg('big', '0'));
    if (big > 0) {
      const member = await seedBig(d, 1000, 'thousand');
      Object.assign(figures, await measureFigures(browser, d, 'thousand', member, 'interactive', 1000));
      const member2 = await seedBig(d, big, 'big');
      Object.assign(figures, await measureFigures(browser, d, 'big', member2, 'search', big));
    }
  } finally {
    await browser.close();
    writeFileSync(path.join(OUT, 'daemon.log'), d.log);
    await d.stop();
  }
  writeFileSync(path.join(OUT, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
  console.log('figures: ' + JSON.stringify(figures));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

async function scenarios(d, page, context, key) {
  await step('a wrong password is refused and said so', async () => {
    await logIn(page, d.base, 'alice', 'not the password');
    await page.waitForSelector('#login-error:not([hidden])');
    check((await page.textContent('#login-error')).includes('Wrong member or password'), 'the refusal');
    check(page.url().endsWith('/ui/?workspace=acme'), '/trash redirects to /ui/');
    await axeCheck(page, 'the log-in form');
    await shot(page, 'login-refused');
  });

  await step('log in and see every column', async () => {
    await page.fill('#login-password', 'alice password');
    await loads(page, () => page.press('#login-password', 'Enter'), true);
    const heads = await page.$$eval('#items thead th', (t) => t.map((h) => h.innerText.trim().toLowerCase()));
    for (const h of ['name', 'type', 'deleted by', 'deleted at', 'days left', 'size']) {
      check(heads.includes(h), 'a column ' + h);
    }
    const rows = await rowsText(page);
    const cars = named(rows, 'Cars');
    check(cars && cars.text.includes('+2'), 'Cars carries +2 (its version and model)');
    check(cars.text.includes('Images deleted at purge'), 'the amber marker on Cars');
    check(cars.text.includes('Alice Martin') && cars.text.includes('30d'), 'deleted by and days left');
    const v2 = named(rows, 'Drones v2');
    check(v2 && v2.text.includes('in project Drones') && v2.text.includes('also in the Trash'), 'parentInTrash');
    check(named(rows, 'Label sync').text.includes('On hold'), 'the hold marker');
    check(await page.locator('#treemap svg rect').count() >= 4, 'the treemap');
    check(await page.locator('#treemap svg rect.nested').count() === 1, 'the model inside Drones');
    check((await page.textContent('#usage-text')).includes('quota'), 'usage against quota');
    await axeCheck(page, 'the Trash page');
    await shot(page, 'trash-1280');
  });

  await step('the page at 390 px wide', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);  // the treemap is drawn again for the new width
    await shot(page, 'trash-390');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    check(overflow <= 390, 'no sideways scrolling at 390 px (width ' + overflow + ')');
    await axeCheck(page, 'the Trash page at 390 px');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('filter by type', async () => {
    await loads(page, () => page.click('#tabs button[data-type="workflow"]'));
    const rows = await rowsText(page);
    check(rows.length === 2 && rows.every((r) => r.text.includes('Workflow')), 'only the two workflows');
    await shot(page, 'filter-workflows');
    await loads(page, () => page.click('#tabs button[data-type="all"]'));
  });

  await step('search by name, answered by the daemon', async () => {
    await page.focus('#search');
    await loads(page, () => page.keyboard.type('car'));
    check((await rowsText(page))[0].name === 'Cars', 'only Cars matches "car"');
    await shot(page, 'search-car');
    await loads(page, () => page.fill('#search', ''));
  });

  await step('restore one, back in GET /:ws under a new url (R3)', async () => {
    const row = page.locator('#rows tr', { has: page.locator('.name', { hasText: /^Planes$/ }) });
    await loads(page, () => row.locator('button', { hasText: 'Restore' }).click(), true);
    const text = await page.textContent('#outcome');
    check(text.includes('Restored project Planes as "planes-2"'), 'the rename: ' + text);
    const ws = await d.ok('GET', '/acme', { key });
    check(ws.workspace.projects.some((p) => p.id === 'acme/planes-2'), 'planes-2 in GET /acme');
    await shot(page, 'restored-renamed');
  });

  await step('restoring a version whose project is in the Trash shows R2', async () => {
    const row = page.locator('#rows tr', { has: page.locator('.name', { hasText: /^Drones v2$/ }) });
    const button = row.locator('button', { hasText: 'Restore' });
    check(await button.getAttribute('aria-disabled') === 'true', 'its own Restore is disabled');
    check((await button.getAttribute('data-tip')).includes('restore the project first'), 'and says why');
    await row.locator('input[type=checkbox]').check();
    await loads(page, () => page.click('#restore-selected'), true);
    const text = await page.textContent('#outcome');
    check(text.includes('Cannot restore version while its parent project is in trash. Restore the project first.'),
      'the R2 message: ' + text);
    await shot(page, 'restore-r2');
    await row.locator('input[type=checkbox]').uncheck();
  });

  await step('Delete Permanently asks for the name; the exclusive image goes, the shared stays', async () => {
    check(d.blobExists('acme', IMG_OWN) && d.blobExists('acme', IMG_SHARED), 'both images on disk');
    const row = page.locator('#rows tr', { has: page.locator('.name', { hasText: /^Cars$/ }) });
    await row.locator('button', { hasText: 'Delete' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog#confirm[open]');
    const what = await page.textContent('#confirm-what');
    check(what.includes('2 items inside') && what.includes('1 image used by nothing else'), 'what goes: ' + what);
    check(what.includes('1 image shared'), 'what stays: ' + what);
    await page.keyboard.type('Car');
    check(await page.isDisabled('#confirm-ok'), 'the button stays disabled for a wrong name');
    await shot(page, 'delete-wrong-name');
    await page.keyboard.type('s');
    check(!(await page.isDisabled('#confirm-ok')), 'the right name enables it');
    await axeCheck(page, 'the confirmation dialog');
    await shot(page, 'delete-right-name');
    await loads(page, () => page.keyboard.press('Enter'), true);
    check(!(await page.locator('dialog#confirm').evaluate((dlg) => dlg.open)), 'the dialog closed');
    check(!named(await rowsText(page), 'Cars'), 'Cars is gone from the list');
    check(!d.blobExists('acme', IMG_OWN), 'the exclusive image file is gone from disk');
    check(d.blobExists('acme', IMG_SHARED), 'the shared image file stays');
    const audit = await d.ok('GET', '/acme/audit', { key });
    const entry = audit.entries.find((e) => e.action === 'purge' && e.ok);
    check(entry && entry.via === 'web' && entry.actor === 'alice', 'the audit entry: member and web');
    await shot(page, 'deleted');
  });

  await step('Restore All puts a model back with its project though it is listed first', async () => {
    const rows = await rowsText(page);
    const model = rows.findIndex((r) => r.name === 'Drone tracker');
    const drones = rows.findIndex((r) => r.name === 'Drones');
    check(model >= 0 && drones > model, 'the model is listed before its project');
    await loads(page, () => page.click('#restore-all'), true);
    const text = await page.textContent('#outcome');
    check(text.includes('Restored project Drones') && text.includes('Restored model Drone tracker'), text);
    await d.ok('GET', '/acme/drones', { key });
    await d.ok('GET', '/acme/drones/2', { key });
    await shot(page, 'restore-all');
  });

  await step('Empty Trash asks for the workspace', async () => {
    for (const t of ['/acme/drones', '/acme/workflows/nightly-export', '/acme/datasets/street-signs',
      '/acme/workflows/label-sync']) {
      await d.ok('DELETE', t, { key });
    }
    const sync = (await d.ok('GET', '/acme/trash', { key })).items.find((i) => i.name === 'Label sync');
    d.ctl(['trash', 'hold', 'acme', 'workflow', sync.id]);
    await page.reload();
    await page.waitForFunction(() => performance.getEntriesByName('trash-load').length &&
      performance.getEntriesByName('usage-load').length);
    await page.click('#empty-trash');
    await page.waitForSelector('dialog#confirm[open]');
    await page.fill('#confirm-input', 'acm');
    check(await page.isDisabled('#confirm-ok'), 'disabled for a wrong workspace');
    await page.fill('#confirm-input', 'acme');
    await shot(page, 'empty-trash-dialog');
    await loads(page, () => page.click('#confirm-ok'), true);
    const rows = await rowsText(page);
    check(rows.length === 1 && rows[0].name === 'Label sync', 'only the held item stays: ' + JSON.stringify(rows));
    await shot(page, 'emptied');
  });

  await step('a change without the CSRF token is refused', async () => {
    const status = await page.evaluate(async () => (await fetch('/ui/api/acme/trash/empty', {
      method: 'POST', body: JSON.stringify({ confirm: 'acme' }) })).status);
    check(status === 403, 'refused with 403, got ' + status);
    const keyed = await d.api('POST', '/ui/api/acme/trash/empty', { key, body: { confirm: 'acme' } });
    check(keyed.status === 401, 'an API key gets 401');
  });

  await step('a member without purge_trash sees the buttons disabled, and the route refuses', async () => {
    await d.ok('DELETE', '/acme/boats', { key });
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    await page.fill('#login-member', 'vic');
    await page.fill('#login-password', 'vic password');
    await loads(page, () => page.press('#login-password', 'Enter'), true);
    const del = page.locator('#rows tr', { has: page.locator('.name', { hasText: /^Boats$/ }) })
      .locator('button', { hasText: 'Delete' });
    check(await del.getAttribute('aria-disabled') === 'true', 'Delete is disabled');
    check((await del.getAttribute('data-tip')).includes('lacks the purge_trash permission'), 'with the reason');
    check(await page.getAttribute('#empty-trash', 'aria-disabled') === 'true', 'Empty Trash is disabled');
    await del.focus();
    await shot(page, 'no-purge-permission');
    const status = await page.evaluate(async (csrf) => (await fetch('/ui/api/acme/trash/empty', {
      method: 'POST', headers: { 'X-CSRF-Token': csrf },
      body: JSON.stringify({ confirm: 'acme' }) })).status,
    await page.evaluate(async () => (await (await fetch('/ui/api/session')).json()).csrfToken));
    check(status === 403, 'the route refuses with 403, got ' + status);
  });

  await step('log out, and the cookie no longer works', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'trashd_session');
    check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'an HttpOnly, Strict cookie');
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    const r = await d.api('GET', '/ui/api/acme/trash', { headers: { Cookie: 'trashd_session=' + cookie.value } });
    check(r.status === 401, 'the old cookie gets 401, got ' + r.status);
    await shot(page, 'logged-out');
  });

  await step('removing a member ends their session at once; the last owner stays', async () => {
    let refused = '';
    try { d.ctl(['member', 'remove', 'acme', 'alice']); } catch (e) { refused = String(e.stderr || e.message); }
    check(refused.includes('last owner'), 'the last owner cannot be removed: ' + refused);
    await page.fill('#login-member', 'vic');
    await page.fill('#login-password', 'vic password');
    await loads(page, () => page.press('#login-password', 'Enter'), true);
    const removed = d.ctl(['member', 'remove', 'acme', 'vic']);
    check(removed.member === 'vic' && removed.removed === true, 'removed: ' + JSON.stringify(removed));
    await page.fill('#search', 'Bo');
    await page.waitForSelector('#login-view:not([hidden])');
    const why = await page.textContent('#login-error');
    check(why.includes('session has ended'), 'the page says why: ' + why);
    await shot(page, 'member-removed');
  });
}

main().catch((e) => {
  console.log('not ok - the run itself\n  ' + (e.stack || e));
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
