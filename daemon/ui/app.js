// The trashd Trash page: plain JavaScript, no build step. Every list is searched,
// sorted and paged by the daemon (/ui/api/...); every change sends the session's CSRF
// token; permanent deletion asks for the name (or the workspace) typed back.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  session: null,
  query: { type: 'all', q: '', sort: 'deletedAt', order: 'desc', offset: 0, limit: 50 },
  page: null,          // the last answer of /trash
  usage: null,         // the last answer of /usage
  selected: new Map(), // internalId -> item
  searchTimer: 0,
};

// ---- talking to the daemon --------------------------------------------------------

class ServerError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ServerError(0, 'The daemon could not be reached: ' + e.message);
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const why = data && data.error ? data.error : 'The daemon answered ' + res.status + '.';
    // A session that ended while the page was open: back to the log-in form.
    if (res.status === 401 && state.session) showLogin(why);
    throw new ServerError(res.status, why);
  }
  return data;
}

const wsPath = (rest) => '/ui/api/' + encodeURIComponent(state.session.workspace) + rest;

function showError(e) {
  $('error-text').textContent = e && e.message ? e.message : String(e);
  $('error').hidden = false;
}

// ---- formatting --------------------------------------------------------------------

function bytes(n) {
  if (n < 1000) return n + ' B';
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n, i = -1;
  do { v /= 1000; i++; } while (v >= 1000 && i < units.length - 1);
  return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
}
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => dateFmt.format(new Date(iso));
const plural = (n, one, many) => n + ' ' + (n === 1 ? one : (many || one + 's'));
const typeLabel = (t) => t.charAt(0).toUpperCase() + t.slice(1);
const KNOWN_TYPES = ['project', 'dataset', 'model', 'version', 'workflow'];
const typeClass = (t) => 't-' + (KNOWN_TYPES.includes(t) ? t : 'other');
const TYPE_COLOURS = { project: '#1d4ed8', dataset: '#15803d', model: '#6d28d9',
  version: '#0e7490', workflow: '#c2410c' };
const colourOf = (t) => TYPE_COLOURS[t] || '#4b5563';
const can = (p) => state.session.permissions.includes(p);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// A button that may be refused: it stays focusable, says why on hover and focus,
// and does nothing when pressed.
function setAllowed(button, why) {
  if (why) {
    button.setAttribute('aria-disabled', 'true');
    button.dataset.tip = why;
    button.title = why;
  } else {
    button.removeAttribute('aria-disabled');
    delete button.dataset.tip;
    button.removeAttribute('title');
  }
}
const refused = (button) => button.getAttribute('aria-disabled') === 'true';

// ---- log-in ------------------------------------------------------------------------

function showLogin(message) {
  state.session = null;
  $('trash-view').hidden = true;
  $('who').hidden = true;
  $('login-view').hidden = false;
  $('crumb-ws').textContent = 'Workspace';
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  const params = new URLSearchParams(location.search);
  if (!$('login-ws').value && params.get('workspace')) $('login-ws').value = params.get('workspace');
  ($('login-ws').value ? ($('login-member').value ? $('login-password') : $('login-member'))
    : $('login-ws')).focus();
}

async function logIn(event) {
  event.preventDefault();
  const submit = $('login-submit');
  submit.disabled = true;
  try {
    const session = await call('POST', '/ui/api/login', {
      workspace: $('login-ws').value.trim(),
      member: $('login-member').value.trim(),
      password: $('login-password').value,
    });
    $('login-password').value = '';
    await start(session);
  } catch (e) {
    $('login-error').textContent = e.message;
    $('login-error').hidden = false;
    $('login-password').select();
  } finally {
    submit.disabled = false;
  }
}

async function logOut() {
  try { await call('POST', '/ui/api/logout'); } catch (e) { /* shown by the log-in form */ }
  state.selected.clear();
  showLogin('You are logged out.');
}

// ---- the page ----------------------------------------------------------------------

