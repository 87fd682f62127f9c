// The registry reachable here serves only the linux-gnu builds of platform packages,
// so `npm install` leaves the other platforms' optional packages out of
// package-lock.json and `npm ci` then calls the lockfile out of sync. This adds the
// entries a lockfile made against the full registry would have (os/cpu/libc from
// the package name), which npm ci recognises and skips on this platform.
// Run after any `npm install` that changes the lockfile: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

const OS = ['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'openharmony', 'win32'];
const CPU = { 'arm-eabi': 'arm', arm: 'arm', arm64: 'arm64', x64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const at = parts.findIndex((p) => OS.includes(p));
  if (at < 0) return null;
  const os = parts[at];
  const rest = parts.slice(at + 1);
  const cpuKey = rest[0] === 'arm' && rest[1] === 'eabi' ? 'arm-eabi' : rest[0];
  const cpu = CPU[cpuKey];
  if (!cpu) return null;
  const libc = rest.some((p) => p.startsWith('musl')) ? ['musl'] : os === 'linux' && rest.some((p) => p.startsWith('gnu')) ? ['glibc'] : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${key ? `${key}/` : ''}node_modules/${dep}`;
    if (packages[nested] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    // keys in the order npm writes them, so a later npm install leaves the entry as it is
    const { os, cpu, libc } = platform;
    packages[`node_modules/${dep}`] = { version, cpu, ...(entry.dev ? { dev: true } : {}), ...(libc ? { libc } : {}), optional: true, os };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
