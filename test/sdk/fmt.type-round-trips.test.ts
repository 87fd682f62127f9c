import { FmtLockBusyError } from '@dtx/participant-sdk';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';
import { newXid, openFmtDesk, type FmtDesk } from './support/fmt-desk.js';

const hasMysql = await requireService('mysql');
const hasPostgres = await requireService('postgres');

/** Every row exactly as the server holds it, read without the SDK (strings, Buffers; doubles as JS numbers). */
async function mysqlRows(url: string, table: string): Promise<unknown[]> {
  const conn = await mysql.createConnection({ uri: url, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, timezone: 'Z' });
  try {
    await conn.query("SET time_zone = '+05:30'");
    const [rows] = await conn.query(`SELECT t.*, CAST(UNIX_TIMESTAMP(t.ts6) AS CHAR) AS ts_epoch, HEX(t.chr) AS chr_hex, HEX(t.txt) AS txt_hex FROM ${table} t ORDER BY 1`);
    return rows as unknown[];
  } finally {
    await conn.end();
  }
}

async function postgresRows(url: string, table: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    await client.query("SET TIME ZONE 'America/New_York'");
    const { rows } = await client.query(`SELECT t.*, extract(epoch FROM t.tstz)::text AS tstz_epoch, t.chr::bytea::text AS chr_bytes FROM ${table} t ORDER BY 1`);
    return rows;
  } finally {
    await client.end();
  }
}

/** What the try writes over every column, so the cancel has all of them to put back. */
const OVERWRITE_MYSQL = { dec38: '1.5', big: '-1', ubig: '1', dt6: '2000-01-01 00:00:00', ts6: '2001-01-01 00:00:00', js: '{"b":1}', bin: Buffer.from([1]), blb: Buffer.from('x'), txt: 'other', chr: 'z', en: 'small', dbl: 1, flt: 1, empty: 'filled', nul: 'set' };
const OVERWRITE_PG = { num: '1.5', nan: '2', big: '-1', ts6: '2000-01-01 00:00:00', tstz: '2001-01-01 00:00:00+00', js: '{"b":1}', jb: '{"b":1}', bin: Buffer.from([1]), txt: 'other', chr: 'z', en: 'ok', arr: '{9}', uid: '00000000-0000-0000-0000-000000000000', dbl: 1, empty: 'filled', nul: 'set' };

