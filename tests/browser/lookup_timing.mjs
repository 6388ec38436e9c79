#!/usr/bin/env node
// How long a lookup takes on an emulated phone connection, measured in
// headless Chromium against a built site. A measuring tool for BENCHMARKS.md
// ("Lookup index"), not a test: nothing here asserts a time.
//
//   node tests/browser/lookup_timing.mjs [--profile phone|slow4g|3g|none] [--runs N]
//        [--http2] [--gzip] [--no-ranges] [--trace] [--apart] SITE_DIR QUERY...
//
// For each query and run: open /tra-cuu/ unthrottled and wait for what the
// page fetches on load (the page is loaded when a visitor types), then switch
// on the profile's network and CPU throttling (DevTools
// `Network.emulateNetworkConditions`, `Emulation.setCPUThrottlingRate`),
// submit the form, and time from the submit to the first `li.donation`, to
// the first `data-proof` verdict and to the last automatic proof
// (`data-proof-bytes` on `#results`). Prints the median of the runs as a
// Markdown table, with the page's own byte counts and the number of request
// waves before the first result and the first verdict (a request is one wave
// later than the latest wave of the requests that ended before it started:
// the round trips the query paid for in sequence), and, for pages from issue
// 17 on, the exact count, when it showed and the bytes fetched until then
// (`data-count`, `data-count-bytes`; from format 4 a phrase's count, in
// `data-scope` 'phrase'). --apart then presses the button that asks for the
// words apart too, and times their count from the press, with its bytes
// (`data-apart-bytes`). --trace lists every request of the last run on
// stderr.
//
// The server is Node's: HTTP/1.1 with keep-alive (Chromium keeps up to 6
// connections, like an nginx or Apache host without HTTP/2), or with
// --http2 HTTP/2 over TLS with a throwaway certificate (every request on one
// connection, like GitHub Pages, Netlify or a CDN); `Cache-Control: no-store`
// so every run starts cold; single byte ranges answered (206), as static
// hosts do, unless --no-ranges (Python's http.server ignores them); no
// compression unless --gzip (then everything is gzipped; real hosts gzip
// text types, and the index's extensionless files go out as
// `application/octet-stream`, usually uncompressed: no compression is the
// conservative case).
//
// Chromium is $CHROMIUM, else `chromium`, driven over the DevTools protocol
// on a pipe (--remote-debugging-pipe), so nothing is needed from npm; the
// TLS certificate comes from `openssl`.

import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

// Network profiles. Latency is what DevTools adds to every request (from
// sending it to the response headers); throughput is in bytes per second.
const PROFILES = {
  // Lighthouse's mobile preset (`mobileSlow4G` in core/config/constants.js:
  // 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, CPU 4× slower), with the
  // RTT applied once per request: the page is loaded, so the connections are
  // open and a request costs one round trip.
  phone: { latency: 150, download: (1.6 * 1024 * 1000) / 8, upload: (750 * 1000) / 8, cpu: 4 },
  // Chrome DevTools' "Slow 4G" preset (called "Fast 3G" before May 2024;
  // `Slow4GConditions` in front_end/core/sdk/NetworkManager.ts): 150 ms RTT
  // × 3.75 = 562.5 ms per request, as if every request opened a new
  // connection (DNS, TCP, TLS), 1.44 Mbit/s down, 675 kbit/s up.
  slow4g: { latency: 562.5, download: (1.6 * 1000 * 1000) / 8 * 0.9, upload: (750 * 1000) / 8 * 0.9, cpu: 4 },
  // Chrome DevTools' "3G" preset (formerly "Slow 3G"; `Slow3GConditions`):
  // 400 ms RTT × 5 = 2 s per request, 400 kbit/s each way.
  '3g': { latency: 2000, download: (500 * 1000) / 8 * 0.8, upload: (500 * 1000) / 8 * 0.8, cpu: 4 },
  // No throttling: what the machine itself costs.
  none: { latency: 0, download: -1, upload: -1, cpu: 1 },
};

