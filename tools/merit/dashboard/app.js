// meritnet dashboard: plain DOM, Chart.js (Debian's libjs-chart.js) for the line and bar charts
// and SVG for the heatmaps; no framework. Pages (by URL hash):
//   #/                      network overview
//   #/subnet/N              one subnet: metagraph table, history charts, weights and bonds
//   #/subnet/N/uid/U        one uid: its values, history, weights and explanation
//   #/localnet              a localnet's processes and validators' scores
// Data comes from /api/* (the dashboard's snapshot of the chain); /events (Server-Sent Events)
// says when a block arrived (`block`) and when the snapshot changed (`update`).
'use strict';

const U16 = 65535;
const RAO = 1e9;
const PALETTE = ['#2457c5', '#d1495b', '#2a9d8f', '#e9a23b', '#7b4fb5', '#5c946e', '#c9636f', '#3d7ea6',
                 '#a0522d', '#6c757d', '#b5179e', '#4d908e'];

const state = {
  overview: null,
  localnet: null,
  subnets: {},
  sort: { key: 'uid', dir: 1 },
  refreshTimer: null,
  lastRender: 0,
};

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const e = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
                                   : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const svg = (tag, attrs, ...children) => el('svg:' + tag, attrs, ...children);

async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
  return r.json();
}

const prop = (v) => (v / U16).toFixed(4);
function merit(rao) {
  const m = rao / RAO;
  if (m === 0) return '0';
  return m >= 1000 ? m.toFixed(2) : m >= 1 ? m.toFixed(4) : m.toPrecision(4);
}
const short = (addr) => (addr ? addr.slice(0, 8) + '…' : '–');
const axonText = (a) => (a ? a.ip + ':' + a.port : '–');
const colorOf = (i) => PALETTE[i % PALETTE.length];
const tierChip = (tier) => (tier ? el('span', { class: 'tier tier-' + tier, text: tier }) : '');

function section(title, ...children) {
  return el('section', {}, el('h2', { text: title }), ...children);
}

// The localnet member (name, tier, role) that owns `hotkey` on subnet `netuid`, if any.
function memberOf(netuid, hotkey) {
  const ln = state.localnet;
  if (!ln || !ln.processes) return null;
  const sn = (ln.subnets || []).find((s) => s.netuid === netuid);
  if (!sn) return null;
  return ln.processes.find((p) => p.subnet === sn.name && p.hotkey === hotkey) || null;
}

// ---- charts (Chart.js, from Debian's libjs-chart.js; heatmaps below are SVG) ----

// Every page is rebuilt from the API on each redraw: the charts of the old page are destroyed
// before it is replaced (nothing leaks), and the new page's charts are created once their canvases
// are in the document (Chart.js sizes them from their box). No animation: a redraw draws once.
// Lines a user hid (by clicking a legend entry), as "group/name": kept across redraws.
const charts = { pending: [], live: [], hidden: new Set() };
if (window.Chart) {
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11;
  Chart.defaults.color = '#3b4455';
  Chart.defaults.borderColor = '#e3e6eb';
}

// A box of fixed height holding a canvas; the chart is drawn by mountPage(). config: {label, chart
// (Chart.js's configuration), group (for toggleLine)}.
function chartBox(id, height, config) {
  const canvas = el('canvas', { id, role: 'img', 'aria-label': config.label || id });
  const box = el('div', { class: 'chart' }, canvas);
  box.style.height = height + 'px';  // CSSOM: the CSP forbids style attributes
  charts.pending.push({ canvas, config: config.chart, group: config.group });
  return box;
}

// Replaces `main`'s content with `nodes`, destroying the charts drawn before and drawing the new.
// A tooltip open on a chart is opened again on its successor (same canvas id), so hovering a chart
// of a live page keeps showing the values instead of losing them at every redraw.
function mountPage(main, nodes) {
  const hovered = new Map();
  for (const { chart } of charts.live) {
    const t = chart.tooltip;
    const active = t ? t.getActiveElements() : [];
    if (active.length && t.opacity > 0) {
      // A line's points by x (epoch block): the new chart's history may have moved by an epoch.
      const xOf = (a) => (chart.data.datasets[a.datasetIndex].data[a.index] || {}).x;
      hovered.set(chart.canvas.id, {
        active: active.map((a) => ({ datasetIndex: a.datasetIndex, index: a.index, x: xOf(a) })),
        at: { x: t.caretX, y: t.caretY },
      });
    }
    chart.destroy();
  }
  charts.live = [];
  const pending = charts.pending;
  charts.pending = [];
  main.replaceChildren(...nodes);
  if (!window.Chart) {
    for (const p of pending) p.canvas.replaceWith(el('p', { class: 'error', text: 'Chart.js did not load' }));
    return;
  }
  for (const p of pending) {
    const chart = new Chart(p.canvas, p.config);
    charts.live.push({ chart, group: p.group });
    const h = hovered.get(p.canvas.id);
    const ds = chart.data.datasets;
    const active = [];
    for (const a of h ? h.active : []) {
      const data = a.datasetIndex < ds.length ? ds[a.datasetIndex].data : [];
      // Bars (no x) by position.
      const index = a.x === undefined ? (a.index < data.length ? a.index : -1) : data.findIndex((p) => p.x === a.x);
      if (index >= 0) active.push({ datasetIndex: a.datasetIndex, index });
    }
    if (active.length) {
      chart.tooltip.setActiveElements(active, h.at);
      chart.update();
    }
  }
}

