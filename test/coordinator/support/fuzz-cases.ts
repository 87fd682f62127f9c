/**
 * Seeded generators of requests the coordinator must refuse: every one is malformed,
 * hostile or wrong-typed, so the only right answers are a 4xx in the protocol's error
 * shape (or, for an oversized body, a reset) and no write to the log.
 */
export interface FuzzCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The server may drop the connection instead of answering (oversized bodies). */
  mayReset?: boolean;
}

/** mulberry32: small, fast and the same on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FuzzGen {
  constructor(
    private readonly rnd: () => number,
    /** Transactions that exist and are `trying`, without branches: valid writes to them would change the log. */
    private readonly liveXids: readonly string[],
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)]!;
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  /** A well-formed xid: a live one (so validation, not the 404, must refuse) or an unknown one. */
  xid(): string {
    return this.rnd() < 0.7 ? this.pick(this.liveXids) : `fz-${this.int(1e9)}`;
  }

  badXid(): string {
    return this.pick(['a%20b', 'x'.repeat(129), '%00', '..%2F..%2Fetc', '%C3%A4', '%E2%80%AE', '%ZZ', 'a%2Fb', '*', "1'OR'1'='1", '{}', '%20', 'x'.repeat(17_000)]);
  }

  badBranchId(): string {
    return this.pick(['', 'b'.repeat(65), 'a b', 'a/b', 'é', 7, null, {}, ['x'], true] as const) as string;
  }

  /** A value of the wrong type or out of bounds for a field of the given kind. */
  wrong(kind: 'string' | 'int' | 'bool' | 'url' | 'wait'): unknown {
    const common = [null, {}, [], [1], { $gt: '' }];
    switch (kind) {
      case 'string':
        return this.pick([...common, 1, true, '']);
      case 'int':
        return this.pick([...common, '5000', true, 1.5, -1, 0, 1e21, Number.MAX_SAFE_INTEGER + 2, 'NaN']);
      case 'bool':
        return this.pick([...common, 'true', 1, 0, 'false']);
      case 'url':
        return this.pick([...common, 1, '', 'u'.repeat(2049), 'not a url', 'ftp://127.0.0.1/x', 'javascript:alert(1)', 'file:///etc/passwd', 'http://', 'http://[::1', '//127.0.0.1/x']);
      case 'wait':
        return this.pick([...common, -1, 600_001, 1.5, 'true', 'yes']);
    }
  }

  private json(method: string, path: string, body: unknown): FuzzCase {
    return { kind: 'field', method, path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }

  branch(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const u = 'http://127.0.0.1:9/w.a';
    return { branchId: 'a', action: 'w.a', tryUrl: `${u}/try`, confirmUrl: `${u}/confirm`, cancelUrl: `${u}/cancel`, payload: { n: 1 }, ...overrides };
  }

  /** A branch with exactly one bad field (or a missing required one). */
  badBranch(): Record<string, unknown> {
    const field = this.pick(['branchId', 'action', 'tryUrl', 'confirmUrl', 'cancelUrl', 'timeoutMs', 'payload', 'missing'] as const);
    switch (field) {
      case 'branchId':
        return this.branch({ branchId: this.badBranchId() });
      case 'action':
        return this.branch({ action: this.pick([...[null, 1, {}, [], true], '', 'a'.repeat(257)]) });
      case 'timeoutMs':
        return this.branch({ timeoutMs: this.pick([0, 600_001, '5000', 1.5, -5, null, true]) });
      case 'payload':
        return this.branch({ payload: { blob: 'p'.repeat(64 * 1024 + 1) } });
      case 'missing': {
        const b = this.branch();
        delete b[this.pick(['branchId', 'confirmUrl', 'cancelUrl'])];
        return b;
      }
      default:
        return this.branch({ [field]: this.wrong('url') });
    }
  }

  beginField(): FuzzCase {
    const field = this.pick(['xid', 'timeoutMs', 'meta', 'branches', 'drive', 'order', 'wait', 'branch', 'dupBranch', 'shape'] as const);
    const body = ((): unknown => {
      switch (field) {
        case 'xid': return { xid: this.pick([this.badXid(), 1, null, {}, true]) };
        case 'timeoutMs': return { timeoutMs: this.pick([999, 86_400_001, 1.5, '60000', -1, null, true, 0]) };
        case 'meta': return { meta: { blob: 'm'.repeat(16 * 1024 + this.int(100) + 1) } };
        case 'branches': return { branches: this.pick([{}, 'a', 1, null, Array.from({ length: 101 }, (_, i) => this.branch({ branchId: `b${i}` }))]) };
        case 'drive': return { drive: this.wrong('bool'), branches: [this.branch()] };
        case 'order': return { order: this.pick(['random', 'PARALLEL', 1, null, ['parallel']]), drive: true, branches: [this.branch()] };
        case 'wait': return { wait: this.wrong('wait'), drive: true, branches: [this.branch()] };
        case 'branch': return { drive: this.rnd() < 0.5, branches: [this.branch(), this.badBranch()] };
        case 'dupBranch': return { drive: true, branches: [this.branch(), this.branch({ payload: { n: 2 } })] };
        case 'shape': return this.pick([null, [], 1, 'begin', true, [{}]]);
      }
    })();
    return this.json('POST', '/v1/transactions', body);
  }

  registerField(): FuzzCase {
    const path = `/v1/transactions/${this.xid()}/branches`;
    return this.json('POST', path, this.pick([this.badBranch(), null, [], 'x', 5]));
  }

  tryResultField(): FuzzCase {
    const path = `/v1/transactions/${this.xid()}/branches/${this.rnd() < 0.3 ? encodeURIComponent(String(this.badBranchId())) || '%20' : 'nobranch'}/try-result`;
    const body = this.pick([{}, { ok: this.wrong('bool') }, { ok: true, error: 'e'.repeat(2001) }, { ok: false, error: this.wrong('string') }, { ok: true }, { ok: false, error: 'x' }]);
    return this.json('POST', path, body);
  }

  decideField(): FuzzCase {
    const verb = this.pick(['commit', 'rollback']);
    const body = this.pick([{ wait: this.wrong('wait') }, { reason: this.pick([1, {}, [], true, 'r'.repeat(1001)]) }, [], 'commit', 7]);
    return this.json('POST', `/v1/transactions/${this.xid()}/${verb}`, body);
  }

  /** Any route with a bad path: ids, encodings, unknown segments. */
  badPath(): FuzzCase {
    const x = this.badXid();
    const path = this.pick([
      `/v1/transactions/${x}`, `/v1/transactions/${x}/commit`, `/v1/transactions/${x}/rollback`, `/v1/transactions/${x}/retry`,
      `/v1/transactions/${x}/branches`, `/v1/transactions/${this.xid()}/branches/${x}/try-result`, `/v1/transactions/${this.xid()}/nope`,
      '/v2/transactions', '/v1//transactions', '/v1/transactions/', '/%', '/v1/%E0%A4%A', `/${'p/'.repeat(500)}`, '/v1/transactions/%2e%2e/x',
    ]);
    const method = path.endsWith('commit') || path.endsWith('rollback') || path.endsWith('retry') || path.endsWith('branches') || path.endsWith('try-result') ? 'POST' : this.pick(['GET', 'POST']);
    return { kind: 'path', method, path, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined, mayReset: path.length > 16_000 };
  }

  badQuery(): FuzzCase {
    const q = this.pick([
      `status=${this.pick(['done', 'TRYING', '', 'trying,committed', '%00'])}`, 'status=trying&status=committed', `stuck=${this.pick(['yes', '1', 'TRUE', ''])}`,
      `limit=${this.pick(['0', '501', 'abc', '-1', '1.5', '9999', '', '1e3', '0x10'])}`, `cursor=${this.pick(['', 'c'.repeat(301), 'bm9wZQ', '!!!!', '%FF%FE', Buffer.from('1|x').toString('base64url')])}`,
      'limit=5&limit=6', `stuck=true&limit=${this.pick(['600', 'x'])}`,
    ]);
    return { kind: 'query', method: 'GET', path: `/v1/transactions?${q}`, headers: {} };
  }

  brokenJson(): FuzzCase {
    const path = this.pick(['/v1/transactions', `/v1/transactions/${this.xid()}/branches`, `/v1/transactions/${this.xid()}/commit`, `/v1/transactions/${this.xid()}/rollback`, `/v1/transactions/${this.xid()}/retry`, `/v1/transactions/${this.xid()}/branches/a/try-result`]);
    const body = this.pick(['{', '{"xid":', '[1,', 'nul', '{"a" "b"}', "{'xid':'x'}", '{"meta":1,}', '\u0000', '{"a":1}{"b":2}', '\uFEFF{}x', '{"timeoutMs":NaN}', '{"wait":Infinity}', '"unterminated', `{${'"a":{'.repeat(50)}`]);
    return { kind: 'json', method: 'POST', path, headers: { 'content-type': 'application/json' }, body };
  }

  /** A body the JSON parser would accept as a valid begin, sent with a type that is not JSON. */
  wrongContentType(): FuzzCase {
    const type = this.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'text/json', 'application/jsonx', 'application/json-patch+json', 'application/javascript', 'json', 'application/', '*/*', 'text/html; charset=application/json']);
    const path = this.pick(['/v1/transactions', `/v1/transactions/${this.xid()}/commit`, `/v1/transactions/${this.xid()}/rollback`]);
    return { kind: 'content-type', method: 'POST', path, headers: { 'content-type': type }, body: this.pick(['{}', '{"timeoutMs":60000}']) };
  }

  oversized(): FuzzCase {
    const path = this.pick(['/v1/transactions', `/v1/transactions/${this.xid()}/branches`, `/v1/transactions/${this.xid()}/commit`]);
    return { kind: 'oversized', method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ meta: 'o'.repeat(1024 * 1024 + this.int(4096)) }), mayReset: true };
  }

  oddMethod(): FuzzCase {
    const path = this.pick(['/v1/transactions', `/v1/transactions/${this.xid()}`, `/v1/transactions/${this.xid()}/commit`, '/healthz', '/readyz', '/metrics', '/docs', `/v1/transactions/${this.xid()}/branches`]);
    const method = this.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH']);
    return { kind: 'method', method, path, headers: { 'content-type': 'application/json' }, body: method === 'TRACE' ? undefined : '{}', mayReset: ['PROPFIND', 'SEARCH'].includes(method) };
  }

  /** One refused request of any kind. */
  next(): FuzzCase {
    const r = this.rnd();
    if (r < 0.002) return this.oversized();
    const gens = [this.beginField, this.beginField, this.registerField, this.registerField, this.tryResultField, this.decideField, this.decideField, this.badPath, this.badQuery, this.brokenJson, this.wrongContentType, this.oddMethod];
    return this.pick(gens).call(this);
  }

  /** For a coordinator with API tokens: a request that would be valid, with a missing or wrong token. */
  badToken(right: string): FuzzCase {
    const auth = this.pick(['', 'Bearer', 'Bearer ', `Bearer ${right}x`, `Bearer ${right.slice(1)}`, `Basic ${Buffer.from(`u:${right}`).toString('base64')}`, right, `Bearer ${'t'.repeat(8000)}`, `Token ${right}`, `Bearer  ${right.toUpperCase()}`, 'Bearer \u00e9']);
    const c = this.pick([
      { method: 'POST', path: '/v1/transactions', body: '{}' },
      { method: 'GET', path: '/v1/transactions' },
      { method: 'GET', path: `/v1/transactions/${this.xid()}` },
      { method: 'POST', path: `/v1/transactions/${this.xid()}/rollback`, body: '{}' },
      { method: 'POST', path: '/%761/transactions', body: '{}' },
      { method: 'GET', path: '/v1/nothing-here' },
    ]);
    const headers: Record<string, string> = c.body ? { 'content-type': 'application/json' } : {};
    if (auth) headers.authorization = auth;
    return { kind: 'token', method: c.method, path: c.path, headers, ...(c.body ? { body: c.body } : {}) };
  }
}
