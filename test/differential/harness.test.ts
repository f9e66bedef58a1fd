/**
 * The harness itself, without servers: the comparison finds a difference and lets pass only
 * what a known difference explains, and the generator's rewrites do what they say.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { avoidZooKeeper38Quirks } from './arbitraries.js';
import { addWatch, checkWatches, create, del, getData, on, removeWatches, script, setACL, whoAmI } from './dsl.js';
import { KNOWN_BUG_AVOIDANCE, KNOWN_DIFFERENCES } from './known-differences.js';
import { showScript } from './model.js';
import { compareTraces } from './runner.js';
import type { Trace } from './runner.js';

const trace = (...steps: [string[], string[][]?][]): Trace => ({
  setup: ['sessions S0:4000ms'],
  steps: steps.map(([outcomes, events]) => ({ outcomes, events: events ?? [[]] })),
});
const names: [string, string] = ['paddock', 'zookeeper'];

void describe('differential harness', () => {
  void test('compareTraces reports the first differing step, events included', () => {
    const s = script(on(0, create('a')), on(0, getData('a', true)), on(0, del('a')));
    const a = trace([['ok "a"']], [['ok {}']], [['ok null'], [['NodeDeleted a']]]);
    assert.equal(compareTraces(s, a, a, names), null);
    const b = trace([['ok "a"']], [['ok {}']], [['ok null'], [[]]]);
    const mismatch = compareTraces(s, a, b, names);
    assert.equal(mismatch?.step, 2);
    assert.match(mismatch?.report ?? '', /first mismatch at step #2 \(s0: delete a v=-1\)/);
    assert.match(mismatch?.report ?? '', /events of s0: NodeDeleted a/);
  });

  void test('with no known differences left, the differences they used to excuse are mismatches', () => {
    assert.deepEqual(KNOWN_DIFFERENCES, []);
    const s = script(on(0, del('a/missing')), on(0, whoAmI(), { op: 'getACL', path: 'a' }));
    const stat = '{cz z+1 mz z+1 pz z+1 v 0 cv 0 av 0 owner 0 len 0 kids 0}';
    const zookeeper = trace([['err NoAuth']], [[`ok ["digest:alice","ip:127.0.0.1"]`, `ok {"acl":["digest:alice:x=31"],"stat":"${stat}"}`]]);
    const oldDelete = trace([['err NoNode']], [[`ok ["digest:alice","ip:127.0.0.1"]`, `ok {"acl":["digest:alice:x=31"],"stat":"${stat}"}`]]);
    assert.equal(compareTraces(s, oldDelete, zookeeper, names, { tolerate: KNOWN_DIFFERENCES })?.step, 0);
    const oldAuth = trace([['err NoAuth']], [[`ok ["digest:alice","digest:alice","ip:127.0.0.1"]`, `ok {"acl":["digest:alice:x=31"],"stat":"${stat}"}`]]);
    assert.equal(compareTraces(s, oldAuth, zookeeper, names, { tolerate: KNOWN_DIFFERENCES })?.step, 1);
    assert.equal(compareTraces(s, zookeeper, zookeeper, names, { tolerate: KNOWN_DIFFERENCES }), null);
  });

  void test('avoidZooKeeper38Quirks keeps watch modes apart per session and path', () => {
    const rewritten = avoidZooKeeper38Quirks(
      script(
        on(0, addWatch('a')),
        on(0, getData('a', true), getData('b', true)), // a: loses its watch
        on(0, addWatch('a', true), addWatch('b')), // both dropped: other mode on a, one-shot on b
        on(1, checkWatches('b', 'data'), removeWatches('a', 'any')), // check dropped: session 0 watched b
        on(1, setACL('a', 'open'), getData('a')), // a setACL ends its pipelined step
        on(0, checkWatches('^a', 'data')),
      ),
    );
    assert.deepEqual(
      showScript(rewritten).split('\n').slice(1),
      [
        '  #0 s0: addWatch a persistent',
        '  #1 s0: pipelined [getData a | getData b watch]',
        '  #2 s1: removeWatches a any',
        '  #3 s1: setACL a acl=open v=-1',
      ],
    );
  });

  void test('no generated script is rewritten around a Paddock bug any more', () => {
    assert.deepEqual(KNOWN_BUG_AVOIDANCE, []);
  });
});