// Chart axes in fractions of 1 (u16 proportions) and in MERIT (rao amounts); tooltips as the tables.
const asProp = { unit: (v) => v / U16, fmt: prop };
const asMerit = { unit: (v) => v / RAO, fmt: merit };

// Shows or hides line `name` of every chart in `group`, and remembers it for the next redraws.
function toggleLine(group, name) {
  const key = group + '/' + name;
  const hide = !charts.hidden.has(key);
  if (hide) charts.hidden.add(key); else charts.hidden.delete(key);
  for (const { chart, group: g } of charts.live) {
    if (g !== group) continue;
    chart.data.datasets.forEach((d, i) => { if (d.label === name) chart.setDatasetVisibility(i, !hide); });
    chart.update();
  }
  for (const s of document.querySelectorAll('.legend span[data-group]')) {
    if (s.dataset.group === group && s.dataset.name === name) s.classList.toggle('off', hide);
  }
}

// Lines over epochs: series = [{name, color, values: [[x, raw], ...]}]. The axis is in `unit` (raw
// value -> number, e.g. u16 -> fraction of 1) so its ticks are round; tooltips show fmt(raw), as
// the tables do. The chart's own legend is shown when `legend` is set; charts of one `group` (the
// same uids) share one legend(series, group) instead. A click on a legend entry hides its line.
function lineChart(id, series, { height = 190, unit = (v) => v, fmt = (v) => v, xLabel = 'epoch block', yLabel = '',
                                 legend = false, group = id } = {}) {
  const empty = series.every((s) => s.values.length === 0);
  // The x axis spans the epochs shown, not Chart.js's rounder bounds.
  const xs = series.flatMap((s) => s.values.map((p) => p[0]));
  const chart = {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.name, data: s.values.map(([x, v]) => ({ x, y: unit(v), v })),
        borderColor: s.color, backgroundColor: s.color,
        borderWidth: 1.8, pointRadius: s.values.length <= 40 ? 2.2 : 0, pointHoverRadius: 4, tension: 0,
        hidden: charts.hidden.has(group + '/' + s.name),
      })),
    },
    options: {
      parsing: false,
      // Hovering anywhere picks the nearest epoch and shows every line's value there.
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: xLabel },
             min: xs.length ? Math.min(...xs) : undefined, max: xs.length ? Math.max(...xs) : undefined,
             ticks: { precision: 0, callback: (v) => String(v) } },
        y: { beginAtZero: true, title: { display: !!yLabel, text: yLabel } },
      },
      plugins: {
        legend: { display: legend, position: 'bottom', labels: { boxWidth: 10, boxHeight: 10 },
                  onClick: (e, item) => toggleLine(group, item.text) },
        title: { display: empty, text: 'no epochs recorded yet', color: '#667085' },
        tooltip: {
          itemSort: (a, b) => b.parsed.y - a.parsed.y,
          callbacks: {
            title: (items) => (items.length ? `${xLabel} ${items[0].parsed.x}` : ''),
            label: (item) => `${item.dataset.label}: ${fmt(item.raw.v)}`,
          },
        },
      },
    },
  };
  return chartBox(id, height, { label: series.map((s) => s.name).join(', '), chart, group });
}

function legend(series, group) {
  return el('div', { class: 'legend' }, series.map((s) => el('span', {
    class: group && charts.hidden.has(group + '/' + s.name) ? 'off' : null,
    dataset: group ? { group, name: s.name } : null, title: group ? 'click to hide or show this line' : null,
    onclick: group ? () => toggleLine(group, s.name) : null,
  }, el('i', { class: 'swatch', 'data-color': s.color }), s.name)));
}
// CSP forbids inline style attributes: colour the swatches through the CSSOM.
function paintSwatches(root) {
  for (const i of root.querySelectorAll('i.swatch')) i.style.background = i.dataset.color;
}