async function start(session) {
  state.session = session;
  $('outcome').hidden = true;
  $('error').hidden = true;
  $('login-view').hidden = true;
  $('trash-view').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = session.name;
  $('who-role').textContent = session.role;
  $('crumb-ws').textContent = session.workspace;
  setAllowed($('restore-all'), null);
  setAllowed($('empty-trash'), can('purge_trash') ? null
    : 'Your role (' + session.role + ') lacks the purge_trash permission.');
  await Promise.all([loadTrash(), loadUsage()]);
  $('main').focus();
}

// Each load of the list is measured ('trash-load': request, answer and drawing), and
// the first one marks when the page became usable ('trash-interactive').
async function loadTrash() {
  const started = performance.now();
  const q = state.query;
  const params = new URLSearchParams({ type: q.type, q: q.q, sort: q.sort, order: q.order,
    offset: q.offset, limit: q.limit });
  if (q.type === 'all') params.set('group', 'type');
  try {
    state.page = await call('GET', wsPath('/trash?' + params));
    renderTabs();
    renderRows();
    performance.measure('trash-load', { start: started, end: performance.now() });
    if (!performance.getEntriesByName('trash-interactive').length) performance.mark('trash-interactive');
  } catch (e) {
    showError(e);
  }
}

async function loadUsage() {
  const started = performance.now();
  try {
    state.usage = await call('GET', wsPath('/usage'));
    renderUsage();
    renderTreemap();
    performance.measure('usage-load', { start: started, end: performance.now() });
  } catch (e) {
    showError(e);
  }
}

const reload = () => Promise.all([loadTrash(), loadUsage()]);

function renderTabs() {
  const tabs = $('tabs');
  const by = state.page.byType || {};
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  const entries = [['all', 'All', total]].concat(
    state.session.types.map((t) => [t.type, typeLabel(t.section), by[t.type] || 0]));
  tabs.replaceChildren(...entries.map(([type, label, n]) => el('button', {
    type: 'button', class: 'btn small', 'aria-pressed': String(state.query.type === type),
    'data-type': type,
    onclick: () => { state.query.type = type; state.query.offset = 0; loadTrash(); },
  }, label, el('span', { class: 'count', text: String(n), 'aria-label': n + ' items' }))));
}

function nameCell(item) {
  const cell = el('td', { class: 'c-name', 'data-label': 'Name' });
  const line = el('div', {}, el('span', { class: 'name', text: item.name }));
  if (item.cascaded > 0) {
    line.append(el('span', { class: 'badge cascade', text: '+' + item.cascaded,
      title: plural(item.cascaded, 'item') + ' deleted with it',
      'aria-label': plural(item.cascaded, 'item') + ' deleted with it' }));
  }
  if (item.cleanupDeleteImages) {
    line.append(el('span', { class: 'badge images', text: 'Images deleted at purge',
      title: 'Images only this project uses are removed when it is purged; shared images stay.' }));
  }
  if (item.hold) line.append(el('span', { class: 'badge hold', text: 'On hold',
    title: 'A legal hold keeps it from being purged.' }));
  cell.append(line);
  if (item.parentId) {
    const parent = el('span', { class: 'parent' },
      'in ' + item.parentType + ' ' + item.parentName);
    if (item.parentInTrash) parent.append(' ', el('span', { class: 'in-trash', text: '(also in the Trash)' }));
    cell.append(parent);
  }
  return cell;
}

function rowOf(item) {
  const checked = state.selected.has(item.internalId);
  const box = el('input', { type: 'checkbox', checked,
    'aria-label': 'Select ' + item.type + ' ' + item.name,
    onchange: (e) => {
      if (e.target.checked) state.selected.set(item.internalId, item);
      else state.selected.delete(item.internalId);
      renderSelection();
    } });
  const restore = el('button', { type: 'button', class: 'btn small', text: 'Restore',
    'aria-label': 'Restore ' + item.name,
    onclick: (e) => { if (!refused(e.currentTarget)) restoreItems([item]); } });
  setAllowed(restore, item.restoreBlocked);
  const del = el('button', { type: 'button', class: 'btn small danger', text: 'Delete',
    'aria-label': 'Delete ' + item.name + ' permanently',
    onclick: (e) => { if (!refused(e.currentTarget)) confirmPurge([item]); } });
  setAllowed(del, item.purgeBlocked);
  const soon = item.daysLeft <= 3;
  return el('tr', { 'data-id': item.internalId },
    el('td', { class: 'c-check' }, box),
    nameCell(item),
    el('td', { 'data-label': 'Type' }, el('span', { class: 'type ' + typeClass(item.type), text: typeLabel(item.type) })),
    el('td', { 'data-label': 'Deleted by', text: item.deletedByName || item.deletedBy }),
    el('td', { class: 'when', 'data-label': 'Deleted at' }, el('time', { datetime: item.deletedAt, text: when(item.deletedAt) })),
    el('td', { 'data-label': 'Days left' }, el('span', { class: 'days' + (soon ? ' soon' : ''),
      text: item.daysLeft + 'd', title: 'Cleaned up ' + when(item.scheduledCleanupAt) })),
    el('td', { class: 'num', 'data-label': 'Size', text: bytes(item.size) }),
    el('td', { class: 'c-actions' }, el('div', { class: 'actions' }, restore, del)));
}

