// The dashboard in headless Chromium (driven by playwright-core) against a running localnet:
// the pages load without console errors, the metagraph table holds exactly what
// `merit metagraph --json` says, a live update arrives after the next block without a reload,
// the line and bar charts are Chart.js charts (Debian's libjs-chart.js) with one dataset per uid
// and no chart left behind by the redraws (a hovered tooltip and a line hidden from the legend
// survive them), and screenshots at 1366x768 are written for a person to look at.
// Environment (set by run.sh): DASHBOARD_URL, CHAIN_URL, MERIT, CHROMIUM, SCREENSHOTS, NODE_PATH.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH, 'x.js'));
const { chromium } = require('playwright-core');

const url = process.env.DASHBOARD_URL;
const shots = process.env.SCREENSHOTS;
let passed = 0;
let failed = 0;
const ok = (what) => { passed++; console.log('ok   - ' + what); };
const bad = (what) => { failed++; console.log('FAIL - ' + what); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function metagraphJson(netuid) {
  const out = execFileSync(process.env.MERIT, ['--url', process.env.CHAIN_URL, 'metagraph', '--netuid',
                                                String(netuid), '--json'], { encoding: 'utf8' });
  return JSON.parse(out);
}

// The table's raw values (data-v) by uid, and the block it shows.
async function tableValues(page) {
  return page.evaluate(() => {
    const t = document.querySelector('table#metagraph');
    const rows = {};
    for (const tr of t.querySelectorAll('tbody tr')) {
      const r = {};
      for (const td of tr.querySelectorAll('td')) r[td.dataset.k] = { v: td.dataset.v, text: td.textContent };
      rows[tr.dataset.uid] = r;
    }
    return { block: Number(t.dataset.block), rows };
  });
}

// What the table must say for neuron `n` of `merit metagraph --json`.
function expected(n) {
  return {
    uid: String(n.uid), hotkey: n.hotkey, stake: String(n.stake), validator_permit: String(n.validator_permit),
    validator_trust: String(n.validator_trust), consensus: String(n.consensus), incentive: String(n.incentive),
    dividends: String(n.dividends), emission: String(n.emission),
    axon: n.axon ? `${n.axon.ip}:${n.axon.port}` : '–',
    prune_rank: n.prune_rank === null || n.prune_rank === undefined ? 'null' : String(n.prune_rank),
    last_update: String(n.last_update),
  };
}

function diff(table, mg) {
  const out = [];
  if (Object.keys(table.rows).length !== mg.neurons.length) {
    out.push(`${Object.keys(table.rows).length} rows, ${mg.neurons.length} neurons`);
  }
  for (const n of mg.neurons) {
    const row = table.rows[String(n.uid)];
    if (!row) { out.push(`uid ${n.uid} missing`); continue; }
    for (const [k, v] of Object.entries(expected(n))) {
      const got = row[k] ? row[k].v : undefined;
      if (got !== v) out.push(`uid ${n.uid} ${k}: table ${got}, merit metagraph ${v}`);
    }
    // The text shown is the raw value formatted (proportions as fractions of 1).
    if (row.incentive && row.incentive.text !== (n.incentive / 65535).toFixed(4)) {
      out.push(`uid ${n.uid} incentive shown as ${row.incentive.text}`);
    }
  }
  return out;
}

// Every canvas on the page and the Chart.js chart drawn on it (if any), and how many Chart.js
// instances exist in all: the page redraws on every update, and must destroy the charts it replaces.
async function chartInfo(page) {
  return page.evaluate(() => {
    const canvases = [...document.querySelectorAll('canvas')].map((c) => {
      const ch = window.Chart ? Chart.getChart(c) : undefined;
      if (!ch) return { id: c.id, chart: false };
      // Pixels painted: the chart really drew, not just sized its canvas.
      const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted++;
      return { id: c.id, chart: true, type: ch.config.type, datasets: ch.data.datasets.length,
               points: ch.data.datasets.reduce((a, d) => a + d.data.length, 0), width: ch.width, height: ch.height,
               painted };
    });
    return { version: window.Chart ? Chart.version : null,
             instances: window.Chart ? Object.keys(Chart.instances).length : -1, canvases };
  });
}

// Checks that the page shows exactly the charts `want` ({id: {type, datasets, points?}}).
function checkCharts(where, info, want) {
  const out = [];
  const ids = info.canvases.map((c) => c.id).sort();
  if (ids.join() !== Object.keys(want).sort().join()) out.push(`canvases ${ids.join()}`);
  for (const [id, w] of Object.entries(want)) {
    const c = info.canvases.find((x) => x.id === id);
    if (!c || !c.chart) { out.push(`${id}: no Chart.js chart`); continue; }
    if (c.type !== w.type) out.push(`${id}: type ${c.type}`);
    if (c.datasets !== w.datasets) out.push(`${id}: ${c.datasets} datasets, want ${w.datasets}`);
    if (w.points !== undefined && c.points !== w.points) out.push(`${id}: ${c.points} points, want ${w.points}`);
    if (w.points === undefined && c.points === 0) out.push(`${id}: no points`);
    if (!(c.width > 0 && c.height > 0 && c.painted > 0)) out.push(`${id}: not drawn (${c.width}x${c.height}, ${c.painted} px)`);
  }
  if (info.instances !== info.canvases.length) out.push(`${info.instances} Chart.js instances for ${info.canvases.length} canvases`);
  out.length === 0 ? ok(`${where}: ${Object.keys(want).length} Chart.js ${info.version} chart(s) drawn ` +
                        `(${info.canvases.map((c) => `${c.id} ${c.datasets} datasets/${c.points} points`).join(', ')})`)
                   : bad(`${where} charts: ` + out.join('; '));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => { if (!r.url().endsWith('/events')) errors.push('request failed: ' + r.url()); });

  // Overview.
  await page.goto(url + '/#/');
  await page.waitForSelector('table#subnets tbody tr', { timeout: 20000 });
  const subnetRows = await page.locator('table#subnets tbody tr').count();
  subnetRows === 2 ? ok('overview lists the 2 subnets') : bad(`overview lists ${subnetRows} subnets`);
  await page.waitForSelector('#live.on', { timeout: 10000 }).then(() => ok('event stream connected'),
                                                                  () => bad('event stream not connected'));
  const ov = await page.evaluate(async () => (await fetch('/api/overview')).json());
  const shown = ov.subnets.filter((s) => s.netuid !== 0).length;
  checkCharts('overview', await chartInfo(page),
              { 'chart-emission-share': { type: 'bar', datasets: 1, points: shown } });
  await page.screenshot({ path: path.join(shots, 'overview.png') });

  // Subnet 1: the table against `merit metagraph --json`.
  await page.goto(url + '/#/subnet/1');
  await page.waitForSelector('table#metagraph tbody tr', { timeout: 20000 });
  let last = [];
  for (let i = 0; i < 20; i++) {
    const table = await tableValues(page);
    last = diff(table, metagraphJson(1));
    if (last.length === 0) break;
    await sleep(700);  // an epoch or a weights update fell between the two reads: read both again
  }
  last.length === 0 ? ok('metagraph table equals `merit metagraph --json` (every uid, every column)')
                    : bad('metagraph table differs: ' + last.slice(0, 8).join('; '));
  const sorted = await page.evaluate(() => {
    document.querySelector('table#metagraph th[data-key="stake"]').click();
    return true;
  });
  await sleep(300);
  const stakes = await page.$$eval('table#metagraph tbody td[data-k="stake"]', (tds) => tds.map((t) => Number(t.dataset.v)));
  sorted && stakes.every((s, i) => i === 0 || stakes[i - 1] >= s) ? ok('clicking Stake sorts the table by stake')
                                                                  : bad('stake order after sorting: ' + stakes.join(','));
  await page.screenshot({ path: path.join(shots, 'subnet.png') });
  await page.screenshot({ path: path.join(shots, 'subnet-full.png'), fullPage: true });

  // Live update: the head and the table move on without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  const head0 = Number(await page.getAttribute('#head-block', 'data-block'));
  const table0 = Number(await page.getAttribute('table#metagraph', 'data-block'));
  const moved = await page.waitForFunction(
    ([h, t]) => Number(document.getElementById('head-block').dataset.block) > h &&
                Number((document.querySelector('table#metagraph') || { dataset: {} }).dataset.block) > t,
    [head0, table0], { timeout: 20000 }).then(() => true, () => false);
  const same = await page.evaluate(() => window.__sameDocument === true);
  moved && same ? ok(`a live update arrived after the next block (head ${head0} -> ` +
                     `${await page.getAttribute('#head-block', 'data-block')}, no reload)`)
                : bad(`no live update (moved ${moved}, same document ${same})`);

  // The history charts, after the redraws of the live update and a few more: one line per uid.
  await sleep(2500);
  const uids = metagraphJson(1).neurons.length;
  checkCharts('subnet page', await chartInfo(page), {
    'chart-incentive': { type: 'line', datasets: uids },
    'chart-dividends': { type: 'line', datasets: uids },
    'chart-emission': { type: 'line', datasets: uids },
  });
  // A tooltip opened by hovering a chart stays open across the redraws of the live page.
  const tooltip = () => page.evaluate(() => {
    const t = Chart.getChart(document.getElementById('chart-incentive')).tooltip;
    return { items: t.getActiveElements().length, opacity: t.opacity, title: (t.title || []).join(' '),
             rendered: document.getElementById('main').dataset.rendered };
  });
  let tip0 = { items: 0 };
  for (let i = 0; i < 5 && !(tip0.items > 0); i++) {
    // The canvas is replaced at every redraw and the layout can shift (a card's text wraps): find
    // it, scroll to it and read its box in one step of the page's own thread, again at each try.
    const box = await page.evaluate(() => {
      const c = document.getElementById('chart-incentive');
      c.scrollIntoView({ block: 'center' });
      const r = c.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
    await page.mouse.move(box.x + box.width * 0.7 - 6, box.y + box.height * 0.5, { steps: 3 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 3 });
    tip0 = await tooltip();
  }
  await page.waitForFunction((r) => document.getElementById('main').dataset.rendered !== r, tip0.rendered,
                             { timeout: 10000 }).catch(() => {});
  const tip = await tooltip();
  tip0.items > 0 && tip.items > 0 && tip.opacity > 0 && tip.rendered !== tip0.rendered
    ? ok(`hovering a chart opens its tooltip (${tip0.items} uids at ${tip0.title}), still open after a redraw ` +
         `(${tip.items} uids at ${tip.title})`)
    : bad(`tooltip: on hover ${JSON.stringify(tip0)}, after a redraw ${JSON.stringify(tip)}`);
  await page.screenshot({ path: path.join(shots, 'subnet-tooltip.png') });
  await page.mouse.move(0, 0);

  // Clicking a uid in the shared legend hides its line in all three charts, also after a redraw.
  const hiddenIn = () => page.evaluate(() => ['chart-incentive', 'chart-dividends', 'chart-emission'].map((id) => {
    const ch = Chart.getChart(document.getElementById(id));
    return ch.data.datasets.filter((d, i) => !ch.isDatasetVisible(i)).map((d) => d.label).join();
  }));
  const name = await page.evaluate(() => {
    const s = document.querySelector('.legend span[data-group="history"]:last-child');
    s.click();
    return s.dataset.name;
  });
  const r1 = await page.evaluate(() => document.getElementById('main').dataset.rendered);
  await page.waitForFunction((r) => document.getElementById('main').dataset.rendered !== r, r1, { timeout: 10000 })
    .catch(() => {});
  const hidden = await hiddenIn();
  await page.evaluate(() => document.querySelector('.legend span[data-group="history"]:last-child').click());
  const shownAgain = await hiddenIn();
  hidden.every((h) => h === name) && shownAgain.every((h) => h === '')
    ? ok(`clicking "${name}" in the legend hides its line in the 3 charts, across a redraw, and shows it again`)
    : bad(`legend click on ${name}: hidden ${JSON.stringify(hidden)}, after a second click ${JSON.stringify(shownAgain)}`);
  const cells = await page.locator('section svg rect').count();
  cells > 0 ? ok(`weights and bonds heatmaps drawn (${cells} cells)`) : bad('no heatmap cells');
  const scores = await page.locator('table#scores tbody tr').count();
  scores === 2 ? ok("both validators' scores shown") : bad(`${scores} validator score rows`);

  // A uid page and the localnet page.
  await page.goto(url + '/#/subnet/1/uid/1');
  await page.waitForSelector('#uid-info', { timeout: 10000 });
  await page.waitForFunction(() => !document.querySelector('#explain').textContent.includes('loading'),
                             null, { timeout: 20000 }).catch(() => {});
  ok('uid page loads');
  checkCharts('uid page', await chartInfo(page), {
    'chart-uid-props': { type: 'line', datasets: 2 },
    'chart-uid-emission': { type: 'line', datasets: 1 },
  });
  await page.screenshot({ path: path.join(shots, 'uid.png'), fullPage: true });
  await page.goto(url + '/#/localnet');
  await page.waitForSelector('table#processes tbody tr', { timeout: 10000 });
  const procs = await page.$$eval('table#processes tbody tr', (trs) => trs.map((t) => t.textContent));
  procs.length === 12 && procs.every((t) => t.includes('running'))
    ? ok('localnet page: 12 processes, all running') : bad('localnet processes: ' + procs.join(' | '));
  checkCharts('localnet page', await chartInfo(page), {});
  await page.screenshot({ path: path.join(shots, 'localnet.png'), fullPage: true });

  errors.length === 0 ? ok('no console errors') : bad('console errors: ' + errors.join(' | '));
} finally {
  await browser.close();
}
console.log(`screenshots in ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