// Writes each bar's text (items[k].text) just past its end.
const barTextPlugin = {
  id: 'meritBarText',
  afterDatasetsDraw(chart) {
    const texts = chart.data.datasets[0].texts || [];
    const { ctx } = chart;
    ctx.save();
    ctx.font = `11px ${Chart.defaults.font.family}`;
    ctx.fillStyle = '#3b4455';
    ctx.textBaseline = 'middle';
    chart.getDatasetMeta(0).data.forEach((bar, k) => ctx.fillText(texts[k] || '', bar.x + 6, bar.y));
    ctx.restore();
  },
};

// Horizontal bars: items = [{label, value, text}]; the axis shows unit(value), in `unitLabel`;
// tooltips fmt(value) and the text.
function barChart(id, items, { unit = (v) => v, fmt = (v) => v, unitLabel = '' } = {}) {
  const chart = {
    type: 'bar',
    data: {
      labels: items.map((i) => i.label),
      datasets: [{ label: unitLabel, data: items.map((i) => unit(i.value)),
                   backgroundColor: items.map((_, k) => colorOf(k)),
                   texts: items.map((i) => i.text), borderRadius: 2, barPercentage: 0.8, categoryPercentage: 0.9 }],
    },
    options: {
      indexAxis: 'y',
      layout: { padding: { right: 56 } },
      scales: {
        x: { beginAtZero: true, title: { display: !!unitLabel, text: unitLabel } },
        y: { grid: { display: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: {
          label: (item) => `${fmt(items[item.dataIndex].value)} ${unitLabel} (${items[item.dataIndex].text})`,
        } },
      },
    },
    plugins: [barTextPlugin],
  };
  return chartBox(id, Math.max(26 * items.length + 56, 110), { label: items.map((i) => i.label).join(', '), chart });
}

// A matrix as coloured cells: rows = [{label, cells: Map(col -> u16)}], cols = [{key, label}].
function heatmap(rows, cols, { rowTitle = 'row', colTitle = 'col' } = {}) {
  const cell = Math.max(14, Math.min(34, Math.floor(760 / Math.max(cols.length, 1))));
  const L = 110, T = 40;
  const W = L + cell * cols.length + 10, H = T + cell * rows.length + 6;
  const box = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: Math.min(W, 1280), role: 'img' });
  box.append(svg('text', { x: 2, y: 12 }, `${rowTitle} ↓ · ${colTitle} →`));
  cols.forEach((c, j) => {
    box.append(svg('text', { x: L + j * cell + cell / 2, y: T - 6, 'text-anchor': 'middle' }, c.label));
  });
  rows.forEach((r, i) => {
    box.append(svg('text', { x: L - 6, y: T + i * cell + cell / 2 + 4, 'text-anchor': 'end' }, r.label));
    cols.forEach((c, j) => {
      const v = r.cells.get(c.key) || 0;
      const t = v / U16;
      // white -> deep blue
      const shade = `rgb(${Math.round(255 - 219 * t)},${Math.round(255 - 168 * t)},${Math.round(255 - 58 * t)})`;
      box.append(svg('rect', { x: L + j * cell, y: T + i * cell, width: cell - 1, height: cell - 1, fill: shade,
                               stroke: '#e3e6eb' },
                     svg('title', {}, `${r.label} → ${c.label}: ${prop(v)} (${v})`)));
      if (cell >= 28 && v > 0) {
        box.append(svg('text', { x: L + j * cell + cell / 2, y: T + i * cell + cell / 2 + 4, 'text-anchor': 'middle',
                                 fill: t > 0.55 ? '#fff' : '#1d2430' }, (t * 100).toFixed(0)));
      }
    });
  });
  return box;
}

// ---- sortable table ----

// cols = [{key, label, value(row) -> sortable raw, render(row) -> node/text, cls}]
function sortableTable(id, cols, rows, onRow) {
  const s = state.sort;
  const col = cols.find((c) => c.key === s.key) || cols[0];
  const sorted = rows.slice().sort((a, b) => {
    const x = col.value(a), y = col.value(b);
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * s.dir;
  });
  const head = el('tr', {}, cols.map((c) => el('th', {
    class: ['sortable', c.cls || '', c.key === col.key ? (s.dir > 0 ? 'sorted-asc' : 'sorted-desc') : ''].join(' '),
    'data-key': c.key, title: c.title || 'sort by ' + c.label,
    onclick: () => {
      state.sort = { key: c.key, dir: state.sort.key === c.key ? -state.sort.dir : (c.key === 'uid' ? 1 : -1) };
      render();
    },
  }, c.label)));
  const body = sorted.map((r) => el('tr', { 'data-uid': r.uid }, cols.map((c) => {
    const raw = c.value(r);
    return el('td', { class: c.cls || '', 'data-k': c.key, 'data-v': raw === null ? 'null' : String(raw) },
              c.render ? c.render(r) : String(raw));
  })));
  const t = el('table', { id }, el('thead', {}, head), el('tbody', {}, body));
  if (onRow) t.addEventListener('click', (e) => {
    const tr = e.target.closest('tbody tr');
    if (tr && !e.target.closest('a')) onRow(Number(tr.dataset.uid));
  });
  return t;
}

