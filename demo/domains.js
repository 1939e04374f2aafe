// The demo's "Domains" page: a signed-in coach adds a custom domain, copies the DNS record it
// needs, and watches it become active. It talks to the control plane's coach API (GET/POST
// /domains, DELETE /domains/{hostname}, POST /domains/{hostname}/primary) with the coach's own
// Supabase token, and re-reads the list every 5 seconds, as Vercel's domain widget does, so a
// status change shows without a reload. Everything from the API is written as text, never HTML.
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
          },
          el('h2', {}, d.hostname, ' ', el('span', { class: `status ${d.status}`, textContent: STATUS_TEXT[d.status] || d.status })),
          el('p', { class: 'ownership', textContent: owner }),
          el('p', { class: 'ssl', textContent: `${certificate(d)}${d.primary ? ' · primary domain' : ''}` }),
        );
        if (d.status !== 'active' && d.status !== 'removing') {
          item.append(el('p', { textContent: 'Add these records at your DNS provider:' }), dnsTable(d));
        }
        if (d.errors.length > 0) item.append(el('ul', { class: 'problem' }, ...d.errors.map((e) => el('li', { textContent: e }))));
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
    await refresh();
    setInterval(refresh, POLL_MS);
  }

  start();
})();
