// The page's figures (issue 12's targets), measured in the browser with the
// Performance API and reported, never asserted: how soon the page is usable with
// 1,000 items in the Trash, how fast a search and a sort answer with 100,000, and
// what the page's own files weigh and how they are cached.
import { setUpWorkspace } from './daemon.mjs';

// Workspace `ws` with `n` workflows in its Trash, created and deleted through the API
// by a few clients at once. Answers alice's log-in.
export async function seedBig(d, n, ws) {
  const key = setUpWorkspace(d, ws);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const url = 'flow-' + i;
      await d.ok('POST', `/${ws}/createWorkflow?name=Flow%20${i}&url=${url}`, { key });
      await d.ok('DELETE', `/${ws}/workflows/${url}`, { key });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 24 }, worker));
  console.log(`# seeded ${n} trashed workflows in ${ws} in ${Date.now() - started} ms`);
  return { member: 'alice', password: 'alice password' };
}

async function loggedInPage(browser, d, ws, who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${d.base}/ui/?workspace=${ws}`);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#login-member', who.member);
  await page.fill('#login-password', who.password);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#trash-view:not([hidden])');
  return { context, page };
}

// The duration of the list's next load after `act` (request, answer and drawing).
async function nextLoad(page, act) {
  const before = await page.evaluate(() => performance.getEntriesByName('trash-load').length);
  await act();
  await page.waitForFunction((n) => performance.getEntriesByName('trash-load').length > n, before);
  return page.evaluate(() => {
    const all = performance.getEntriesByName('trash-load');
    return Math.round(all[all.length - 1].duration);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measureFigures(browser, d, ws, who, kind, n) {
  const { context, page } = await loggedInPage(browser, d, ws, who);
  const out = {};
  try {
    if (kind === 'interactive') {
      // A fresh navigation with the session's cookie: from navigation start to the first
      // list drawn and usable, three times (the first one warms nothing up on purpose).
      const runs = [];
      for (let i = 0; i < 3; i++) {
        await page.goto(`${d.base}/ui/`);
        await page.waitForFunction(() => performance.getEntriesByName('trash-interactive').length);
        runs.push(await page.evaluate(() => Math.round(performance.getEntriesByName('trash-interactive')[0].startTime)));
      }
      out[`items_${n}_interactive_ms`] = runs;
      out[`items_${n}_interactive_median_ms`] = median(runs);
      const assets = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const files = performance.getEntriesByType('resource').filter((r) => r.name.includes('/ui/') && !r.name.includes('/ui/api/'));
        return [nav, ...files].map((r) => ({ name: new URL(r.name).pathname, bytes: r.decodedBodySize }));
      });
      out.page_assets = assets;
      out.page_assets_total_bytes = assets.reduce((a, f) => a + f.bytes, 0);
      const headers = {};
      for (const f of ['/ui/', '/ui/app.js', '/ui/app.css']) {
        const r = await fetch(d.base + f);
        headers[f] = { 'cache-control': r.headers.get('cache-control'), etag: r.headers.get('etag') };
      }
      out.page_assets_caching = headers;
    } else {
      const search = [], sort = [];
      for (const text of ['Flow 4242', 'Flow 99', 'Flow 1234']) {
        search.push(await nextLoad(page, () => page.fill('#search', text)));
        await nextLoad(page, () => page.fill('#search', ''));
      }
      for (const [by, order] of [['size', 'asc'], ['daysLeft', 'desc'], ['name', 'asc']]) {
        sort.push(await nextLoad(page, () => page.selectOption('#sort', by)));
        sort.push(await nextLoad(page, () => page.selectOption('#order', order)));
      }
      out[`items_${n}_search_ms`] = search;
      out[`items_${n}_search_median_ms`] = median(search);
      out[`items_${n}_sort_ms`] = sort;
      out[`items_${n}_sort_median_ms`] = median(sort);
      out[`items_${n}_interactive_ms`] = await page.evaluate(() =>
        Math.round(performance.getEntriesByName('trash-interactive')[0].startTime));
    }
  } finally {
    await context.close();
  }
  return out;
}