// ---- pages ----

function navigation() {
  const nav = document.getElementById('nav');
  const here = location.hash || '#/';
  const links = [['#/', 'Overview']];
  for (const s of (state.overview && state.overview.subnets) || []) {
    if (s.netuid !== 0) links.push([`#/subnet/${s.netuid}`, `Subnet ${s.netuid} · ${s.plugin || ''}`]);
  }
  if (state.overview && state.overview.localnet) links.push(['#/localnet', 'Localnet']);
  nav.replaceChildren(...links.map(([href, text]) => el('a', {
    href, text, class: here === href || (href !== '#/' && here.startsWith(href + '/')) ? 'active' : null,
  })));
  const ov = state.overview;
  if (ov) {
    document.getElementById('chain-name').textContent = ov.chain;
    setHead(ov.head.number);
    const bt = ov.observed_block_time_ms ? `${ov.observed_block_time_ms} ms/block` : `${ov.block_time_ms} ms/block`;
    document.getElementById('block-time').textContent = bt;
  }
}

function setHead(n) {
  const b = document.getElementById('head-block');
  if (Number(b.dataset.block) >= n) return;
  b.dataset.block = String(n);
  b.textContent = String(n);
  const card = document.getElementById('ov-head');
  if (card) card.textContent = String(n);
}

function card(k, v, id) {
  return el('div', { class: 'card' }, el('div', { class: 'k', text: k }), el('div', { class: 'v', id, text: v }));
}

function pageOverview() {
  const ov = state.overview;
  const subnets = ov.subnets.filter((s) => s.netuid !== 0);
  const total = subnets.reduce((a, s) => a + (s.emission_per_block || 0), 0);
  const main = [];
  main.push(el('div', { class: 'cards' },
    card('Head block', String(ov.head.number), 'ov-head'),
    card('Block time', `${ov.observed_block_time_ms || ov.block_time_ms} ms`),
    card('Target block time', `${ov.block_time_ms} ms`),
    card('Subnets', String(subnets.length)),
    card('Emission per block', merit(total) + ' MERIT'),
    card('Root validators', String(ov.root.length))));
  const shares = subnets.map((s) => ({
    label: `${s.netuid} ${s.plugin || ''}`,
    value: s.emission_per_block || 0,
    text: total ? ((100 * (s.emission_per_block || 0)) / total).toFixed(1) + ' %' : '0 %',
  }));
  const tbl = el('table', { id: 'subnets' },
    el('thead', {}, el('tr', {}, ['Netuid', 'Plugin', 'Uids', 'Tempo', 'Next epoch in', 'Emission/block',
                                  'Share', 'Burn'].map((h, i) => el('th', { class: i < 2 ? 'l' : '', text: h })))),
    el('tbody', {}, subnets.map((s) => el('tr', {},
      el('td', { class: 'l' }, el('a', { href: `#/subnet/${s.netuid}`, text: String(s.netuid) })),
      el('td', { class: 'l', text: s.plugin || '–' }),
      el('td', { text: `${s.n} / ${s.max_uids}` }),
      el('td', { text: String(s.tempo) }),
      el('td', { text: String(s.blocks_until_next_epoch) }),
      el('td', { text: merit(s.emission_per_block || 0) }),
      el('td', { text: total ? ((100 * (s.emission_per_block || 0)) / total).toFixed(1) + ' %' : '–' }),
      el('td', { text: merit(s.burn || 0) })))));
  main.push(el('div', { class: 'grid2 row' },
    section('Emission share by subnet', shares.length
      ? barChart('chart-emission-share', shares, { ...asMerit, unitLabel: 'MERIT per block' })
      : el('p', { class: 'muted', text: 'no subnets' })),
    section('Subnets', tbl)));
  const cols = subnets.map((s) => ({ key: s.netuid, label: String(s.netuid) }));
  const rows = ov.root.map((r) => ({ label: `uid ${r.uid} ${short(r.hotkey)}`, cells: new Map(r.weights) }));
  const rootTable = el('table', { id: 'root-weights' },
    el('thead', {}, el('tr', {}, el('th', { class: 'l', text: 'Root validator' }), el('th', { text: 'Stake' }),
                    subnets.map((s) => el('th', { text: 'Subnet ' + s.netuid })))),
    el('tbody', {}, ov.root.map((r) => {
      const w = new Map(r.weights);
      return el('tr', {}, el('td', { class: 'l mono', title: r.hotkey, text: `uid ${r.uid} ${short(r.hotkey)}` }),
                el('td', { text: merit(r.stake) }),
                subnets.map((s) => el('td', { text: prop(w.get(s.netuid) || 0) })));
    })));
  main.push(section('Root weights (root validators × subnets)',
    rows.length ? el('div', { class: 'grid2' }, el('div', {}, rootTable),
                     el('div', {}, heatmap(rows, cols, { rowTitle: 'root validator', colTitle: 'subnet' })))
                : el('p', { class: 'muted', text: 'no root validators' })));
  return main;
}

