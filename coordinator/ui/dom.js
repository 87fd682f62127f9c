// A tiny element builder: text always goes in as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const statusBadge = (status, stuck) =>
  h('span', {}, h(`span.badge.s-${status}`, { title: status }, status.replace('_', ' ')), stuck ? h('span.badge.stuck', { title: 'retried at the maximum backoff: look at its attempts' }, 'stuck') : null);

/** tcc, saga or msg (v1.2). */
export const modeBadge = (mode) => h(`span.mode.m-${mode}`, { title: `${mode} transaction` }, mode);

export const time = (iso) => (iso ? h('time', { datetime: iso, title: iso }, formatTime(iso)) : h('span.muted', {}, '—'));

export function formatTime(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const hms = d.toLocaleTimeString([], { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, '0')}`;
  return today ? hms : `${d.toLocaleDateString()} ${hms}`;
}

export function ago(iso) {
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (Math.abs(s) < 60) return s >= 0 ? `${s}s ago` : `in ${-s}s`;
  const m = Math.round(s / 60);
  if (Math.abs(m) < 120) return m >= 0 ? `${m} min ago` : `in ${-m} min`;
  const hr = Math.round(m / 60);
  return hr >= 0 ? `${hr} h ago` : `in ${-hr} h`;
}
