// The demo's "Branding" page: a signed-in coach edits their own brand, sees it live in a
// preview, saves a draft or publishes it, and rolls back to an earlier version. It talks to the
// control plane's brand API (GET/PUT /brand, PUT /brand/draft, POST /brand/publish, GET
// /brand/versions, POST /brand/rollback) with the coach's own Supabase token. A publish carries
// the ETag of the version it was made from (If-Match): when another tab published meanwhile the
// page says so instead of overwriting it. A refused brand marks each field the API names.
// Everything from the API is written as text or as input values, never as HTML.
//
// Settings come from the URL fragment, as on the Domains page:
//   /branding#api=<control plane URL>&token=<the coach's Supabase JWT>
(() => {
  const params = new URLSearchParams(location.hash.slice(1));
  const api = (params.get('api') || '').replace(/\/+$/, '');
  const token = params.get('token') || '';
  const $ = (id) => document.getElementById(id);
  const form = $('brand');
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

  const inputs = () => [...form.querySelectorAll('input[name]')];
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
      if (value === '' && last === 'tagline') delete target[last];
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
  }

  function problems(fields = [], message = '') {
    for (const input of inputs()) {
      input.removeAttribute('aria-invalid');
      input.title = '';
    }
    for (const { pointer, reason } of fields) {
      const input = form.querySelector(`[data-pointer="${CSS.escape(pointer)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.title = reason;
      }
    }
    $('form-error').textContent = message;
    $('form-error').hidden = !message;
  }

  function show(state, tag) {
    published = state;
    etag = tag ?? etag;
    fill(state);
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

  /** A write; `publishes`: it carries the ETag of the version the page shows. */
  async function write(method, path, body, publishes) {
    const res = await call(method, path, { body, ifMatch: publishes ? etag : undefined });
    if (res.status === 200) {
      problems();
      show(res.json, res.etag);
      await history();
      return;
    }
    const error = res.json.error ?? {};
    if (res.status === 412) problems([], 'Someone published a newer version meanwhile: reload the page to edit it.');
    else problems(error.fields, error.message || `the control plane answered ${res.status}`);
  }

  form.addEventListener('input', preview);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    write('PUT', '/brand', edited(), true);
  });
  $('save-draft').addEventListener('click', () => write('PUT', '/brand/draft', edited(), false));
  $('publish-draft').addEventListener('click', () => write('POST', '/brand/publish', undefined, true));

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
    show(res.json, res.etag);
    if (res.json.draft) fill(res.json.draft);
    await history();
  }

  start();
})();