function neuronColumns(netuid) {
  const cols = [
    { key: 'uid', label: 'UID', value: (n) => n.uid,
      render: (n) => el('a', { href: `#/subnet/${netuid}/uid/${n.uid}`, text: String(n.uid) }) },
    { key: 'hotkey', label: 'Hotkey', cls: 'l mono', value: (n) => n.hotkey,
      render: (n) => el('span', { title: n.hotkey, text: short(n.hotkey) }) },
  ];
  if (state.localnet && state.localnet.processes) {
    cols.push({ key: 'member', label: 'Name / tier', cls: 'l',
                value: (n) => { const m = memberOf(netuid, n.hotkey); return m ? (m.tier || m.role) + ' ' + m.name : null; },
                render: (n) => { const m = memberOf(netuid, n.hotkey);
                                 return m ? el('span', {}, m.name + ' ', m.tier ? tierChip(m.tier) : el('span', { class: 'muted', text: m.role })) : '–'; } });
  }
  cols.push(
    { key: 'stake', label: 'Stake', value: (n) => n.stake, render: (n) => merit(n.stake) },
    { key: 'validator_permit', label: 'Permit', value: (n) => n.validator_permit,
      render: (n) => (n.validator_permit ? 'yes' : 'no') },
    { key: 'validator_trust', label: 'VTrust', title: 'validator trust', value: (n) => n.validator_trust,
      render: (n) => prop(n.validator_trust) },
    { key: 'consensus', label: 'Consensus', value: (n) => n.consensus, render: (n) => prop(n.consensus) },
    { key: 'incentive', label: 'Incentive', value: (n) => n.incentive, render: (n) => prop(n.incentive) },
    { key: 'dividends', label: 'Dividends', value: (n) => n.dividends, render: (n) => prop(n.dividends) },
    { key: 'emission', label: 'Emission', title: 'MERIT earned in the last epoch', value: (n) => n.emission,
      render: (n) => merit(n.emission) },
    { key: 'axon', label: 'Axon', cls: 'l mono', value: (n) => axonText(n.axon) },
    { key: 'prune_rank', label: 'Prune rank', title: '1 = replaced by the next registration into a full subnet',
      value: (n) => (n.prune_rank === undefined ? null : n.prune_rank),
      render: (n) => (n.prune_rank === null || n.prune_rank === undefined ? '–' : String(n.prune_rank)) },
    { key: 'last_update', label: 'Last update', value: (n) => n.last_update });
  return cols;
}

function uidLabel(netuid, n) {
  const m = memberOf(netuid, n.hotkey);
  return m ? `${n.uid} ${m.name}` : `uid ${n.uid}`;
}

function historyCharts(mg, uids) {
  const h = (mg.history && mg.history.epochs) || [];
  const make = (field) => uids.map((uid, k) => ({
    name: uidLabel(mg.netuid, mg.neurons[uid] || { uid }), color: colorOf(k),
    values: h.filter((e) => uid < e[field].length).map((e) => [e.block, e[field][uid]]),
  }));
  const inc = make('incentive'), div = make('dividends'), em = make('emission');
  const note = `${h.length} epoch${h.length === 1 ? '' : 's'} (kept: last ${(mg.history && mg.history.limit) || '?'}; ` +
               `recorded by ${(mg.history && mg.history.source) || '?'})`;
  return el('div', { class: 'row' },
    el('div', { class: 'grid3' },
      section('Incentive per uid', lineChart('chart-incentive', inc, { ...asProp, yLabel: 'incentive', group: 'history' })),
      section('Dividends per uid', lineChart('chart-dividends', div, { ...asProp, yLabel: 'dividends', group: 'history' })),
      section('Emission per uid (MERIT)', lineChart('chart-emission', em, { ...asMerit, yLabel: 'MERIT', group: 'history' }))),
    el('div', { class: 'muted' }, legend(inc, 'history'), note));
}

function matrix(mg, field) {
  // Rows: the uids that have a row (validators that set weights, hold bonds); columns: every uid.
  let validators = mg.neurons.filter((n) => (n[field] || []).length > 0);
  if (validators.length === 0) validators = mg.neurons.filter((n) => n.validator_permit);
  const rows = validators.map((n) => ({ label: uidLabel(mg.netuid, n), cells: new Map(n[field] || []) }));
  const cols = mg.neurons.map((n) => ({ key: n.uid, label: String(n.uid) }));
  if (mg.weights_omitted) return el('p', { class: 'muted', text: 'too large to fetch with the metagraph' });
  if (rows.length === 0) return el('p', { class: 'muted', text: 'none yet' });
  return heatmap(rows, cols, { rowTitle: 'validator', colTitle: 'uid' });
}

