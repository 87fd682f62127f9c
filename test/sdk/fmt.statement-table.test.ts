import { FmtUnsupportedStatementError } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';
import { newXid, openFmtDesk, type FmtDesk, type Script } from './support/fmt-desk.js';

const kinds = [...((await requireService('mysql')) ? ['mysql' as const] : []), ...((await requireService('postgres')) ? ['postgres' as const] : [])];

type Dialect = 'mysql' | 'postgres';
type Expect = 'managed' | 'read' | 'refused';

/**
 * The statement table: what an @FmtAction may send through ctx.trx, per dialect. A managed
 * write commits with its try and a cancel puts every table back; a refused one answers
 * FMT_UNSUPPORTED_STATEMENT (422) before it runs and leaves nothing.
 */
const STATEMENTS: [string, Script, Record<Dialect, Expect>][] = [
  ['insert one row, key given', (t) => t('items').insert({ id: 10, name: 'new', qty: 1 }), { mysql: 'managed', postgres: 'managed' }],
  ['insert many rows, keys given', (t) => t('items').insert([{ id: 11, name: 'x', qty: 1 }, { id: 12, name: 'y', qty: 2 }]), { mysql: 'managed', postgres: 'managed' }],
  ['insert one row, key generated', (t) => t('serials').insert({ name: 'auto' }), { mysql: 'managed', postgres: 'managed' }],
  ['insert many rows, keys generated', (t) => t('serials').insert([{ name: 'a' }, { name: 'b' }]), { mysql: 'refused', postgres: 'managed' }],
  ['update by primary key', (t) => t('items').where('id', 1).update({ qty: 99, name: 'changed' }), { mysql: 'managed', postgres: 'managed' }],
  ['update a range of rows', (t) => t('items').where('qty', '>', 0).update({ qty: 0 }), { mysql: 'managed', postgres: 'managed' }],
  ['increment', (t) => t('items').where('id', 2).increment('qty', 5), { mysql: 'managed', postgres: 'managed' }],
  ['update with a raw SET expression', (t) => t('items').where('id', 2).update({ qty: t.raw('qty * 2') }), { mysql: 'managed', postgres: 'managed' }],
  ['update with a subquery in WHERE', (t) => t('items').whereIn('id', t('other').select('item_id')).update({ name: 'sub' }), { mysql: 'managed', postgres: 'managed' }],
  ['delete by primary key', (t) => t('items').where('id', 3).del(), { mysql: 'managed', postgres: 'managed' }],
  ['delete a range', (t) => t('items').where('id', '<', 3).del(), { mysql: 'managed', postgres: 'managed' }],
  ['select', (t) => t('items').select(), { mysql: 'read', postgres: 'read' }],
  ['select … for update', (t) => t('items').where('id', 1).forUpdate().first(), { mysql: 'read', postgres: 'read' }],
  ['raw select', (t) => t.raw('SELECT count(*) AS n FROM items'), { mysql: 'read', postgres: 'read' }],
  ['raw insert', (t) => t.raw("INSERT INTO items (id, name, qty) VALUES (20, 'raw', 1)"), { mysql: 'refused', postgres: 'refused' }],
  ['raw update', (t) => t.raw('UPDATE items SET qty = 0'), { mysql: 'refused', postgres: 'refused' }],
  ['raw delete', (t) => t.raw('DELETE FROM items'), { mysql: 'refused', postgres: 'refused' }],
  ['raw select … for update', (t) => t.raw('SELECT * FROM items WHERE id = 1 FOR UPDATE'), { mysql: 'refused', postgres: 'refused' }],
  ['raw, two statements', (t) => t.raw('SELECT 1; DELETE FROM items'), { mysql: 'refused', postgres: 'refused' }],
  ['update with a join', (t) => t('items').join('other', 'other.item_id', 'items.id').update({ qty: 0 }), { mysql: 'refused', postgres: 'refused' }],
  ['upsert: onConflict().merge()', (t) => t('items').insert({ id: 1, name: 'u', qty: 1 }).onConflict('id').merge(), { mysql: 'refused', postgres: 'refused' }],
  ['upsert: onConflict().ignore()', (t) => t('items').insert({ id: 1, name: 'u', qty: 1 }).onConflict('id').ignore(), { mysql: 'refused', postgres: 'refused' }],
  ['insert … select', (t) => t('items').insert(t('other').select(t.raw('item_id + 100'), t.raw("'c'"), t.raw('1'))), { mysql: 'refused', postgres: 'refused' }],
  ['write to a table without a primary key', (t) => t('nopk').insert({ a: 1, b: 2 }), { mysql: 'refused', postgres: 'refused' }],
  ['write to a table with a trigger', (t) => t('trig').where('id', 1).update({ v: 2 }), { mysql: 'refused', postgres: 'refused' }],
  ['delete from a table a cascading foreign key references', (t) => t('parents').where('id', 1).del(), { mysql: 'refused', postgres: 'refused' }],
  ['update of the primary key', (t) => t('items').where('id', 1).update({ id: 50 }), { mysql: 'refused', postgres: 'refused' }],
  ['nested transaction', (t) => t.transaction(async (inner) => inner('items').where('id', 1).update({ qty: 0 })), { mysql: 'refused', postgres: 'refused' }],
  ['truncate', (t) => t('items').truncate(), { mysql: 'refused', postgres: 'refused' }],
  ['schema change', (t) => t.schema.createTable('made', (c) => c.integer('id').primary()), { mysql: 'refused', postgres: 'refused' }],
  ['write with a WITH clause', (t) => t('items').with('w', t.raw('SELECT 1 AS one')).where('id', 1).update({ qty: 0 }), { mysql: 'refused', postgres: 'refused' }],
];

