// The shic dashboard: plain ES module, no build step, nothing from the internet. Every call goes through the
// control API with the session cookie; state-changing calls carry the session's CSRF token.
const $ = (selector) => document.querySelector(selector);
let csrfToken = null;
const state = {
  deployments: [],
  instances: [],
  leases: [],
  requests: [],
  memory: { system: null, instances: [] },
  progress: new Map(),
  failures: new Map(),
};
const events = [];
let logSource = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    // Styles through the CSSOM: the page's CSP forbids inline style attributes.
    else if (key === 'style') Object.assign(node.style, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false)
      node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat())
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} m ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} m`;
}

function alertError(message) {
  const box = $('#alerts');
  box.prepend(el('p', {}, message));
  while (box.children.length > 3) box.lastChild.remove();
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken ?? '';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(data?.error?.message ?? `HTTP ${res.status}`);
    error.status = res.status;
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

async function action(label, run) {
  try {
    await run();
  } catch (error) {
    alertError(`${label}: ${error.code ? `${error.code}: ` : ''}${error.message}`);
  }
  await refresh();
}

function instancesOf(name) {
  return state.instances.filter((i) => i.metadata?.deployment === name && i.state !== 'stopped');
}

function renderDeployments() {
  const body = $('#deployments tbody');
  body.replaceChildren(
    ...state.deployments.map((d) => {
      const instance = instancesOf(d.name)[0];
      const st = instance?.state ?? 'unloaded';
      const progress = instance ? state.progress.get(instance.instanceId) : undefined;
      const since = instance?.readyAt ?? instance?.startedAt;
      const failure = state.failures.get(d.name) ?? (instance?.lastError ? instance.lastError : null);
      const stateCell = el('td', {}, el('span', { class: `state state-${st}` }, st));
      if (st === 'starting' && progress) {
        stateCell.append(
          ' ',
          el(
            'span',
            {
              class: 'progress',
              role: 'progressbar',
              'aria-valuenow': progress.percent ?? 0,
              'aria-valuemin': 0,
              'aria-valuemax': 100,
              title: progress.message,
            },
            el('span', { style: { width: `${progress.percent ?? 0}%` } }),
          ),
        );
      }
      if (failure) stateCell.append(el('div', { class: 'error' }, `${failure.code}: ${failure.message}`));
      const measured = state.memory.instances.find((m) => m.instanceId === instance?.instanceId);
      const resident = measured?.residentBytes;
      const charged = measured?.charged;
      const actions = el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            'aria-label': `Start ${d.name}`,
            onclick: () =>
              action(`Start ${d.name}`, async () => {
                state.failures.delete(d.name);
                try {
                  await api('POST', '/v1/endpoints/ensure', {
                    deployment: d.name,
                    ownerRef: 'dashboard',
                    ttlMs: 60000,
                  });
                } catch (error) {
                  state.failures.set(d.name, { code: error.code ?? 'error', message: error.message });
                  throw error;
                }
              }),
          },
          'Start',
        ),
        ' ',
        instance
          ? el(
              'button',
              {
                type: 'button',
                'aria-label': `Stop ${d.name}`,
                onclick: () =>
                  action(`Stop ${d.name}`, () =>
                    api('POST', `/v1/instances/${encodeURIComponent(instance.instanceId)}/stop`),
                  ),
              },
              'Stop',
            )
          : '',
        ' ',
        instance
          ? el(
              'button',
              {
                type: 'button',
                'aria-label': `Log of ${d.name}`,
                onclick: () => followLog(instance, d.name),
              },
              'Log',
            )
          : '',
      );
      return el(
        'tr',
        { 'data-deployment': d.name, 'data-state': st },
        el('th', { scope: 'row' }, d.name),
        el('td', {}, d.backend),
        stateCell,
        el(
          'td',
          {},
          instance ? `${instance.health}${instance.healthDetail ? ` (${instance.healthDetail})` : ''}` : '–',
        ),
        el('td', {}, instance && since && st !== 'failed' ? duration(Date.now() - since) : '–'),
        el('td', {}, instance?.restarts ?? '–'),
        el('td', {}, instance?.port ?? '–'),
        el(
          'td',
          {},
          instance
            ? instance.metadata?.adopted
              ? 'adopted'
              : instance.startupKind === 'spawned'
                ? 'spawned'
                : 'attached'
            : '–',
        ),
        el(
          'td',
          {},
          typeof resident === 'number' || charged
            ? memoryBar(charged, resident)
            : el('span', { class: 'muted' }, '–'),
        ),
        el('td', {}, instance?.leaseCount ?? 0),
        actions,
      );
    }),
  );
}

const mib = (bytes) =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;

// Residency's system device, when the daemon decides by memory (guides/residency.md).
function systemDevice() {
  return state.memory.residency?.devices.find((d) => d.device === 'system');
}

// What a server's memory is drawn against: residency's system budget, else the cgroup's limit when one applies,
// else the machine's memory.
function memoryBudget() {
  const device = systemDevice();
  if (device) return device.capacityBytes;
  const system = state.memory.system;
  return system ? (system.cgroupLimitBytes ?? system.totalBytes) : 0;
}

const SOURCES = {
  estimated: 'estimated',
  calibrated: 'measured by the server',
  configured: 'configured',
  none: 'unaccounted',
};

// The charge residency holds for the server (else its resident set) as a share of the budget.
function memoryBar(charged, resident) {
  const chargedBytes = charged ? Object.values(charged.bytes).reduce((a, b) => a + b, 0) : undefined;
  const bytes = chargedBytes ?? resident ?? 0;
  const budget = memoryBudget();
  const percent = budget > 0 ? Math.min(100, (bytes / budget) * 100) : 0;
  const parts = [
    charged
      ? `charged ${mib(bytes)} (${SOURCES[charged.source] ?? charged.source})`
      : `resident ${mib(bytes)}`,
    `of ${mib(budget)} (${percent.toFixed(2)} %)`,
    charged && typeof resident === 'number' ? `; resident ${mib(resident)}` : '',
  ];
  return el(
    'span',
    { class: 'memory', title: parts.join(' ') },
    el(
      'span',
      {
        class: 'membar',
        role: 'meter',
        'aria-valuenow': percent.toFixed(2),
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-label': 'share of memory',
      },
      el('span', { style: { width: `${Math.max(percent, 0.5)}%` } }),
    ),
    ` ${mib(bytes)}`,
  );
}

function renderLeases() {
  const now = Date.now();
  $('#leases tbody').replaceChildren(
    ...(state.leases.length === 0
      ? [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No leases.'))]
      : state.leases.map((lease) =>
          el(
            'tr',
            { 'data-lease': lease.leaseRef },
            el('td', {}, lease.ownerRef),
            el('td', {}, lease.instanceId),
            el(
              'td',
              { class: 'countdown', 'data-expires': lease.expiresAt },
              duration(lease.expiresAt - now),
            ),
            el('td', {}, lease.exclusive ? 'yes' : 'no'),
            el(
              'td',
              {},
              el(
                'button',
                {
                  type: 'button',
                  'aria-label': `Release lease of ${lease.ownerRef}`,
                  onclick: () =>
                    action('Release', () =>
                      api('DELETE', `/v1/leases/${encodeURIComponent(lease.leaseRef)}`),
                    ),
                },
                'Release',
              ),
            ),
          ),
        )),
  );
}

function sparkline(values, cls, width, height) {
  if (values.length < 2) return null;
  const max = Math.max(...values, 1e-9);
  const points = values.map(
    (v, i) =>
      `${((i / (values.length - 1)) * width).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`,
  );
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', cls);
  svg.append(line);
  return svg;
}

function renderRequests() {
  const recent = state.requests;
  $('#requests tbody').replaceChildren(
    ...recent
      .slice(0, 50)
      .map((r) =>
        el(
          'tr',
          {},
          el('td', {}, new Date(r.startedAt).toLocaleTimeString()),
          el('td', {}, r.model),
          el(
            'td',
            { class: `outcome-${r.outcome}` },
            r.errorCode ? `${r.outcome} (${r.errorCode})` : r.outcome,
          ),
          el('td', {}, r.httpStatus ?? '–'),
          el('td', {}, `${duration(r.waitMs)}${r.coldStart ? ' cold' : ''}`),
          el('td', {}, duration(r.ttftMs)),
          el('td', {}, r.completionTokens ?? '–'),
          el('td', {}, r.tokensPerSecond === null ? '–' : r.tokensPerSecond.toFixed(1)),
        ),
      ),
  );
  // Per deployment, the last 10 minutes, oldest first: TTFT (blue) and tokens/s (green).
  const since = Date.now() - 10 * 60 * 1000;
  const byDeployment = new Map();
  for (const r of [...recent].reverse()) {
    if (!r.deployment || r.startedAt < since || r.outcome !== 'completed') continue;
    if (!byDeployment.has(r.deployment)) byDeployment.set(r.deployment, []);
    byDeployment.get(r.deployment).push(r);
  }
  $('#charts').replaceChildren(
    ...[...byDeployment].map(([name, rs]) => {
      const ttft = rs.map((r) => r.ttftMs ?? 0);
      const tps = rs.map((r) => r.tokensPerSecond ?? 0);
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      return el(
        'figure',
        { class: 'chart', 'data-chart': name },
        el(
          'figcaption',
          {},
          `${name}: TTFT ${duration(median(ttft))}, ${median(tps).toFixed(1)} tok/s (median of ${rs.length})`,
        ),
        sparkline(ttft, 'ttft', 220, 36) ?? el('span', { class: 'muted' }, 'one request so far'),
        sparkline(tps, 'tps', 220, 36) ?? '',
      );
    }),
  );
}

function renderEvents() {
  const filter = $('#event-filter').value.trim();
  const shown = events.filter((e) => !filter || e.type.startsWith(filter) || e.type === filter).slice(-200);
  $('#events').replaceChildren(
    ...shown
      .reverse()
      .map((e) =>
        el(
          'li',
          {},
          `${new Date(e.at ?? Date.now()).toLocaleTimeString()} ${e.type} ${e.instanceId ?? e.deployment ?? ''} ${e.error ? `${e.error.code}: ${e.error.message}` : ''}`,
        ),
      ),
  );
}

function followLog(instance, name) {
  logSource?.close();
  const pre = $('#logs');
  pre.textContent = '';
  $('#log-title').textContent = `— ${name} (${instance.instanceId})`;
  logSource = new EventSource(
    `/v1/instances/${encodeURIComponent(instance.instanceId)}/logs?n=50&follow=true`,
  );
  logSource.addEventListener('log', (message) => {
    const { line } = JSON.parse(message.data);
    pre.textContent += `${line}\n`;
    if (pre.textContent.length > 200_000) pre.textContent = pre.textContent.slice(-100_000);
    pre.scrollTop = pre.scrollHeight;
  });
}

let refreshing = null;
async function refresh() {
  refreshing ??= (async () => {
    try {
      const [deployments, instances, leases, requests, memory] = await Promise.all([
        api('GET', '/v1/deployments'),
        api('GET', '/v1/instances'),
        api('GET', '/v1/leases'),
        api('GET', '/v1/requests?limit=200'),
        api('GET', '/v1/memory'),
      ]);
      state.memory = memory;
      state.deployments = deployments.deployments;
      state.instances = instances.instances;
      state.leases = leases.leases;
      state.requests = requests.requests;
      const live = state.instances.filter((i) => i.state !== 'stopped').length;
      const device = systemDevice();
      const waiting = memory.residency?.queue.length ?? 0;
      const budget = memoryBudget();
      $('#status').textContent = device
        ? `live · ${live} instances · memory ${mib(device.chargedBytes)} of ${mib(budget)} charged${waiting ? ` · ${waiting} waiting for memory` : ''}`
        : `live · ${live} instances · memory ${mib(budget - memory.system.availableBytes)} of ${mib(budget)} in use`;
      renderDeployments();
      renderLeases();
      renderRequests();
    } catch (error) {
      $('#status').textContent = `disconnected: ${error.message}`;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function watchEvents() {
  const source = new EventSource('/v1/events');
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    events.push(event);
    if (events.length > 1000) events.splice(0, events.length - 1000);
    if (event.type === 'instance.progress') state.progress.set(event.instanceId, event);
    if (event.type === 'instance.ready' || event.type === 'instance.stopped')
      state.progress.delete(event.instanceId);
    renderEvents();
    void refresh();
  };
  for (const type of [
    'instance.starting',
    'instance.spawned',
    'instance.progress',
    'instance.ready',
    'instance.degraded',
    'instance.recovered',
    'instance.exited',
    'instance.restarting',
    'instance.failed',
    'instance.stopped',
    'lease.acquired',
    'lease.renewed',
    'lease.released',
    'lease.expired',
    'lease.revoked',
    'probe.failed',
    'request.completed',
    'request.failed',
    'request.aborted',
  ]) {
    source.addEventListener(type, onEvent);
  }
  source.onerror = () => {
    $('#status').textContent = 'events reconnecting…';
  };
}

async function start() {
  try {
    ({ csrfToken } = await api('GET', '/v1/ui/session'));
  } catch {
    $('#login-needed').hidden = false;
    $('#status').textContent = 'not logged in';
    for (const section of document.querySelectorAll('main section')) section.hidden = true;
    return;
  }
  $('#logout').hidden = false;
  $('#logout').addEventListener('click', async () => {
    await api('POST', '/v1/ui/logout').catch(() => {});
    location.reload();
  });
  $('#event-filter').addEventListener('input', renderEvents);
  watchEvents();
  await refresh();
  setInterval(() => void refresh(), 2000);
  // Countdowns tick locally between refreshes.
  setInterval(() => {
    for (const cell of document.querySelectorAll('.countdown'))
      cell.textContent = duration(Number(cell.dataset.expires) - Date.now());
  }, 250);
}

void start();