function scoresSection(mg) {
  const ln = state.localnet;
  if (!ln || !ln.processes) return null;
  const sn = (ln.subnets || []).find((s) => s.netuid === mg.netuid);
  if (!sn) return null;
  const vals = ln.processes.filter((p) => p.subnet === sn.name && p.role === 'validator');
  const miners = mg.neurons.filter((n) => { const m = memberOf(mg.netuid, n.hotkey); return m && m.role === 'miner'; });
  const t = el('table', { id: 'scores' },
    el('thead', {}, el('tr', {}, el('th', { class: 'l', text: 'Validator' }),
      miners.map((n) => { const m = memberOf(mg.netuid, n.hotkey);
                          return el('th', {}, `${m.name} (uid ${n.uid}) `, tierChip(m.tier)); }))),
    el('tbody', {}, vals.map((v) => {
      const sc = (ln.scores || {})[v.hotkey_name];
      return el('tr', {}, el('td', { class: 'l' }, v.name + ' ', v.alive ? '' : el('span', { class: 'down', text: 'down' })),
        miners.map((n) => el('td', { 'data-v': sc && sc[n.uid] !== undefined ? sc[n.uid] : 'null',
                                     text: sc && sc[n.uid] !== undefined ? Number(sc[n.uid]).toFixed(3) : '–' })));
    })));
  return section("Validators' current scores (moving averages, from their /metrics)", t);
}

function pageSubnet(mg) {
  const netuid = mg.netuid;
  const main = [];
  main.push(el('h1', {}, `Subnet ${netuid} · ${mg.plugin}`));
  main.push(el('div', { class: 'cards' },
    card('Metagraph at block', String(mg.block), 'mg-block'),
    card('Uids', `${mg.n} / ${mg.max_uids}`),
    card('Tempo', `${mg.tempo} blocks`),
    card('Next epoch in', `${mg.blocks_until_next_epoch} blocks`),
    card('Last epoch', String(mg.last_epoch_block)),
    card('Emission per block', merit(mg.emission_per_block) + ' MERIT'),
    card('Registration burn', merit(mg.burn) + ' MERIT')));
  const table = sortableTable('metagraph', neuronColumns(netuid), mg.neurons,
                              (uid) => { location.hash = `#/subnet/${netuid}/uid/${uid}`; });
  table.dataset.block = String(mg.block);
  table.dataset.netuid = String(netuid);
  main.push(section('Metagraph (click a column to sort, a row to open the uid)', table));
  const sc = scoresSection(mg);
  if (sc) main.push(sc);
  main.push(historyCharts(mg, mg.neurons.map((n) => n.uid)));
  main.push(el('div', { class: 'grid2 row' },
    section('Weights (validators × uids)', matrix(mg, 'weights')),
    section('Bonds (validators × uids)', matrix(mg, 'bonds'))));
  const hp = mg.hyperparameters || {};
  main.push(section('Hyperparameters', el('div', { class: 'hyper', id: 'hyperparameters' },
    Object.keys(hp).sort().map((k) => el('div', {}, el('span', { class: 'muted', text: k }), el('b', { text: String(hp[k]) }))))));
  return main;
}