function parseArguments(argv) {
  const options = { profile: 'phone', runs: 3, gzip: false, http2: false, ranges: true, trace: false, apart: false, site: null, queries: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--profile') options.profile = argv[++i];
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--gzip') options.gzip = true;
    else if (arg === '--trace') options.trace = true;
    else if (arg === '--apart') options.apart = true;
    else if (arg === '--http2') options.http2 = true;
    else if (arg === '--no-ranges') options.ranges = false;
    else if (options.site === null) options.site = arg;
    else options.queries.push(arg);
  }
  if (!options.site || !options.queries.length || !PROFILES[options.profile] || !(options.runs >= 1)) {
    console.error('usage: lookup_timing.mjs [--profile phone|slow4g|3g|none] [--runs N] [--gzip] [--http2] [--no-ranges] [--trace] [--apart] SITE_DIR QUERY...');
    process.exit(2);
  }
  return options;
}

// ---- a static server for the built site ---------------------------------
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json' };

function serve(root, options) {
  const handler = (request, response) => {
    let path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    path = normalize(join(root, path));
    if (!path.startsWith(root)) path = join(root, 'no such file');
    try {
      if (statSync(path).isDirectory()) path = join(path, 'index.html');
      let body = readFileSync(path), status = 200;
      const headers = { 'Content-Type': TYPES[extname(path)] || 'application/octet-stream', 'Cache-Control': 'no-store' };
      const range = options.ranges && /^bytes=(\d+)-(\d*)$/.exec(request.headers.range || '');
      if (range) {
        const first = Number(range[1]), last = Math.min(body.length - 1, range[2] ? Number(range[2]) : body.length - 1);
        if (first > last) {
          response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
          return;
        }
        headers['Content-Range'] = `bytes ${first}-${last}/${body.length}`;
        body = body.subarray(first, last + 1);
        status = 206;
      }
      if (options.gzip && /\bgzip\b/.test(request.headers['accept-encoding'] || '')) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
      response.writeHead(status, headers).end(body);
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  };
  const server = options.http2 ? createSecureServer({ ...certificate(), allowHTTP1: true }, handler) : createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// A throwaway self-signed certificate for --http2 (browsers speak HTTP/2
// only over TLS); Chromium is told to accept it.
function certificate() {
  const dir = mkdtempSync(join(tmpdir(), 'lookup-timing-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Chromium over the DevTools protocol, on a pipe ---------------------
class Browser {
  constructor(insecure) {
    this.profile = mkdtempSync(join(tmpdir(), 'lookup-timing-'));
    this.child = spawn(process.env.CHROMIUM || 'chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--remote-debugging-pipe', `--user-data-dir=${this.profile}`, ...(insecure ? ['--ignore-certificate-errors'] : []), 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    this.nextId = 0;
    this.pending = new Map();
    let buffer = Buffer.alloc(0);
    this.child.stdio[4].on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end; (end = buffer.indexOf(0)) >= 0; buffer = buffer.subarray(end + 1)) {
        const message = JSON.parse(buffer.subarray(0, end).toString());
        const waiting = this.pending.get(message.id);
        if (!waiting) continue;
        this.pending.delete(message.id);
        if (message.error) waiting.reject(new Error(`${waiting.method}: ${JSON.stringify(message.error)}`));
        else waiting.resolve(message.result);
      }
    });
  }

  call(method, params = {}, session = this.session) {
    const id = ++this.nextId;
    const message = { id, method, params };
    if (session) message.sessionId = session;
    this.child.stdio[3].write(JSON.stringify(message) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  async open() {
    const { targetId } = await this.call('Target.createTarget', { url: 'about:blank' }, null);
    const { sessionId } = await this.call('Target.attachToTarget', { targetId, flatten: true }, null);
    this.session = sessionId;
    await this.call('Page.enable');
    await this.call('Network.enable');
    await this.call('Network.setCacheDisabled', { cacheDisabled: true });
  }

  async eval(expression) {
    const result = await this.call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw new Error(`${expression.slice(0, 60)}: ${JSON.stringify(result.exceptionDetails)}`);
    return result.result.value;
  }

  async throttle(profile) {
    await this.call('Network.emulateNetworkConditions', {
      offline: false, latency: profile.latency, downloadThroughput: profile.download, uploadThroughput: profile.upload,
    });
    await this.call('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
  }

  async close() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); // its helpers may still be writing
  }
}

// Runs in the page: submits `query` and resolves with the times (ms from the
// submit) and counts once the automatic proofs are done or the search ended.
const MEASURE = String.raw`(query) => new Promise((resolve) => {
  const form = document.querySelector('form#lookup');
  const list = document.getElementById('results');
  const status = document.getElementById('lookup-status');
  const seen = {};
  let start = 0;
  const now = () => performance.now() - start;
  const check = () => {
    if (seen.result === undefined && list.querySelector('li.donation')) seen.result = now();
    if (seen.proof === undefined && list.querySelector('li.donation[data-proof]')) seen.proof = now();
    if (seen.counted === undefined && list.dataset.count !== undefined) seen.counted = now();
    const searching = !status.textContent || status.textContent === form.dataset.tSearching;
    const done = list.dataset.proofBytes !== undefined || (!searching && !list.querySelector('li.donation'));
    if (!done) return;
    observer.disconnect();
    seen.proofs = now();
    const fetches = performance.getEntriesByType('resource').filter((e) => e.startTime >= start);
    // Waves: 1 + the most waves of a request that ended before this one began.
    const waves = fetches.map(() => 0);
    fetches.forEach((e, i) => {
      waves[i] = 1 + Math.max(0, ...fetches.slice(0, i).map((f, j) => (f.responseEnd <= e.startTime ? waves[j] : 0)));
    });
    const before = (t) => Math.max(0, ...fetches.map((e, i) => (e.responseEnd <= start + t ? waves[i] : 0)));
    resolve({
      ...seen, results: list.querySelectorAll('li.donation').length, status: status.textContent,
      searchBytes: Number(list.dataset.bytes || 0), proofBytes: Number(list.dataset.proofBytes || 0),
      count: list.dataset.count, scope: list.dataset.scope, countBytes: list.dataset.countBytes === undefined ? undefined : Number(list.dataset.countBytes),
      requests: fetches.length, wavesToResult: seen.result === undefined ? 0 : before(seen.result),
      wavesToProof: seen.proof === undefined ? 0 : before(seen.proof),
      trace: fetches.map((e, i) => ({ wave: waves[i], start: e.startTime - start, end: e.responseEnd - start, bytes: e.encodedBodySize, url: e.name })),
    });
  };
  const observer = new MutationObserver(check);
  observer.observe(document.querySelector('main') || document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(1000);
  form.elements.q.value = query;
  start = performance.now();
  form.requestSubmit();
})`;

// Runs in the page after MEASURE: pages through the phrase matches (at
// most 10 presses of \`button.more\`), presses the button that asks for the
// words apart, and resolves with the time from that press to their count.
const APART = String.raw`() => new Promise((resolve) => {
  const list = document.getElementById('results');
  let presses = 0, start = 0;
  const step = () => {
    const apart = document.querySelector('form#lookup button.more.apart');
    const more = document.querySelector('form#lookup button.more:not([disabled])');
    if (start && list.dataset.apartBytes !== undefined) {
      observer.disconnect();
      resolve({ ms: performance.now() - start, count: list.dataset.count, bytes: Number(list.dataset.apartBytes) });
    } else if (!start && apart) {
      start = performance.now();
      apart.click();
    } else if (!start && more && presses < 10) {
      presses++;
      more.click();
    } else if (!start && !document.querySelector('form#lookup button.more[disabled]')) {
      observer.disconnect();
      resolve(null);
    }
  };
  const observer = new MutationObserver(step);
  observer.observe(document.querySelector('form#lookup'), { subtree: true, childList: true, attributes: true });
  step();
})`;

async function measure(browser, base, query, profile, apart) {
  await browser.throttle(PROFILES.none);
  await browser.call('Page.navigate', { url: `${base}/tra-cuu/` });
  for (let i = 0; ; i++) {
    // Loaded, and done with what it fetches ahead (a page that fetches
    // nothing ahead is given 2 s).
    const ready = await browser.eval("document.readyState === 'complete' && !!document.querySelector('form#lookup') && " +
      "['manifest.json', 'ledger/checkpoint', 'ledger/keys'].every((f) => " +
      "performance.getEntriesByType('resource').some((e) => e.name.endsWith(f)))").catch(() => false);
    if (ready || (i >= 40 && await browser.eval("document.readyState === 'complete'").catch(() => false))) break;
    if (i > 600) throw new Error('the lookup page did not load');
    await new Promise((r) => setTimeout(r, 50));
  }
  await browser.throttle(profile);
  const measured = await browser.eval(`(${MEASURE})(${JSON.stringify(query)})`);
  if (apart) measured.apart = await browser.eval(`(${APART})()`);
  return measured;
}

function median(values) {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
}

const seconds = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(2) + ' s');
const kilobytes = (bytes) => (bytes / 1024).toFixed(1) + ' KB';

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const profile = PROFILES[options.profile];
  const server = await serve(resolve(options.site), options);
  const base = `${options.http2 ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
  const browser = new Browser(options.http2);
  try {
    await browser.open();
    console.log(`profile ${options.profile}: ${profile.latency} ms per request, ` +
      `${profile.download > 0 ? ((profile.download * 8) / 1e6).toFixed(2) + ' Mbit/s down' : 'unthrottled'}, CPU ${profile.cpu}×, ` +
      `${options.http2 ? 'HTTP/2' : 'HTTP/1.1'}, ${options.gzip ? 'gzip' : 'no compression'}, ` +
      `${options.ranges ? 'byte ranges' : 'no byte ranges'}, median of ${options.runs}\n`);
    console.log('| query | results | first result | first proof | 5 proofs | waves to result / proof | requests | search bytes | proof bytes | count | count shown | bytes to count |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const query of options.queries) {
      const runs = [];
      for (let run = 0; run < options.runs; run++) runs.push(await measure(browser, base, query, profile, options.apart));
      const last = runs[runs.length - 1];
      const pick = (key) => median(runs.map((r) => r[key]));
      console.log(`| \`${query}\` | ${last.results} | ${seconds(pick('result'))} | ${seconds(pick('proof'))} | ` +
        `${seconds(pick('proofs'))} | ${last.wavesToResult} / ${last.wavesToProof} | ${last.requests} | ` +
        `${kilobytes(last.searchBytes)} | ${kilobytes(last.proofBytes)} | ` +
        // The exact count and when it showed (pages from issue 17 on).
        `${last.count ?? '—'} | ${last.count === undefined ? '—' : seconds(pick('counted'))} | ` +
        `${last.countBytes === undefined ? '—' : kilobytes(last.countBytes)} |`);
      if (last.apart) {
        console.log(`|   words apart: | ${last.apart.count} | ${seconds(median(runs.map((r) => r.apart?.ms)))} after the press | ` +
          `${kilobytes(last.apart.bytes)} more | (${last.scope} count before) |`);
      }
      if (!last.results) console.error(`  \`${query}\`: ${last.status}`);
      if (options.trace) {
        console.error(`  ${query}: result ${last.result?.toFixed(0)} ms, first proof ${last.proof?.toFixed(0)} ms`);
        for (const f of last.trace) {
          console.error(`  wave ${f.wave}  ${f.start.toFixed(0).padStart(5)}–${f.end.toFixed(0).padStart(5)} ms ${String(f.bytes).padStart(7)} B  ${f.url.replace(base, '')}`);
        }
      }
    }
  } finally {
    await browser.close();
    server.closeAllConnections?.();
    server.close();
  }
}

main().catch((error) => {
  console.error(`lookup_timing: ${error.message}`);
  process.exit(1);
});
