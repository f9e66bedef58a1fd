/**
 * Paddock bugs the differential suite found: each a focused script on which Paddock and
 * Apache ZooKeeper 3.8 disagree, compared strictly (no tolerated differences). They are
 * marked `todo` so the suite stays green while the bug is open; node reports a todo test that
 * passes, which means the bug is fixed: then drop the `todo` here and the matching entry in
 * known-differences.ts (if any), so the generated suite guards the fix.
 *
 * The title of each test is the id its known-differences.ts entry uses.
 */
import { after, before, describe, test } from 'node:test';
import { Perm } from '../../src/client/index.js';
import type { ACL } from '../../src/client/index.js';
import {
  addAuth,
  addWatch,
  checkWatches,
  create,
  createRaw,
  del,
  getACL,
  getChildren,
  getData,
  getEphemerals,
  m,
  multi,
  multiRead,
  on,
  removeWatches,
  script,
  setACL,
  setData,
  whoAmI,
} from './dsl.js';
import { KNOWN_BUG_AVOIDANCE, KNOWN_DIFFERENCES } from './known-differences.js';
import { SKIP_WITHOUT_ZOOKEEPER, ServerPair } from './servers.js';

const acl = (scheme: string, id: string, perms: number = Perm.ALL): ACL => ({ perms, id: { scheme, id } });

/** Titles of the regression tests below; every known difference must name one of them. */
const titles = new Set<string>();
type RegressionBody = () => Promise<void>;
function regression(title: string, options: { todo?: string }, body: RegressionBody): void {
  titles.add(title);
  void test(title, options, body);
}

void describe('differential: Paddock bugs (regressions, todo until fixed)', { skip: SKIP_WITHOUT_ZOOKEEPER, timeout: 120_000 }, () => {
  let pair: ServerPair;
  let withoutExtendedTypes: ServerPair | undefined;

  before(async () => {
    pair = await ServerPair.start({ extendedTypes: true });
  });
  after(async () => {
    await pair?.stop();
    await withoutExtendedTypes?.stop();
  });

  regression(
    'delete checks the parent DELETE permission before the node exists',
    {},
    async () => {
      await pair.expectSame(
        script(on(0, create('a', { acl: 'noDelete' }), create('a/x')), on(0, del('a/missing')), on(0, multi(m.del('a/missing'))), on(0, del('a/x'))),
        { strict: true },
      );
    },
  );

  regression(
    'getACL hides digest hashes from a caller without ADMIN permission',
    {},
    async () => {
      await pair.expectSame(
        script(
          on(0, addAuth('alice:secret')),
          on(0, create('a', { acl: 'aliceOrWorldRead' })),
          on(0, getACL('a')), // alice has ADMIN: the hash is shown
          on(1, getACL('a')), // world has READ only: alice:x
        ),
        { strict: true },
      );
    },
  );

  regression(
    'addAuth of a credential the session already has does not add it twice',
    {},
    async () => {
      await pair.expectSame(script(on(0, addAuth('alice:secret')), on(0, addAuth('alice:secret')), on(0, whoAmI())), { strict: true });
    },
  );

  regression(
    'addAuth does not apply to requests the session sent before it',
    {},
    async () => {
      await pair.expectSame(
        script(
          on(0, addAuth('alice:secret')),
          on(0, create('a', { acl: 'alice', data: 'secret' })),
          on(1, create('b'), whoAmI(), getData('a'), addAuth('alice:secret')), // whoAmI and getData were sent before the addAuth
          on(1, whoAmI(), getData('a')),
        ),
        { strict: true },
      );
    },
  );

  regression(
    'watch events are delivered only to sessions that may read the node',
    {},
    async () => {
      await pair.expectSame(
        script(
          on(0, addAuth('alice:secret')),
          on(0, create('a'), create('b'), create('c')),
          on(1, addWatch('a', true), getData('b', true), getChildren('c', true)),
          on(0, create('a/secret', { acl: 'alice' })), // no NodeCreated for session 1
          on(0, setData('a/secret', 'x'), del('a/secret')),
          on(0, setACL('b', 'alice'), setACL('c', 'alice')),
          on(0, setData('b', 'x'), create('c/x')), // no NodeDataChanged b, no NodeChildrenChanged c
        ),
        { strict: true },
      );
    },
  );

  regression(
    'getEphemerals lists all ephemerals for a prefix that is blank or "/" once trimmed',
    {},
    async () => {
      await pair.expectSame(script(on(0, create('e', { mode: 'ephemeral' })), on(0, getEphemerals('^ '), getEphemerals('^ / '), getEphemerals('^'))), { strict: true });
    },
  );

  regression(
    'ACL ids are validated as ZooKeeper validates them',
    {},
    async () => {
      const cases: ACL[][] = [
        [acl('digest', ':nouser')],
        [acl('digest', 'alice:not base64!')],
        [acl('ip', '1.2.3.04')],
        [acl('world', 'anyone', 63)],
        [acl('world', 'anyone', -1)],
        [acl('super', 'x')],
        [acl('sasl', 'bob')],
        [acl('x509', 'CN=bob')],
      ];
      await pair.expectSame(script(...cases.map((entries, index) => on(0, create(`n${index}`, { acl: entries }), getACL(`n${index}`)))), { strict: true });
    },
  );

  regression(
    'watcher types ZooKeeper does not know are a MarshallingError',
    {},
    async () => {
      await pair.expectSame(script(on(0, create('a')), on(0, getData('a', true)), on(0, checkWatches('a', 0), removeWatches('a', 6), checkWatches('a', -1))), { strict: true });
    },
  );

  regression(
    'a multi with a read op, or a multiRead with a write op, is a MarshallingError',
    {},
    async () => {
      await pair.expectSame(
        script(on(0, create('a')), on(0, multi(m.create('k'), m.getData('a'))), on(0, multiRead(m.getData('a'), m.create('k'))), on(0, getChildren(''))),
        { strict: true },
      );
    },
  );

  regression(
    'createTTL with non-TTL flags is BadArguments also when extended types are disabled',
    {},
    async () => {
      withoutExtendedTypes ??= await ServerPair.start({ extendedTypes: false });
      await withoutExtendedTypes.expectSame(script(on(0, createRaw(21, 't', 0, 1000)), on(0, createRaw(21, 'u', 1, 1000))), { strict: true });
    },
  );

  void test('every difference the generated suite tolerates or avoids has a regression test here', () => {
    for (const { id } of [...KNOWN_DIFFERENCES, ...KNOWN_BUG_AVOIDANCE]) {
      if (!titles.has(id)) throw new Error(`known-differences.ts names "${id}", which is no regression test`);
    }
  });
});