function renderRows() {
  const page = state.page;
  const rows = [];
  let group = null;
  for (const item of page.items) {
    if (state.query.type === 'all' && item.type !== group) {
      group = item.type;
      const n = (page.byType || {})[group] || 0;
      rows.push(el('tr', { class: 'group' }, el('th', { colspan: '8', scope: 'colgroup',
        text: typeLabel(item.section) + ' · ' + n })));
    }
    rows.push(rowOf(item));
  }
  $('rows').replaceChildren(...rows);
  $('empty').hidden = page.items.length > 0;
  $('empty').textContent = state.query.q ? 'No item in the Trash matches "' + state.query.q + '".'
    : 'The Trash is empty.';
  const from = page.total === 0 ? 0 : page.offset + 1;
  const to = page.offset + page.items.length;
  $('page-info').textContent = page.total === 0 ? '' :
    'Showing ' + from + '–' + to + ' of ' + plural(page.total, 'item');
  $('prev').disabled = page.offset === 0;
  $('next').disabled = to >= page.total;
  renderSelection();
}

function renderSelection() {
  const n = state.selected.size;
  $('selected-count').textContent = n + ' selected';
  const none = n === 0 ? 'Select items first.' : null;
  setAllowed($('restore-selected'), none);
  setAllowed($('delete-selected'), none || (can('purge_trash') ? null
    : 'Your role (' + state.session.role + ') lacks the purge_trash permission.'));
  const boxes = [...$('rows').querySelectorAll('input[type=checkbox]')];
  $('select-all').checked = boxes.length > 0 && boxes.every((b) => b.checked);
}

// ---- storage -----------------------------------------------------------------------

function renderUsage() {
  const u = state.usage.usage;
  const quota = u.quotaBytes;
  const scale = Math.max(quota || 0, u.totalBytes, 1);
  $('usage-active').style.width = (100 * u.activeBytes / scale) + '%';
  $('usage-trash').style.width = (100 * u.trashBytes / scale) + '%';
  const text = bytes(u.activeBytes) + ' active · ' + bytes(u.trashBytes) + ' in the Trash' +
    (quota ? ' · ' + bytes(u.totalBytes) + ' of ' + bytes(quota) + ' quota (' +
      Math.round(100 * u.totalBytes / quota) + '% used)' : ' · no quota');
  $('usage-text').textContent = text;
  $('usage-bar').setAttribute('aria-label', 'Usage: ' + text);
}

