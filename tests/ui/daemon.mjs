// The real trashd for the browser tests: started on a temp data directory, port 0 and
// a short admin socket path; set up through the real trashctl; seeded through the API
// with a key, as a client of the platform would.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class Daemon {
  constructor({ trashd, trashctl }) {
    this.trashd = trashd;
    this.trashctl = trashctl;
    this.dir = mkdtempSync(path.join(tmpdir(), 'trashd-ui-'));
    this.socketDir = mkdtempSync('/tmp/tui-');
    this.dataDir = path.join(this.dir, 'data');
    this.socket = path.join(this.socketDir, 'admin.sock');
    this.log = '';
  }

  async start() {
    const config = path.join(this.dir, 'trashd.yaml');
    writeFileSync(config, [
      `data_dir: ${this.dataDir}`, 'listen: 127.0.0.1:0', `admin_socket: ${this.socket}`,
      'log:', '  level: info', 'limits:', '  rate_limit_per_key: 0', '',
    ].join('\n'));
    this.child = spawn(this.trashd, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr.on('data', (chunk) => { this.log += chunk.toString(); });
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const m = /API listening on http:\/\/([0-9.]+):(\d+)/.exec(this.log);
      if (m && this.log.includes('admin socket at')) {
        this.base = `http://${m[1]}:${m[2]}`;
        return;
      }
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('trashd did not start:\n' + this.log);
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.socketDir, { recursive: true, force: true });
  }

  // trashctl --json ARGS; `input` goes to its standard input (a password).
  ctl(args, input) {
    const out = execFileSync(this.trashctl, ['--socket', this.socket, '--json', ...args],
      { input: input ?? '', encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : {};
  }

  // An API request with `key`; answers { status, body }.
  async api(method, target, { key, body, raw, headers } = {}) {
    const res = await fetch(this.base + target, {
      method,
      headers: { ...(key ? { Authorization: 'Bearer ' + key } : {}), ...(headers || {}) },
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: res.status, body: json, text };
  }

  async ok(method, target, options) {
    const r = await this.api(method, target, options);
    if (r.status !== 200) throw new Error(`${method} ${target} -> ${r.status} ${r.text}`);
    return r.body;
  }

  // Where the daemon keeps the blob of `content` in workspace `ws`.
  blobPath(ws, content) {
    const hash = createHash('sha256').update(content).digest('hex');
    return path.join(this.dataDir, 'blobs', ws, hash.slice(0, 2), hash);
  }

  blobExists(ws, content) { return existsSync(this.blobPath(ws, content)); }
}

export const ALL_SCOPES = ['project', 'version', 'model', 'dataset', 'workflow']
  .flatMap((t) => [t + ':read', t + ':update']);

// A workspace with members, passwords and a key of the owner's.
export function setUpWorkspace(d, ws, { quota } = {}) {
  d.ctl(['workspace', 'create', ws]);
  if (quota) d.ctl(['workspace', 'set-quota', ws, String(quota)]);
  d.ctl(['member', 'add', ws, 'alice', '--role', 'owner', '--name', 'Alice Martin']);
  d.ctl(['member', 'set-password', ws, 'alice'], 'alice password\n');
  const made = d.ctl(['key', 'create', ws, 'alice', ...ALL_SCOPES]);
  return made.secret;
}