function pageUid(mg, uid) {
  const n = mg.neurons[uid];
  if (!n) return [el('p', { class: 'error', text: `no uid ${uid} on subnet ${mg.netuid}` })];
  const m = memberOf(mg.netuid, n.hotkey);
  const main = [];
  main.push(el('h1', {}, el('a', { href: `#/subnet/${mg.netuid}`, text: `Subnet ${mg.netuid}` }), ` · uid ${uid} `,
               m ? el('span', {}, `(${m.name}) `, tierChip(m.tier)) : ''));
  const kv = [
    ['Hotkey', n.hotkey], ['Coldkey', n.coldkey], ['Stake', merit(n.stake) + ' MERIT'],
    ['Validator permit', n.validator_permit ? 'yes' : 'no'], ['Validator trust', prop(n.validator_trust)],
    ['Consensus', prop(n.consensus)], ['Incentive', prop(n.incentive)], ['Dividends', prop(n.dividends)],
    ['Emission (last epoch)', merit(n.emission) + ' MERIT'], ['Axon', axonText(n.axon)],
    ['Active', n.active ? 'yes' : 'no'], ['Last update', String(n.last_update)],
    ['Registered at block', String(n.block_at_registration)], ['Immunity left', `${n.immunity_left} blocks`],
    ['Prune rank', n.prune_rank === null || n.prune_rank === undefined ? '– (never replaced)' : String(n.prune_rank)],
  ];
  const info = section('Now (block ' + mg.block + ')', el('div', { class: 'kv mono', id: 'uid-info' },
    kv.flatMap(([k, v]) => [el('div', { text: k }), el('div', { text: v })])));
  // Epochs of this hotkey only: a uid replaced by a new registration starts a new history (the
  // chain's epoch_list names each uid's hotkey; the dashboard's own record does not).
  const h = ((mg.history && mg.history.epochs) || []).filter((e) => !e.hotkeys || e.hotkeys[uid] === n.hotkey);
  const series = (field, name, k) => ({ name, color: colorOf(k),
    values: h.filter((e) => uid < e[field].length).map((e) => [e.block, e[field][uid]]) });
  const props = [series('incentive', 'incentive', 0), series('dividends', 'dividends', 1)];
  const em = [series('emission', 'emission', 2)];
  main.push(el('div', { class: 'grid2 row' }, info,
    section('Explanation of the last epoch', el('div', { class: 'explain', id: 'explain' },
                                              el('p', { class: 'muted', text: 'loading…' })))));
  main.push(el('div', { class: 'grid2 row' },
    section('Incentive and dividends per epoch',
            lineChart('chart-uid-props', props, { ...asProp, yLabel: 'fraction of 1', legend: true })),
    section('Emission per epoch (MERIT)', lineChart('chart-uid-emission', em, { ...asMerit, yLabel: 'MERIT', legend: true }))));
  const given = n.weights || [];
  const received = mg.neurons.map((v) => [v, (v.weights || []).find((w) => w[0] === uid)]).filter((x) => x[1]);
  const wt = (rows) => el('table', {}, el('tbody', {}, rows));
  main.push(el('div', { class: 'grid2 row' },
    section('Weights it sets', given.length ? wt(given.map(([u, w]) => el('tr', {},
      el('td', { class: 'l' }, el('a', { href: `#/subnet/${mg.netuid}/uid/${u}`, text: uidLabel(mg.netuid, mg.neurons[u] || { uid: u }) })),
      el('td', { text: prop(w) })))) : el('p', { class: 'muted', text: 'none' })),
    section('Weights it receives', received.length ? wt(received.map(([v, w]) => el('tr', {},
      el('td', { class: 'l' }, el('a', { href: `#/subnet/${mg.netuid}/uid/${v.uid}`, text: uidLabel(mg.netuid, v) })),
      el('td', { text: prop(w[1]) })))) : el('p', { class: 'muted', text: 'none' }))));
  const epochs = el('table', {}, el('thead', {}, el('tr', {}, ['Epoch block', 'Incentive', 'Dividends', 'Emission']
    .map((t) => el('th', { text: t })))), el('tbody', {}, h.slice().reverse().filter((e) => uid < e.incentive.length)
    .map((e) => el('tr', {}, el('td', { text: String(e.block) }), el('td', { text: prop(e.incentive[uid]) }),
                   el('td', { text: prop(e.dividends[uid]) }), el('td', { text: merit(e.emission[uid]) })))));
  main.push(section('History', epochs));
  return main;
}

function pageLocalnet() {
  const ln = state.localnet;
  if (!ln || !ln.processes) {
    return [el('p', { class: 'muted', text: ln && ln.error ? 'localnet state: ' + ln.error : 'not a localnet' })];
  }
  const main = [];
  main.push(el('h1', {}, `Localnet · ${ln.phase}`));
  const alive = ln.processes.filter((p) => p.alive).length;
  main.push(el('div', { class: 'cards' }, card('Processes running', `${alive} / ${ln.processes.length}`),
    card('Phase', ln.phase), card('Measured since block', String(ln.measure_start_block || '–')),
    card('Epochs asked', ln.epochs ? String(ln.epochs) : 'until stopped')));
  const t = el('table', { id: 'processes' },
    el('thead', {}, el('tr', {}, ['Name', 'Role', 'Subnet', 'Tier', 'Status', 'Pid', 'Hotkey', 'Axon', 'Metrics port']
      .map((x, i) => el('th', { class: i < 4 || i > 5 ? 'l' : '', text: x })))),
    el('tbody', {}, ln.processes.map((p) => el('tr', {},
      el('td', { class: 'l', text: p.name }), el('td', { class: 'l', text: p.role }),
      el('td', { class: 'l', text: p.subnet || '–' }), el('td', { class: 'l' }, tierChip(p.tier)),
      el('td', {}, el('span', { class: p.alive ? 'ok' : 'down', text: p.alive ? 'running' : 'stopped' })),
      el('td', { text: String(p.pid) }), el('td', { class: 'l mono', title: p.hotkey, text: p.hotkey ? short(p.hotkey) : '–' }),
      el('td', { class: 'l mono', text: p.axon || '–' }),
      el('td', { class: 'l', text: p.metrics_port > 0 ? String(p.metrics_port) : '–' })))));
  main.push(section('Processes', t));
  for (const s of ln.subnets || []) {
    const mg = state.subnets[s.netuid];
    if (!mg) continue;
    const sc = scoresSection(mg);
    if (sc) {
      sc.querySelector('h2').textContent = `Subnet ${s.netuid} (${s.name}): validators' current scores`;
      main.push(sc);
    }
  }
  return main;
}

