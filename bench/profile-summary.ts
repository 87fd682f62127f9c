// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by
// package, so "where does the coordinator's time go" has a short answer.
// Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: { name: string; ms: number; pct: number }[];
  byArea: { area: string; ms: number; pct: number }[];
}

/** Which part of the stack a frame belongs to: a package, node internals, DTX's own source, or idle/GC. */
function area(url: string, fn: string): string {
  if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/(coordinator|protocol|participant-sdk|bench|examples)\/src\/([^/]+)/.exec(url);
  if (own) return `dtx ${own[1]}/${own[2]}`;
  if (url === '') return '(native/vm)';
  return url.replace(/^.*\//, '');
}

export function summarise(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const file = f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(coordinator|protocol|participant-sdk|bench)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    total += us;
  }
  const rank = <K extends string>(m: Map<string, number>, k: K) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ [k]: name, ms: us / 1000, pct: (100 * us) / total }) as Record<K, string> & { ms: number; pct: number });
  return { totalMs: total / 1000, byFunction: rank(fns, 'name'), byArea: rank(areas, 'area') };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`CPU profile: ${(s.totalMs / 1000).toFixed(1)} s sampled`, '', 'self time by area:'];
  for (const a of s.byArea) lines.push(`  ${a.pct.toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(7)} ms  ${a.area}`);
  lines.push('', 'self time by function:');
  for (const f of s.byFunction) lines.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? 30))));
}