// Squarified treemap: lays `nodes` (with .size) into the rectangle, row by row, so
// that the cells stay near square.
function squarify(nodes, x, y, w, h) {
  const out = [];
  const total = nodes.reduce((a, n) => a + n.size, 0);
  if (!total || w <= 0 || h <= 0) return out;
  const scale = (w * h) / total;
  let rest = nodes.filter((n) => n.size > 0).map((n) => ({ node: n, area: n.size * scale }));
  while (rest.length) {
    const side = Math.min(w, h);
    let row = [], best = Infinity;
    for (const c of rest) {
      const next = row.concat(c);
      const sum = next.reduce((a, r) => a + r.area, 0);
      const worst = Math.max(...next.map((r) => Math.max((side * side * r.area) / (sum * sum),
        (sum * sum) / (side * side * r.area))));
      if (worst > best) break;
      best = worst; row = next;
    }
    const sum = row.reduce((a, r) => a + r.area, 0);
    const thick = sum / side;
    let at = 0;
    for (const r of row) {
      const len = r.area / thick;
      if (w >= h) out.push({ node: r.node, x, y: y + at, w: thick, h: len });
      else out.push({ node: r.node, x: x + at, y, w: len, h: thick });
      at += len;
    }
    if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    rest = rest.slice(row.length);
  }
  return out;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function drawCell(root, cell, type, depth) {
  const n = cell.node;
  const g = svg('g', {});
  g.append(svg('rect', { x: cell.x, y: cell.y, width: Math.max(cell.w, 0), height: Math.max(cell.h, 0),
    fill: colourOf(type), 'fill-opacity': String(Math.max(1 - depth * 0.18, 0.5)),
    class: depth ? 'nested' : '' }));
  g.firstChild.append(svg('title', {}, typeLabel(n.type || type) + ' ' + n.name + ': ' + bytes(n.size) +
    (n.nested && n.nested.length ? ' (holds ' + plural(n.nested.length, 'item') + ' deleted before it)' : '')));
  if (cell.w > 70 && cell.h > 30) {
    g.append(svg('text', { x: cell.x + 6, y: cell.y + 16 }, n.name.length > cell.w / 7.5
      ? n.name.slice(0, Math.max(1, Math.floor(cell.w / 7.5) - 1)) + '…' : n.name));
    if (cell.h > 46) g.append(svg('text', { x: cell.x + 6, y: cell.y + 32, 'fill-opacity': '0.85' }, bytes(n.size)));
  }
  root.append(g);
  // Items deleted before it and now inside it: drawn inside it, their bytes already
  // counted in its size, so every byte shows once.
  if (n.nested && n.nested.length && cell.w > 24 && cell.h > 44) {
    const inner = { x: cell.x + 4, y: cell.y + 38, w: cell.w - 8, h: cell.h - 42 };
    const share = n.nested.reduce((a, c) => a + c.size, 0) / Math.max(n.size, 1);
    const area = inner.w * inner.h * Math.min(share, 1);
    const h2 = Math.max(Math.min(inner.h, area / Math.max(inner.w, 1)), 0);
    for (const c of squarify(n.nested, inner.x, inner.y + inner.h - h2, inner.w, h2)) {
      drawCell(root, c, c.node.type, depth + 1);
    }
  }
}

function renderTreemap() {
  const tm = state.usage.treemap;
  const box = $('treemap');
  const legend = $('treemap-legend');
  legend.replaceChildren(...tm.types.map((t) => el('li', {},
    el('span', { class: 'sw', style: 'background:' + colourOf(t.type), 'aria-hidden': 'true' }),
    typeLabel(t.section) + ' ' + bytes(t.size))));
  if (!tm.size) {
    box.replaceChildren(el('p', { class: 'none', text: 'Nothing in the Trash takes up space.' }));
    return;
  }
  // Drawn at the box's own size in pixels, so that labels keep their size on a phone.
  const W = Math.max(box.clientWidth, 280), H = Math.round(Math.max(220, W * 0.26));
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
    'aria-label': 'Treemap of the Trash: ' + bytes(tm.size) + ' in all; ' +
      tm.types.map((t) => typeLabel(t.section) + ' ' + bytes(t.size)).join(', ') });
  for (const tcell of squarify(tm.types, 0, 0, W, H)) {
    // The daemon lists a type's largest items and sums the rest in `others`.
    const o = tcell.node.others;
    const cells = o ? [...tcell.node.items, { type: tcell.node.type, size: o.size, nested: [],
      name: plural(o.count, 'smaller item') }] : tcell.node.items;
    for (const c of squarify(cells, tcell.x, tcell.y, tcell.w, tcell.h)) {
      drawCell(root, c, tcell.node.type, 0);
    }
  }
  box.replaceChildren(root);
}

// ---- restore -----------------------------------------------------------------------

function showOutcome(title, lines) {
  $('outcome').classList.toggle('partial', lines.some(([ok]) => !ok));
  $('outcome-body').replaceChildren(el('strong', { text: title }),
    el('ul', {}, ...lines.map(([ok, text]) => el('li', { class: ok ? '' : 'fail', text }))));
  $('outcome').hidden = false;
}