// ---- routing and refresh ----

function route() {
  const h = location.hash || '#/';
  let m;
  if ((m = h.match(/^#\/subnet\/(\d+)\/uid\/(\d+)$/))) return { page: 'uid', netuid: Number(m[1]), uid: Number(m[2]) };
  if ((m = h.match(/^#\/subnet\/(\d+)$/))) return { page: 'subnet', netuid: Number(m[1]) };
  if (h === '#/localnet') return { page: 'localnet' };
  return { page: 'overview' };
}

async function loadExplanation(netuid, uid) {
  const box = document.getElementById('explain');
  if (!box) return;
  let text;
  try {
    const r = await fetch(`/api/explain/${netuid}/${uid}`, { cache: 'no-store' });
    if (!r.ok) {
      text = el('p', { class: 'error', text: `explanation unavailable (HTTP ${r.status})` });
    } else {
      const j = await r.json();
      text = j.available === false ? el('p', { class: 'muted', text: j.reason }) : el('div', {}, j.text ? el('pre', { text: j.text }) : null,
                el('details', {}, el('summary', { text: 'JSON' }), el('pre', { text: JSON.stringify(j, null, 1) })));
    }
  } catch (e) {
    text = el('p', { class: 'error', text: String(e.message || e) });
  }
  if (document.getElementById('explain') === box) box.replaceChildren(text);
}

let rendering = false;
async function render() {
  if (rendering) { state.again = true; return; }
  rendering = true;
  const main = document.getElementById('main');
  try {
    const r = route();
    const [ov, ln] = await Promise.all([getJSON('/api/overview'), getJSON('/api/localnet')]);
    state.overview = ov;
    state.localnet = ln;
    let content;
    if (r.page === 'overview') {
      content = pageOverview();
    } else if (r.page === 'localnet') {
      const sns = (ln && ln.subnets) || [];
      await Promise.all(sns.map(async (s) => { state.subnets[s.netuid] = await getJSON(`/api/subnet/${s.netuid}`); }));
      content = pageLocalnet();
    } else {
      const mg = await getJSON(`/api/subnet/${r.netuid}`);
      state.subnets[r.netuid] = mg;
      content = r.page === 'subnet' ? pageSubnet(mg) : pageUid(mg, r.uid);
    }
    navigation();
    const y = window.scrollY;
    const keepExplain = r.page === 'uid' && state.explained === `${r.netuid}/${r.uid}/${state.subnets[r.netuid].last_epoch_block}`
      ? document.getElementById('explain') : null;
    mountPage(main, content);
    paintSwatches(main);
    window.scrollTo(0, y);
    if (r.page === 'uid') {
      const key = `${r.netuid}/${r.uid}/${state.subnets[r.netuid].last_epoch_block}`;
      if (keepExplain) document.getElementById('explain').replaceWith(keepExplain);
      else { state.explained = key; loadExplanation(r.netuid, r.uid); }
    }
    main.dataset.rendered = String(Date.now());
  } catch (e) {
    charts.pending = [];  // charts of a page that failed half-built
    mountPage(main, [el('p', { class: 'error', text: 'Cannot read the dashboard: ' + (e.message || e) })]);
  } finally {
    rendering = false;
    state.lastRender = Date.now();
    if (state.again) { state.again = false; scheduleRender(); }
  }
}

// Updates come as fast as blocks; pages are redrawn at most once a second.
function scheduleRender() {
  if (state.refreshTimer) return;
  const wait = Math.max(0, 1000 - (Date.now() - state.lastRender));
  state.refreshTimer = setTimeout(() => { state.refreshTimer = null; render(); }, wait);
}

function connect() {
  const live = document.getElementById('live');
  const es = new EventSource('/events');
  es.addEventListener('open', () => { live.className = 'on'; live.textContent = 'live'; });
  es.addEventListener('error', () => { live.className = 'off'; live.textContent = 'reconnecting'; });
  es.addEventListener('block', (e) => {
    try { setHead(JSON.parse(e.data).number); } catch (_) { /* a malformed event is ignored */ }
  });
  es.addEventListener('update', () => scheduleRender());
}

window.addEventListener('hashchange', () => { state.sort = { key: 'uid', dir: 1 }; window.scrollTo(0, 0); render(); });
render();
connect();
