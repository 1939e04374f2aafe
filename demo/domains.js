// The demo's "Domains" page: a signed-in coach adds a custom domain, copies the DNS record it
// needs, and watches it become active. It talks to the control plane's coach API (GET/POST
// /domains, DELETE /domains/{hostname}, POST /domains/{hostname}/primary) with the coach's own
// Supabase token, and re-reads the list every 5 seconds, as Vercel's domain widget does, so a
// status change shows without a reload. Everything from the API is written as text, never HTML.
//
// Each domain shows the DNS doctor's verdict (`diagnosis`: what is wrong and the one thing to do
// about it, checked by the control plane itself) and says "Ready" only when the API says
// `ready`: Cloudflare's hostname and certificate active, and the DNS pointing here.
//
// Each domain shows its last 24 hours of traffic (GET /analytics, hourly buckets: requests,
// errors, the share answered from the edge cache), re-read every minute; where the control
// plane has no analytics (404 not_enabled), the page shows none.
//
// The page reads its settings from the URL fragment (never sent to a server):
//   /domains#api=<control plane URL>&token=<the coach's Supabase JWT>
// scripts/dev prints such a link; the tenant is the coach's own, from /_tenant/me.
(() => {
  const POLL_MS = 5000;
  const params = new URLSearchParams(location.hash.slice(1));
  const api = (params.get('api') || '').replace(/\/+$/, '');
  const token = params.get('token') || '';
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const child of children) node.append(child);
    return node;
  };
  const headers = { authorization: `Bearer ${token}` };
  let tenantId = null;
  const TRAFFIC_MS = 60_000;
  const HOURS = 24;
  /** host → hourly buckets of the last 24 hours; null while unknown or off. */
  let traffic = null;
  let trafficSince = 0;

  /** Calls the coach API; resolves with the JSON body, or throws its error message. */
  async function call(method, path, body) {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.error?.message || `the control plane answered ${res.status}`);
    return json;
  }

  const STATUS_TEXT = {
    pending: 'Pending verification',
    active: 'Active',
    moved: 'Moved away',
    blocked: 'Blocked',
    failed: 'Failed',
    removing: 'Removing',
  };

  /** The doctor's verdicts, in the coach's words. */
  const VERDICT_TEXT = {
    ready: 'Ready',
    certificate_pending: 'DNS right: certificate on its way',
    proof_missing: 'Ownership TXT record missing',
    cname_missing: 'CNAME record missing',
    cname_elsewhere: 'CNAME points elsewhere',
    apex_needs_flattening: 'Apex domain: needs an ALIAS or flattening',
    caa_blocks_certificate: 'CAA records block the certificate',
    stale_acme_challenge: 'Leftover _acme-challenge record',
    proxied_by_another_cloudflare_account: 'Served by another Cloudflare account',
    unknown: 'DNS check failed: trying again',
    not_checked: 'DNS not checked yet',
  };

  /** The doctor's verdict on a domain: its name, the fix, where the name points, when checked. */
  function diagnosis(d) {
    const { code, fix, pointsTo, checkedAt } = d.diagnosis;
    const ok = code === 'ready' || code === 'certificate_pending';
    const checked = checkedAt ? ` (checked ${new Date(checkedAt).toISOString().slice(11, 19)} UTC)` : '';
    return el(
      'div',
      { class: 'diagnosis', 'data-code': code, 'data-ready': String(d.ready) },
      el('p', {}, el('strong', { class: 'verdict', textContent: VERDICT_TEXT[code] || code }), checked),
      el('p', { class: ok ? 'fix' : 'fix problem', textContent: fix }),
      ...(pointsTo ? [el('p', { class: 'points-to' }, 'It points to ', el('span', { class: 'mono', textContent: pointsTo }))] : []),
    );
  }

  function copyButton(value) {
    const button = el('button', { type: 'button', textContent: 'Copy' });
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(value);
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Select and copy';
      }
    });
    return button;
  }

  /** What the page says of a domain's certificate. */
  function certificate(d) {
    if (d.ssl) return `Certificate: ${d.ssl}`;
    return d.status === 'active' ? 'Set up by the platform' : 'Certificate: not requested yet';
  }

  function dnsTable(domain) {
    const rows = domain.dns.map((r) =>
      el(
        'tr',
        { 'data-type': r.type },
        el('td', { textContent: r.type }),
        el('td', { className: 'mono', textContent: r.name }),
        el('td', { className: 'mono', textContent: r.value }),
        el('td', { textContent: r.optional ? 'optional' : 'required' }),
        el('td', {}, copyButton(r.value)),
      ),
    );
    return el(
      'table',
      { class: 'dns' },
      el('thead', {}, el('tr', {}, ...['Type', 'Name', 'Value', '', ''].map((h) => el('th', { textContent: h })))),
      el('tbody', {}, ...rows),
    );
  }

  /** The last 24 hours of `host`: a bar per hour (errors in red) and a line of totals. */
  function trafficChart(host) {
    const buckets = traffic?.get(host) ?? [];
    const byHour = new Map(buckets.map((b) => [Date.parse(b.start), b]));
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', `0 0 ${HOURS * 10} 40`);
    svg.setAttribute('class', 'chart');
    svg.setAttribute('role', 'img');
    const hours = Array.from({ length: HOURS }, (_, i) => trafficSince + i * 3_600_000);
    const max = Math.max(1, ...hours.map((h) => byHour.get(h)?.requests ?? 0));
    const bar = (x, height, kind, title) => {
      const rect = document.createElementNS(svgNs, 'rect');
      for (const [k, v] of Object.entries({ x, y: 40 - height, width: 8, height, class: kind })) rect.setAttribute(k, v);
      const t = document.createElementNS(svgNs, 'title');
      t.textContent = title;
      rect.append(t);
      svg.append(rect);
    };
    let requests = 0;
    let errors = 0;
    let hits = 0;
    hours.forEach((h, i) => {
      const b = byHour.get(h);
      if (!b) return;
      const failed = b.status4xx + b.status5xx;
      requests += b.requests;
      errors += failed;
      hits += b.cacheHitRatio * b.requests;
      const when = new Date(h).toISOString().slice(11, 16);
      const title = `${when} UTC: ${b.requests} requests, ${failed} errors, ${Math.round(b.cacheHitRatio * 100)}% from cache`;
      bar(i * 10, Math.max(1, (b.requests / max) * 40), 'requests', title);
      if (failed > 0) bar(i * 10, Math.max(1, (failed / max) * 40), 'errors', title);
    });
    const summary =
      requests === 0
        ? 'No traffic in the last 24 hours.'
        : `Last 24 hours: ${requests} requests, ${errors} errors, ${Math.round((hits / requests) * 100)}% from cache.`;
    svg.setAttribute('aria-label', summary);
    return el(
      'div',
      { class: 'traffic', 'data-requests': String(requests), 'data-errors': String(errors) },
      svg,
      el('p', { class: 'traffic-summary', textContent: summary }),
    );
  }

  async function loadTraffic() {
    const since = new Date(Date.now() - (HOURS - 1) * 3_600_000);
    since.setUTCMinutes(0, 0, 0);
    try {
      const { buckets } = await call(
        'GET',
        `/analytics?tenant_id=${tenantId}&since=${encodeURIComponent(since.toISOString())}&bucket=hour`,
      );
      traffic = new Map();
      for (const b of buckets) traffic.set(b.host, [...(traffic.get(b.host) ?? []), b]);
      trafficSince = since.getTime();
    } catch {
      traffic = null;
    }
  }

  function render(domains) {
    const list = $('domains');
    list.replaceChildren(
      ...domains.map((d) => {
        const actions = el('p', { class: 'choices' });
        if (d.status === 'active' && !d.primary) {
          const primary = el('button', { type: 'button', textContent: 'Make primary' });
          primary.addEventListener('click', () => act('POST', `/domains/${d.hostname}/primary`));
          actions.append(primary);
        }
        if (d.status !== 'removing') {
          const remove = el('button', { type: 'button', textContent: 'Remove' });
          remove.addEventListener('click', () => act('DELETE', `/domains/${d.hostname}`));
          actions.append(remove);
        }
        const owner = d.ownershipVerifiedAt ? 'Ownership verified' : 'Ownership not verified yet: add the TXT record';
        const item = el(
          'li',
          {
            class: 'card domain',
            'data-hostname': d.hostname,
            'data-status': d.status,
            'data-owned': String(Boolean(d.ownershipVerifiedAt)),
            'data-ready': String(d.ready),
          },
          el(
            'h2',
            {},
            d.hostname,
            ' ',
            el('span', { class: `status ${d.status}`, textContent: STATUS_TEXT[d.status] || d.status }),
            ...(d.ready ? [' ', el('span', { class: 'status active ready', textContent: 'Ready' })] : []),
          ),
          diagnosis(d),
          el('p', { class: 'ownership', textContent: owner }),
          el('p', { class: 'ssl', textContent: `${certificate(d)}${d.primary ? ' · primary domain' : ''}` }),
        );
        if (d.status !== 'active' && d.status !== 'removing') {
          item.append(el('p', { textContent: 'Add these records at your DNS provider:' }), dnsTable(d));
        }
        if (d.errors.length > 0) item.append(el('ul', { class: 'problem' }, ...d.errors.map((e) => el('li', { textContent: e }))));
        if (traffic) item.append(trafficChart(d.hostname));
        item.append(actions);
        return item;
      }),
    );
    $('empty').hidden = domains.length > 0;
  }

  async function refresh() {
    if (!tenantId) return;
    try {
      const { domains } = await call('GET', `/domains?tenant_id=${tenantId}`);
      render(domains);
    } catch (e) {
      $('signed-in').textContent = `Could not load your domains: ${e.message}`;
    }
  }

  async function act(method, path) {
    try {
      await call(method, `${path}?tenant_id=${tenantId}`);
    } catch (e) {
      alert(e.message);
    }
    refresh();
  }

  $('add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('hostname');
    const problem = $('add-error');
    problem.hidden = true;
    try {
      await call('POST', '/domains', { tenantId, hostname: input.value.trim() });
      input.value = '';
    } catch (e) {
      problem.textContent = e.message;
      problem.hidden = false;
    }
    refresh();
  });

  async function start() {
    if (!api || !token) {
      $('signed-in').textContent = 'Open this page from the link scripts/dev prints: it signs you in as a demo coach.';
      $('add').hidden = true;
      return;
    }
    const res = await fetch('/_tenant/me', { headers });
    if (!res.ok) {
      $('signed-in').textContent = 'Your sign-in was refused: open the link scripts/dev prints again.';
      $('add').hidden = true;
      return;
    }
    const me = await res.json();
    tenantId = me.id;
    $('signed-in').textContent = `Signed in to ${me.displayName}.`;
    await loadTraffic();
    await refresh();
    setInterval(refresh, POLL_MS);
    setInterval(() => loadTraffic().then(refresh), TRAFFIC_MS);
  }

  start();
})();