async function restoreItems(items, all) {
  $('error').hidden = true;
  try {
    const body = all ? { all: true } : { items: items.map((i) => ({ type: i.type, id: i.id,
      parentId: i.parentId })) };
    const answer = await call('POST', wsPath('/trash/restore'), body);
    const names = new Map(items.map((i) => [i.internalId, i]));
    const lines = answer.results.map((r) => {
      const item = names.get(r.internalId) || names.get(r.id) || {};
      const label = (r.type || item.type || 'item') + ' ' + (item.name || r.url || r.id);
      if (!r.restored) return [false, 'Not restored: ' + label + ': ' + r.error];
      if (r.renamed) {
        return [true, 'Restored ' + label + ' as "' + r.url + '": "' + r.previousUrl +
          '" was taken meanwhile.'];
      }
      return [true, 'Restored ' + label + (r.resources > 1 ? ' with ' +
        plural(r.resources - 1, 'item') + ' inside' : '') + '.'];
    });
    if (!lines.length) lines.push([true, 'Nothing to restore.']);
    showOutcome('Restored ' + answer.restored + ', failed ' + answer.failed + '.', lines);
    for (const r of answer.results) if (r.restored) state.selected.delete(r.internalId);
    await reload();
  } catch (e) {
    showError(e);
  }
}

// ---- permanent deletion ------------------------------------------------------------

let pending = null;  // what the open dialog will do: { expect, run }

function openConfirm({ title, what, expect, label, run }) {
  pending = { expect, run };
  $('confirm-title').textContent = title;
  $('confirm-what').replaceChildren(...what);
  $('confirm-label').textContent = label;
  $('confirm-input').value = '';
  $('confirm-ok').disabled = true;
  $('confirm-error').hidden = true;
  $('confirm').showModal();
  $('confirm-input').focus();
}

function closeConfirm() {
  pending = null;
  $('confirm').close();
}

async function confirmPurge(items) {
  $('error').hidden = true;
  let previews;
  try {
    previews = await Promise.all(items.map((i) => call('GET', wsPath('/trash/' +
      encodeURIComponent(i.type) + '/' + encodeURIComponent(i.id) + '/preview' +
      (i.parentId ? '?parentId=' + encodeURIComponent(i.parentId) : '')))));
  } catch (e) {
    showError(e);
    return;
  }
  const sum = (k) => previews.reduce((a, p) => a + p[k], 0);
  const one = items.length === 1;
  const what = [el('p', { text: one
    ? typeLabel(items[0].type) + ' "' + items[0].name + '" will be deleted for good, with everything in it:'
    : plural(items.length, 'item') + ' will be deleted for good, with everything in them:' })];
  const list = el('ul', {},
    el('li', { text: plural(sum('descendants'), 'item') + ' inside (versions, models, nested items)' }),
    el('li', { text: bytes(sum('bytes')) + ' freed' }),
    el('li', { text: plural(sum('exclusiveImages'), 'image') + ' used by nothing else, removed from disk' }));
  if (sum('keptImages')) {
    list.append(el('li', { text: plural(sum('keptImages'), 'image') + ' shared with other resources or kept in the asset library: stay' }));
  }
  if (!one) list.append(el('li', { text: items.map((i) => i.name).join(', ') }));
  what.push(list);
  const expect = one ? items[0].name : state.session.workspace;
  openConfirm({
    title: one ? 'Delete "' + items[0].name + '" permanently?' : 'Delete ' + plural(items.length, 'item') + ' permanently?',
    what, expect,
    label: one ? 'Type the name "' + expect + '" to confirm' : 'Type the workspace "' + expect + '" to confirm',
    run: async () => {
      const lines = [];
      for (const i of items) {
        try {
          const out = await call('POST', wsPath('/trash/purge'), { type: i.type, id: i.id,
            parentId: i.parentId, confirm: i.name });
          lines.push([true, 'Deleted ' + i.type + ' ' + i.name + ' permanently: ' +
            bytes(out.bytesFreed) + ' freed.']);
          state.selected.delete(i.internalId);
        } catch (e) {
          lines.push([false, 'Not deleted: ' + i.type + ' ' + i.name + ': ' + e.message]);
        }
      }
      showOutcome('Permanent deletion', lines);
    },
  });
}