describe.runIf(hasMysql)('FMT round trips on MariaDB: a cancel restores byte-identical values', () => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('DECIMAL(38,10), BIGINT (unsigned max, 19 digits), DATETIME(6), TIMESTAMP(6) in a +05:30 session, JSON text, binary 0x00/0xFF, NULL vs empty, CHAR and VARCHAR spaces, ENUM, DOUBLE, FLOAT; update, delete and insert', async () => {
    desk = await openFmtDesk('mysql', 'fmttypes', { timeZone: '+05:30' });
    await desk.knex.raw(`CREATE TABLE types (
      id BIGINT UNSIGNED PRIMARY KEY, dec38 DECIMAL(38,10) NULL, big BIGINT NULL, ubig BIGINT UNSIGNED NULL, dt6 DATETIME(6) NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
      js JSON NULL, bin VARBINARY(16) NULL, blb BLOB NULL, txt VARCHAR(32) NULL, chr CHAR(10) NULL, en ENUM('small', 'Large') NULL, dbl DOUBLE NULL, flt FLOAT NULL,
      empty VARCHAR(8) NULL, nul VARCHAR(8) NULL) DEFAULT CHARSET=utf8mb4`);
    await desk.knex.raw(`INSERT INTO types VALUES
      (18446744073709551615, 1234567890123456789012345678.0123456789, 9223372036854775807, 18446744073709551615, '2024-02-29 23:59:59.999999', '2024-11-03 07:30:00.123456',
       '{ "z": 1,  "a" : [1, 2.50, "x"] }', UNHEX('00FF00'), UNHEX('FF0000FF'), 'trailing  ', 'ab', 'Large', 0.30000000000000004, 0.1, '', NULL),
      (1234567890123456789, -0.0000000001, -9223372036854775808, 0, '1000-01-01 00:00:00.000001', '1970-01-01 05:30:01.000001',
       '[]', UNHEX(''), UNHEX('00'), '', ' lead', 'small', -1.7976931348623157e308, -3.40282e38, '', ''),
      (1234567890123456788, 2, 1, 1, NULL, NULL, NULL, NULL, NULL, 'neighbour', NULL, NULL, NULL, NULL, NULL, NULL)`);
    // 1234567890123456788 and …789 are one double: a key compared as a number would be both rows
    const url = desk.db.url;
    const seeded = await mysqlRows(url, 'types');
    const update = desk.script('update', (t) => t('types').where('id', '>', '0').update(OVERWRITE_MYSQL));
    const del = desk.script('delete', (t) => t('types').where('id', '18446744073709551615').del());
    const insert = desk.script('insert', (t) => t('types').insert({ id: '9007199254740993', dec38: '0.1000000001', ts6: '2024-03-10 07:30:00', bin: Buffer.from([0, 255]), txt: 'new  ', chr: 'c' }));
    for (const script of [update, del, insert]) {
      const xid = newXid();
      expect(await desk.send('try', xid, script)).toMatchObject({ kind: 'ran' });
      expect(await mysqlRows(url, 'types')).not.toEqual(seeded);
      expect(await desk.send('cancel', xid, script)).toMatchObject({ kind: 'ran' });
      expect(await mysqlRows(url, 'types')).toEqual(seeded);
    }
    expect(await desk.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });

  it('a case-insensitive primary key is one row and one lock, whatever case (and PAD SPACE) a statement uses', async () => {
    desk = await openFmtDesk('mysql', 'fmtci');
    await desk.knex.raw('CREATE TABLE people (name VARCHAR(32) COLLATE utf8mb4_general_ci PRIMARY KEY, n INT NOT NULL) DEFAULT CHARSET=utf8mb4');
    await desk.knex('people').insert({ name: 'Alice', n: 1 });
    const upper = desk.script('upper', (t) => t('people').where('name', 'ALICE').update({ n: 2 }));
    const lower = desk.script('lower', (t) => t('people').where('name', 'alice ').update({ n: 3 }));
    const first = newXid();
    expect(await desk.send('try', first, upper)).toMatchObject({ kind: 'ran' });
    expect(await desk.send('try', newXid(), lower)).toBeInstanceOf(FmtLockBusyError);
    expect(await desk.send('cancel', first, upper)).toMatchObject({ kind: 'ran' });
    expect(await desk.knex('people').select()).toEqual([{ name: 'Alice', n: 1 }]);
    expect(await desk.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });
});

describe.runIf(hasPostgres)('FMT round trips on PostgreSQL: a cancel restores byte-identical values', () => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('numeric(38,10) and NaN, bigint max, timestamp(6), timestamptz across the DST fall-back in a New York session, json text, jsonb, bytea 0x00/0xFF, NULL vs empty, char padding, enum, int[], uuid, double; update, delete and insert', async () => {
    desk = await openFmtDesk('postgres', 'fmttypes', { timeZone: 'America/New_York' });
    await desk.knex.raw("CREATE TYPE mood AS ENUM ('sad', 'ok')");
    await desk.knex.raw(`CREATE TABLE types (
      id bigint PRIMARY KEY, num numeric(38,10), nan numeric, big bigint, ts6 timestamp(6), tstz timestamptz(6), js json, jb jsonb, bin bytea, txt varchar(32), chr char(10),
      en mood, arr int[], uid uuid, dbl double precision, empty text, nul text)`);
    // 05:30 and 06:30 UTC on 2024-11-03 are both 01:30 in New York: only the offset tells them apart.
    await desk.knex.raw(`INSERT INTO types VALUES
      (9223372036854775807, 1234567890123456789012345678.0123456789, 'NaN', 9223372036854775807, '2024-02-29 23:59:59.999999', '2024-11-03 05:30:00.123456+00',
       '{ "z": 1,  "a" : [1, 2.50] }', '{"z": 1, "a": [1, 2.50]}', '\\x00ff00', 'trailing  ', 'ab', 'sad', '{1,NULL,3}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 0.30000000000000004, '', NULL),
      (1234567890123456789, -0.0000000001, '0', -9223372036854775808, '0001-01-01 00:00:00', '2024-11-03 06:30:00.000001+00',
       '[]', '[]', '\\x', '', ' lead', 'ok', '{}', NULL, -1.7976931348623157e308, '', '')`);
    const url = desk.db.url;
    const seeded = await postgresRows(url, 'types');
    const update = desk.script('update', (t) => t('types').where('id', '>', '0').update(OVERWRITE_PG));
    const del = desk.script('delete', (t) => t('types').where('id', '9223372036854775807').del());
    const insert = desk.script('insert', (t) => t('types').insert({ id: '9007199254740993', num: '0.1000000001', tstz: '2024-11-03 01:30:00-04', bin: Buffer.from([0, 255]), txt: 'new  ', chr: 'c' }));
    for (const script of [update, del, insert]) {
      const xid = newXid();
      expect(await desk.send('try', xid, script)).toMatchObject({ kind: 'ran' });
      expect(await postgresRows(url, 'types')).not.toEqual(seeded);
      expect(await desk.send('cancel', xid, script)).toMatchObject({ kind: 'ran' });
      expect(await postgresRows(url, 'types')).toEqual(seeded);
    }
    expect(await desk.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });
});
