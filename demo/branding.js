// The demo's "Branding" page: a signed-in coach edits their own brand, sees it live in a
// preview, saves a draft or publishes it, opens the draft on their own site, rolls back to an
// earlier version, and puts the site in maintenance. It talks to the control plane's brand API
// (GET/PUT /brand, PUT /brand/draft, POST /brand/publish, POST /brand/preview, GET
// /brand/versions, POST /brand/rollback) and GET/PUT /maintenance with the coach's own Supabase
// token. A publish carries the ETag of the version it was made from (If-Match): when another tab
// published meanwhile the page says so instead of overwriting it. A refused brand or maintenance
// setting marks each field the API names. Everything from the API is written as text or as
// input values, never as HTML.
//
// Settings come from the URL fragment, as on the Domains page:
//   /branding#api=<control plane URL>&token=<the coach's Supabase JWT>
(() => {
  const params = new URLSearchParams(location.hash.slice(1));
  const api = (params.get('api') || '').replace(/\/+$/, '');
  const token = params.get('token') || '';
  const $ = (id) => document.getElementById(id);
  const form = $('brand');
  const maintenance = $('maintenance');
  /** Brand fields the contract lets be absent: an empty input leaves them out. */
  const OPTIONAL = ['tagline', 'favicon', 'locale'];
  const COLORS = ['primary', 'primaryHover', 'secondary', 'background', 'backgroundSubtle', 'text', 'textMuted', 'border'];
  let tenantId = null;
  let etag = null;
  let published = null;

  for (const name of COLORS) {
    const label = document.createElement('label');
    label.className = 'color';
    const input = document.createElement('input');
    input.name = `colors.${name}`;
    input.dataset.pointer = `/colors/${name}`;
    label.append(
      name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`),
      ' ',
      input,
    );
    $('colors').append(label);
  }

  /** Calls the brand API; resolves with `{ status, json, etag }`. */
  async function call(method, path, { body, ifMatch } = {}) {
    const headers = { authorization: `Bearer ${token}` };
    if (body) headers['content-type'] = 'application/json';
    if (ifMatch) headers['if-match'] = ifMatch;
    const res = await fetch(`${api}${path}?tenant_id=${tenantId}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: await res.json().catch(() => ({})), etag: res.headers.get('etag') };
  }

  const inputs = (of = form) => [...of.querySelectorAll('input[name]')];
  const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

  /** The form's brand: `{ displayName, brandConfig }`, keys the form does not show kept as they were. */
  function edited() {
    const brandConfig = structuredClone(published?.brandConfig ?? {});
    let displayName = '';
    for (const input of inputs()) {
      const value = input.type === 'checkbox' ? input.checked : input.value;
      if (input.name === 'displayName') {
        displayName = value;
        continue;
      }
      const keys = input.name.split('.');
      let target = brandConfig;
      for (const k of keys.slice(0, -1)) target = target[k] ??= {};
      const last = keys[keys.length - 1];
      if (value === '' && OPTIONAL.includes(last)) delete target[last];
      else target[last] = value;
    }
    return { displayName, brandConfig };
  }

  function fill({ displayName, brandConfig }) {
    for (const input of inputs()) {
      const value = input.name === 'displayName' ? displayName : get(brandConfig, input.name);
      if (input.type === 'checkbox') input.checked = Boolean(value);
      else input.value = value ?? '';
    }
    preview();
  }

  /** Paints the preview with the form's values, as the Worker's brand.css would. */
  function preview() {
    const { displayName, brandConfig: b } = edited();
    const box = $('preview');
    for (const name of COLORS) box.style.setProperty(`--p-${name}`, b.colors?.[name] ?? '');
    box.style.setProperty('--p-heading', b.fonts?.heading ?? '');
    box.style.setProperty('--p-body', b.fonts?.body ?? '');
    box.querySelector('.preview-name').textContent = displayName;
    box.querySelector('.preview-tagline').textContent = b.tagline ?? '';
    box.lang = b.locale ?? '';
  }

  /** Marks the inputs of `of` (a form) whose JSON Pointer the API named, and says `message` below it. */
  function problems(fields = [], message = '', of = form) {
    for (const input of inputs(of)) {
      input.removeAttribute('aria-invalid');
      input.title = '';
    }
    for (const { pointer, reason } of fields ?? []) {
      const input = of.querySelector(`[data-pointer="${CSS.escape(pointer)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.title = reason;
      }
    }
    const error = of.querySelector('.problem[role="alert"]');
    error.textContent = message;
    error.hidden = !message;
  }

  /** What the page says of a refused call: the API's message, or its status. */
  const refusal = (res) => res.json.error?.message || `the control plane answered ${res.status}`;

  /** Shows the API's `state`; the form holds its draft when `draft` is asked and there is one, else the published brand. */
  function show(state, tag, draft = false) {
    published = state;
    etag = tag ?? etag;
    fill(draft && state.draft ? state.draft : state);
    $('version').textContent = `Published version ${state.version}${state.draft ? ' · a draft is saved' : ''}`;
    $('publish-draft').hidden = !state.draft;
    form.dataset.version = String(state.version);
  }

  async function history() {
    const { status, json } = await call('GET', '/brand/versions');
    if (status !== 200) return;
    $('history-card').hidden = false;
    $('history').replaceChildren(
      ...json.versions.map((v) => {
        const li = document.createElement('li');
        li.dataset.version = String(v.version);
        li.append(`Version ${v.version}: ${v.displayName}, ${new Date(v.publishedAt).toLocaleString()} `);
        if (v.version !== published.version) {
          const back = document.createElement('button');
          back.type = 'button';
          back.textContent = 'Roll back to this';
          back.addEventListener('click', () => write('POST', '/brand/rollback', { version: v.version }, true));
          li.append(back);
        }
        return li;
      }),
    );
  }

  /** A write; `publishes`: it carries the ETag of the version the page shows. Resolves with whether it was made. */
  async function write(method, path, body, publishes) {
    const res = await call(method, path, { body, ifMatch: publishes ? etag : undefined });
    if (res.status === 200) {
      problems();
      show(res.json, res.etag, !publishes);
      await history();
      return true;
    }
    if (res.status === 412) problems([], 'Someone published a newer version meanwhile: reload the page to edit it.');
    else problems(res.json.error?.fields, refusal(res));
    return false;
  }

  /**
   * A preview link, made for this page's stack: the control plane names the tenant's host as
   * production serves it (`https://<host>/`); the page reaches that host the way it was itself
   * reached (its scheme and port: the resolver's, which serves this page too), path and query
   * kept. Deployed, both are https on the default port and nothing changes; on the local stack
   * `https://coach.northstar.localhost/?…` becomes `http://coach.northstar.localhost:8787/?…`.
   */
  function local(url) {
    const link = new URL(url);
    link.protocol = location.protocol;
    link.port = location.port;
    return link.href;
  }

  /**
   * Saves the form as the draft, asks for a link that shows it on the coach's own site, and
   * opens it in a new tab. The tab is opened at the click, before the calls, so no popup
   * blocker takes it for an unasked one; it is closed again when no link comes.
   */
  async function openPreview() {
    const tab = window.open('', '_blank');
    if (tab) tab.opener = null;
    $('preview-link').hidden = true;
    const res = (await write('PUT', '/brand/draft', edited(), false)) ? await call('POST', '/brand/preview') : null;
    if (res?.status !== 200) {
      tab?.close();
      if (res) problems(res.json.error?.fields, refusal(res));
      return;
    }
    const url = local(res.json.url);
    const expires = $('preview-expires');
    expires.dateTime = res.json.expiresAt;
    expires.textContent = new Date(res.json.expiresAt).toLocaleString();
    $('preview-url').href = url;
    $('preview-url').textContent = url;
    $('preview-link').hidden = false;
    if (tab) tab.location.href = url;
    else window.open(url, '_blank', 'noopener');
  }

  /** Shows the maintenance setting `state` (`{ on, message, retryAfterSeconds }`) in its form. */
  function showMaintenance(state) {
    const field = (name) => maintenance.elements.namedItem(name);
    field('on').checked = state.on;
    field('message').value = state.message ?? '';
    // Minutes to two decimals: saved again, they come back to the same whole seconds.
    const minutes = state.retryAfterSeconds == null ? '' : String(Math.round((state.retryAfterSeconds / 60) * 100) / 100);
    field('retryAfterMinutes').value = minutes;
    maintenance.dataset.on = String(state.on);
    $('maintenance-state').textContent = state.on
      ? 'Your site is in maintenance: visitors see your message instead of its pages.'
      : 'Your site is open to visitors.';
  }

  /**
   * The maintenance form as the API takes it: minutes here, seconds there; nothing but `on` when
   * off. An empty message or delay is left out: the control plane has a default for each. Any
   * other value goes as it is, for the API to accept or name.
   */
  function maintenanceEdit() {
    const field = (name) => maintenance.elements.namedItem(name);
    if (!field('on').checked) return { on: false };
    const message = field('message').value;
    const minutes = field('retryAfterMinutes').value.trim();
    return {
      on: true,
      ...(message === '' ? {} : { message }),
      ...(minutes === '' ? {} : { retryAfterSeconds: Math.round(Number(minutes) * 60) }),
    };
  }

  async function saveMaintenance() {
    const res = await call('PUT', '/maintenance', { body: maintenanceEdit() });
    if (res.status === 200) {
      problems([], '', maintenance);
      showMaintenance(res.json);
    } else {
      problems(res.json.error?.fields, refusal(res), maintenance);
    }
  }

  form.addEventListener('input', preview);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    write('PUT', '/brand', edited(), true);
  });
  $('save-draft').addEventListener('click', () => write('PUT', '/brand/draft', edited(), false));
  $('publish-draft').addEventListener('click', () => write('POST', '/brand/publish', undefined, true));
  $('open-preview').addEventListener('click', openPreview);
  maintenance.addEventListener('submit', (event) => {
    event.preventDefault();
    saveMaintenance();
  });

  async function start() {
    if (!api || !token) {
      $('signed-in').textContent = 'Open this page from the link scripts/dev prints: it signs you in as a demo coach.';
      return;
    }
    const me = await fetch('/_tenant/me', { headers: { authorization: `Bearer ${token}` } });
    if (!me.ok) {
      $('signed-in').textContent = 'Your sign-in was refused: open the link scripts/dev prints again.';
      return;
    }
    tenantId = (await me.json()).id;
    const res = await call('GET', '/brand');
    if (res.status !== 200) {
      $('signed-in').textContent = `Could not load your brand: ${res.json.error?.message ?? res.status}`;
      return;
    }
    $('signed-in').textContent = `Signed in to ${res.json.displayName}.`;
    form.hidden = false;
    show(res.json, res.etag, true);
    const state = await call('GET', '/maintenance');
    if (state.status === 200) {
      maintenance.hidden = false;
      showMaintenance(state.json);
    }
    await history();
  }

  start();
})();