function confirmEmpty() {
  const u = state.usage ? state.usage.usage : { trashItems: 0, trashBytes: 0 };
  const ws = state.session.workspace;
  openConfirm({
    title: 'Empty the Trash of ' + ws + '?',
    what: [el('p', { text: 'Every item in the Trash will be deleted for good:' }),
      el('ul', {}, el('li', { text: plural(u.trashItems, 'item') + ', with everything inside them' }),
        el('li', { text: bytes(u.trashBytes) + ' freed' }),
        el('li', { text: 'Items under a legal hold stay.' }))],
    expect: ws,
    label: 'Type the workspace "' + ws + '" to confirm',
    run: async () => {
      const out = await call('POST', wsPath('/trash/empty'), { confirm: ws });
      state.selected.clear();
      showOutcome('Emptied the Trash', [[true, 'Deleted ' + plural(out.items, 'item') + ' (' +
        plural(out.resources, 'resource') + ') permanently: ' + bytes(out.bytesFreed) + ' freed.']]
        .concat(out.skippedHeld.length ? [[false, plural(out.skippedHeld.length, 'item') + ' kept by a hold.']] : []));
    },
  });
}

async function runConfirmed(event) {
  event.preventDefault();
  if (!pending || $('confirm-input').value !== pending.expect) return;
  const run = pending.run;
  $('confirm-ok').disabled = true;
  try {
    await run();
    closeConfirm();
    await reload();
  } catch (e) {
    $('confirm-error').textContent = e.message;
    $('confirm-error').hidden = false;
  }
}

// ---- wiring ------------------------------------------------------------------------

function wire() {
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  $('error-close').addEventListener('click', () => { $('error').hidden = true; });
  $('outcome-close').addEventListener('click', () => { $('outcome').hidden = true; });
  $('search').addEventListener('input', (e) => {
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(() => {
      state.query.q = e.target.value.trim();
      state.query.offset = 0;
      loadTrash();
    }, 200);
  });
  $('sort').addEventListener('change', (e) => { state.query.sort = e.target.value; state.query.offset = 0; loadTrash(); });
  $('order').addEventListener('change', (e) => { state.query.order = e.target.value; state.query.offset = 0; loadTrash(); });
  $('prev').addEventListener('click', () => {
    state.query.offset = Math.max(0, state.query.offset - state.query.limit); loadTrash();
  });
  $('next').addEventListener('click', () => { state.query.offset += state.query.limit; loadTrash(); });
  $('select-all').addEventListener('change', (e) => {
    for (const item of state.page.items) {
      if (e.target.checked) state.selected.set(item.internalId, item);
      else state.selected.delete(item.internalId);
    }
    renderRows();
  });
  $('restore-selected').addEventListener('click', (e) => {
    if (!refused(e.currentTarget)) restoreItems([...state.selected.values()]);
  });
  $('delete-selected').addEventListener('click', (e) => {
    if (!refused(e.currentTarget)) confirmPurge([...state.selected.values()]);
  });
  $('restore-all').addEventListener('click', (e) => {
    if (!refused(e.currentTarget)) restoreItems(state.page ? state.page.items : [], true);
  });
  $('empty-trash').addEventListener('click', (e) => { if (!refused(e.currentTarget)) confirmEmpty(); });
  $('confirm-input').addEventListener('input', (e) => {
    $('confirm-ok').disabled = !pending || e.target.value !== pending.expect;
  });
  $('confirm-form').addEventListener('submit', runConfirmed);
  $('confirm-cancel').addEventListener('click', closeConfirm);
  $('confirm').addEventListener('close', () => { pending = null; });
  let resizing = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (state.usage) renderTreemap(); }, 150);
  });
}

async function boot() {
  wire();
  try {
    const session = await call('GET', '/ui/api/session');
    await start(session);
  } catch (e) {
    showLogin(e.status === 401 ? '' : e.message);
  }
  document.documentElement.dataset.ready = 'true';
}

boot();