async function schema(knex: Knex, kind: Dialect): Promise<void> {
  await knex.schema.createTable('items', (t) => {
    t.integer('id').primary();
    t.string('name', 32);
    t.integer('qty');
  });
  await knex.schema.createTable('serials', (t) => {
    t.increments('id');
    t.string('name', 32);
  });
  await knex.schema.createTable('other', (t) => t.integer('item_id').primary());
  await knex.schema.createTable('nopk', (t) => {
    t.integer('a');
    t.integer('b');
  });
  await knex.schema.createTable('trig', (t) => {
    t.integer('id').primary();
    t.integer('v');
  });
  await knex.schema.createTable('parents', (t) => t.integer('id').primary());
  await knex.schema.createTable('children', (t) => {
    t.integer('id').primary();
    t.integer('parent_id').references('parents.id').onDelete('CASCADE');
  });
  if (kind === 'mysql') await knex.raw('CREATE TRIGGER trig_audit BEFORE UPDATE ON trig FOR EACH ROW SET NEW.v = NEW.v');
  else {
    await knex.raw('CREATE FUNCTION trig_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$');
    await knex.raw('CREATE TRIGGER trig_audit BEFORE UPDATE ON trig FOR EACH ROW EXECUTE FUNCTION trig_audit()');
  }
  await knex('items').insert([{ id: 1, name: 'one', qty: 1 }, { id: 2, name: 'two', qty: 2 }, { id: 3, name: 'three', qty: 3 }]);
  await knex('serials').insert([{ name: 's1' }]);
  await knex('other').insert([{ item_id: 2 }]);
  await knex('trig').insert({ id: 1, v: 1 });
  await knex('parents').insert({ id: 1 });
  await knex('children').insert({ id: 1, parent_id: 1 });
}

async function snapshot(knex: Knex): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const t of ['items', 'serials', 'other', 'nopk', 'trig', 'parents', 'children']) out[t] = await knex(t).select().orderByRaw('1');
  return out;
}

describe.each(kinds)('FMT statement table on %s', (kind) => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('manages, passes or refuses each statement as the table says; a cancel restores every managed write', async () => {
    desk = await openFmtDesk(kind, 'fmtstmt');
    await schema(desk.knex, kind);
    const seeded = await snapshot(desk.knex);
    const seen: Record<string, Expect> = {};
    const wanted: Record<string, Expect> = {};
    for (const [label, fn, expected] of STATEMENTS) {
      wanted[label] = expected[kind];
      const xid = newXid();
      const outcome = await desk.send('try', xid, desk.script(label, async (t) => { await fn(t, {}); }));
      if (outcome instanceof FmtUnsupportedStatementError) {
        seen[label] = 'refused';
        expect(await snapshot(desk.knex), label).toEqual(seeded);
      } else {
        if (outcome instanceof Error) throw new Error(`${label}: ${outcome.message}`);
        seen[label] = (await desk.fmtRows()).undo > 0 ? 'managed' : 'read';
      }
      expect(await desk.send('cancel', xid, ''), label).toMatchObject({ kind: seen[label] === 'refused' ? 'empty_rollback' : 'ran' });
      expect(await snapshot(desk.knex), `${label}: cancelled`).toEqual(seeded);
      expect(await desk.fmtRows(), label).toEqual({ undo: 0, locks: 0 });
    }
    expect(seen).toEqual(wanted);
  });
});
