// The demo app's only script: fills in the tenant's texts from the JSON the Worker put in
// <script type="application/json" id="tenant-data"> (the same body as /_tenant/brand.json).
// Colours, fonts and the logo need no script: they are CSS custom properties from the first paint.
(() => {
  const data = document.getElementById('tenant-data');
  if (!data) return; // the platform's own host, or branding turned off
  const tenant = JSON.parse(data.textContent);
  const read = (path) => path.split('.').reduce((value, key) => (value == null ? value : value[key]), tenant);
  for (const element of document.querySelectorAll('[data-text]')) {
    const text = read(element.dataset.text);
    if (typeof text === 'string' && text) element.textContent = text;
  }
  document.title = `${document.title} · ${tenant.displayName}`;
  if (tenant.brand && tenant.brand.showPoweredBy === false) {
    for (const footer of document.querySelectorAll('.powered-by')) footer.hidden = true;
  }
})();
