/** The request pipeline alone: per-session order, and a failing reply costing only its connection. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../../src/jute/index.js';
import { DataTree, OPEN_ACL_UNSAFE } from '../../../src/tree/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { WatchManager } from '../../../src/watch/index.js';
import { ClientSession, Pipeline } from '../../../src/server/pipeline.js';

class Sink {
  frames: string[] = [];
  closed = false;
  send(frame: Buffer): void {
    this.frames.push(frame.toString());
  }
  close(): void {
    this.closed = true;
  }
}

function setup() {
  const held: Txn[] = [];
  const failures: Error[] = [];
  const pipeline = new Pipeline(new DataTree(), new WatchManager(), {
    sessionClosed: () => undefined,
    replyFailed: (_session, error) => failures.push(error),
  });
  pipeline.setCommitter({ propose: (txn) => held.push(txn) });
  const commitAll = () => {
    for (const txn of held.splice(0)) pipeline.commit(txn);
  };
  const session = (id: bigint) => {
    const s = new ClientSession(id);
    const sink = new Sink();
    s.sink = sink;
    return { s, sink };
  };
  return { pipeline, commitAll, session, failures };
}

const create = (path: string) => () => ({
  type: OpCode.create,
  path,
  data: Buffer.alloc(0),
  acl: OPEN_ACL_UNSAFE,
  ephemeralOwner: 0n,
  parentCVersion: 0,
});

describe('pipeline', () => {
  test('a read waits behind the same session write; another session read does not', () => {
    const { pipeline, commitAll, session } = setup();
    const a = session(1n);
    const b = session(2n);
    pipeline.submitWrite(a.s, create('/x'), () => Buffer.from('a:create'));
    pipeline.submitRead(a.s, () => Buffer.from(`a:read:${pipeline.tree.get('/x') ? 'seen' : 'missing'}`));
    pipeline.submitRead(b.s, () => Buffer.from(`b:read:${pipeline.tree.get('/x') ? 'seen' : 'missing'}`));
    assert.deepEqual(a.sink.frames, []);
    assert.deepEqual(b.sink.frames, ['b:read:missing']);
    commitAll();
    assert.deepEqual(a.sink.frames, ['a:create', 'a:read:seen']);
  });

  test('a reply that throws closes only its own connection; the txn is applied and others go on', () => {
    const { pipeline, commitAll, session, failures } = setup();
    const bad = session(1n);
    const good = session(2n);
    pipeline.submitWrite(bad.s, create('/y'), () => {
      throw new Error('encoder bug');
    });
    pipeline.submitWrite(good.s, create('/z'), () => Buffer.from('good:create'));
    pipeline.submitRead(bad.s, () => {
      throw new Error('a failing read must not escape the pipeline either');
    });
    commitAll();
    assert.equal(bad.sink.closed, true);
    assert.ok(failures.length >= 1);
    assert.ok(pipeline.tree.get('/y'), 'the txn was applied');
    assert.deepEqual(good.sink.frames, ['good:create']);
    assert.equal(pipeline.outstandingRequests, 0);
  });
});
