import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import { eventually } from '../support/http.js';
import { bankPerTest } from './support/bank.js';

// An OpenTelemetry SDK registered the way an application does, exporting to memory: the
// coordinator, the initiator's SDK and the wallets' callback plugin all run in this process.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('tracing through @opentelemetry/api with an SDK registered', () => {
  const openBank = bankPerTest();

  it('a transfer started inside the caller\'s span is one trace: initiator, API requests, tries, confirms and the wallets\' callbacks', async () => {
    const { a, b, client } = await openBank({ alice: 100, bob: 0 });
    exporter.reset();
    const outcome = await trace.getTracer('checkout-service').startActiveSpan('checkout', async (root) => {
      try {
        return await transfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 10 });
      } finally {
        root.end();
      }
    });
    expect(outcome.status).toBe('committed');
    // the wallets' confirm spans end as their answers go out: wait for both
    const spans = await eventually(async () => {
      const got = exporter.getFinishedSpans();
      return got.filter((s) => /^dtx confirm wallet\./.test(s.name) && s.kind === 1).length >= 2 ? got : null;
    });
    const root = spans.find((s) => s.name === 'checkout')!;
    const traceId = root.spanContext().traceId;
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    const names = spans.map((s) => s.name);
    for (const name of ['dtx transaction', 'POST /v1/transactions', 'POST /v1/transactions/:xid/branches', 'POST /v1/transactions/:xid/commit', 'dtx try debit', 'dtx try credit', 'dtx try wallet.debit', 'dtx confirm wallet.debit', 'dtx confirm wallet.credit']) {
      expect(names, name).toContain(name);
    }
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const tx = spans.find((s) => s.name === 'dtx transaction')!;
    expect(parentOf(tx)).toBe(root.spanContext().spanId);
    // the coordinator's confirm call (client) is the parent of the wallet's confirm (server), and a child of the begin request
    const walletConfirm = spans.find((s) => s.name === 'dtx confirm wallet.debit' && s.kind === 1)!;
    const coordinatorConfirm = byId.get(parentOf(walletConfirm)!)!;
    expect(coordinatorConfirm.kind).toBe(2);
    expect(coordinatorConfirm.attributes['dtx.xid']).toBe(outcome.xid);
    const begin = byId.get(parentOf(coordinatorConfirm)!)!;
    expect(begin.name).toBe('POST /v1/transactions');
    expect(parentOf(begin)).toBe(tx.spanContext().spanId);
    expect((await fetch(`${client.url}/v1/transactions/${outcome.xid}`)).headers.get('dtx-trace-id')).toBe(traceId);
  });
});
