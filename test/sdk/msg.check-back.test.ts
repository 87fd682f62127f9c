import { ensureBarrierTable, knexFromUrl, messageCheckUrl, MessageNotCommittableError, participantPlugin, participantRef, type CoordinatorClient } from '@dtx/participant-sdk';
import { HEADER_PHASE, HEADER_SIGNATURE, HEADER_XID, newXid, signCallback } from '@dtx/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailerServer, type MailerServer } from '../../examples/bank/src/mailer-server.js';
import type { Mailer } from '../../examples/bank/src/mailer.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** A producer: its database (barrier and a `notes` table) and the plugin that serves its check-back. */
interface Producer {
  knex: Knex;
  url: string;
  checkUrl: string;
}

describe.each(kinds)('message check-back, producer database on %s', (kind) => {
  let coord: TestCoordinator | undefined;
  let mailer: MailerServer | undefined;
  let apps: FastifyInstance[] = [];
  let knexes: Knex[] = [];
  let dbs: FreshDatabase[] = [];
  afterEach(async () => {
    for (const a of apps) await a.close();
    for (const k of knexes) await k.destroy();
    await mailer?.close();
    await coord?.close();
    for (const d of dbs) await d.drop();
    apps = [];
    knexes = [];
    dbs = [];
    coord = mailer = undefined;
  });

  async function setUp(opts: { signingSecret?: string } = {}): Promise<{ producer: Producer; client: CoordinatorClient }> {
    coord = await startCoordinator(opts.signingSecret ? { signingSecret: opts.signingSecret } : {});
    const mailerDb = await freshDatabase('sqlite', 'mailer');
    const db = await freshDatabase(kind, 'producer');
    dbs.push(mailerDb, db);
    mailer = createMailerServer({ databaseUrl: mailerDb.url, port: 0, ...opts });
    await mailer.start();
    const knex = knexFromUrl(db.url);
    knexes.push(knex);
    await ensureBarrierTable(knex);
    await knex.schema.createTable('notes', (t) => t.string('id', 64).primary());
    // a producer that serves no action of its own: only its check-back
    const app = Fastify();
    apps.push(app);
    await app.register(participantPlugin, { knex, participants: [], ...opts });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return { producer: { knex, url, checkUrl: messageCheckUrl(url) }, client: coord.client };
  }

  const welcome = (account: string) => [participantRef<Mailer>(mailer!.url, 'mailer').msgAction('welcome'), { account }] as const;
  const mails = async (account: string) => ((await (await fetch(`${mailer!.url}/mails/${account}`)).json()) as { items: unknown[] }).items;
  const check = (p: Producer, xid: string, extra: Record<string, string> = {}) =>
    fetch(p.checkUrl, { method: 'POST', headers: { 'content-type': 'application/json', [HEADER_XID]: xid, [HEADER_PHASE]: 'check', ...extra }, body: JSON.stringify({ xid, phase: 'check' }) });

  it('commitWith: the local row and the message commit together; the step is delivered', async () => {
    const { producer, client } = await setUp();
    const message = client.message({ checkUrl: producer.checkUrl, timeoutMs: 5000, wait: true });
    message.step(...welcome('gina'), { branchId: 'welcome' });
    const outcome = await message.commitWith(producer.knex, async (trx) => {
      await trx('notes').insert({ id: 'gina' });
      return 'noted';
    });
    expect(outcome).toEqual({ xid: message.xid, status: 'committed', result: 'noted' });
    expect(await mails('gina')).toHaveLength(1);
    expect(await producer.knex('notes').select('id')).toEqual([{ id: 'gina' }]);
    // asked again later, the check answers from the barrier: committed
    expect((await check(producer, message.xid)).status).toBe(200);
  });

  it('a local transaction that throws: no row, the message rolled back at once, nothing delivered', async () => {
    const { producer, client } = await setUp();
    const message = client.message({ checkUrl: producer.checkUrl, timeoutMs: 60_000 });
    message.step(...welcome('hank'));
    await expect(
      message.commitWith(producer.knex, async (trx) => {
        await trx('notes').insert({ id: 'hank' });
        throw new Error('the business changed its mind');
      }),
    ).rejects.toThrow('the business changed its mind');
    const view = await client.get(message.xid);
    expect([view.status, view.reason]).toEqual(['rolled_back', 'the business changed its mind']);
    expect(await producer.knex('notes').select('id')).toEqual([]);
    expect(await mails('hank')).toEqual([]);
  });

  it('a local transaction that starts after the check-back rolled the message back fails, and writes nothing', async () => {
    const { producer, client } = await setUp();
    const message = client.message({ checkUrl: producer.checkUrl, timeoutMs: 1000 });
    message.step(...welcome('ivan'));
    await message.prepare();
    await waitForStatus(client, message.xid, 'rolled_back'); // the deadline passed: checked back, 409
    const late = message.commitWith(producer.knex, async (trx) => {
      await trx('notes').insert({ id: 'ivan' });
    });
    await expect(late).rejects.toBeInstanceOf(MessageNotCommittableError);
    await expect(late).rejects.toMatchObject({ code: 'MSG_ROLLED_BACK' });
    expect(await producer.knex('notes').select('id')).toEqual([]);
    expect(await mails('ivan')).toEqual([]);
  });

  it.runIf(kind !== 'sqlite')('a check-back that arrives while the local transaction is open waits for it, then answers 200', async () => {
    const { producer, client } = await setUp();
    const message = client.message({ checkUrl: producer.checkUrl, timeoutMs: 30_000, wait: true });
    message.step(...welcome('jane'));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const committing = message.commitWith(producer.knex, async (trx) => {
      await trx('notes').insert({ id: 'jane' });
      inside();
      await released;
    });
    await entered;
    const answer = check(producer, message.xid).then((r) => ({ status: r.status, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 300));
    const releasedAt = Date.now();
    release();
    await expect(committing).resolves.toMatchObject({ status: 'committed' });
    const { status, at } = await answer;
    expect(status).toBe(200);
    expect(at).toBeGreaterThanOrEqual(releasedAt);
    expect(await mails('jane')).toHaveLength(1);
  });

  it('the check route: an unknown xid is 409 now and later; a bad body is 400', async () => {
    const { producer } = await setUp();
    const xid = newXid();
    const first = await check(producer, xid);
    expect(first.status).toBe(409);
    expect(await first.json()).toMatchObject({ error: { code: 'MSG_ROLLED_BACK' } });
    expect((await check(producer, xid)).status).toBe(409);
    const bad = await fetch(producer.checkUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phase":"check"}' });
    expect(bad.status).toBe(400);
    expect((await check(producer, xid, { [HEADER_XID]: newXid() })).status).toBe(400);
  });

  it.runIf(kind === 'sqlite')('with a signing secret: an unsigned check is 401; the coordinator\'s signed check-back is taken', async () => {
    const { producer, client } = await setUp({ signingSecret: 'msg-secret' });
    const xid = newXid();
    expect((await check(producer, xid)).status).toBe(401);
    const body = JSON.stringify({ xid, phase: 'check' });
    const signed = await fetch(producer.checkUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HEADER_SIGNATURE]: signCallback('msg-secret', producer.checkUrl, body) },
      body,
    });
    expect(signed.status).toBe(409);
    // end to end: a message whose producer never commits is checked back (signed) and rolled back
    const message = client.message({ checkUrl: producer.checkUrl, timeoutMs: 1000 });
    message.step(...welcome('kim'));
    await message.prepare();
    await waitForStatus(client, message.xid, 'rolled_back');
  });
});
