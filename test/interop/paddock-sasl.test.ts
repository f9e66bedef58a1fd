/**
 * SASL DIGEST-MD5 the way ZooKeeper deployments set it up: SASLAuthenticationProvider in
 * zoo.cfg and a JAAS file named by -Djava.security.auth.login.config in SERVER_JVMFLAGS.
 * Real clients log in: kazoo (pure-sasl) and zkCli.sh (Java's DIGEST-MD5 with a JAAS Client
 * section).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitForLog } from '../support/paddock.js';
import type { PaddockProcess } from '../support/paddock.js';
import { kazooAvailable, kazooPython, zkCli, zkCliAvailable } from '../support/cli-tools.js';

let paddock: PaddockProcess;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paddock-sasl-'));
  await writeFile(
    join(dir, 'jaas.conf'),
    'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_super="adminsecret"\n  user_bob="bobsecret";\n};\n',
  );
  await writeFile(
    join(dir, 'client.conf'),
    'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="bob"\n  password="bobsecret";\n};\n',
  );
  paddock = await startProcess({
    settings: { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' },
    env: { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}` },
  });
});

after(async () => {
  await paddock?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('SASL DIGEST-MD5', () => {
  test('kazoo logs in as bob, owns a sasl-ACL node; others get NoAuth; a wrong password is refused', { skip: !kazooAvailable() && 'python3-kazoo is not installed' }, async () => {
    const script = `
import os, sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
from kazoo.exceptions import NoAuthError
hosts = os.environ['ZK_HOSTS']
bob = KazooClient(hosts=hosts, sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'bob', 'password': 'bobsecret'})
bob.start(timeout=10)
bob.create('/bobs', b'mine', acl=[make_acl('sasl', 'bob', all=True)])
print('bob-read', bob.get('/bobs')[0].decode())
print('acl', bob.get_acls('/bobs')[0][0].id.scheme, bob.get_acls('/bobs')[0][0].id.id)
bob.stop()
anon = KazooClient(hosts=hosts)
anon.start(timeout=10)
try:
    anon.get('/bobs')
    print('anon-read allowed')
except NoAuthError:
    print('anon NoAuth')
anon.stop()
`;
    const result = await kazooPython(script, { ZK_HOSTS: paddock.connectString }, 30_000);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^bob-read mine$/m);
    assert.match(result.stdout, /^acl sasl bob$/m);
    assert.match(result.stdout, /^anon NoAuth$/m);
    assert.ok(await waitForLog(paddock, /"user":"bob","msg":"SASL authenticated"/), paddock.log());

    const wrong = await kazooPython(
      `
import os
from kazoo.client import KazooClient
c = KazooClient(hosts=os.environ['ZK_HOSTS'], sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'bob', 'password': 'nope'})
try:
    c.start(timeout=5)
finally:
    c.stop()
`,
      { ZK_HOSTS: paddock.connectString },
      30_000,
    );
    assert.match(wrong.stdout + wrong.stderr, /AUTH_FAILED|AuthFailed/i, 'kazoo is told its login failed');
    assert.ok(await waitForLog(paddock, /"reason":"wrong password for bob","msg":"SASL authentication failed; closing the connection"/), paddock.log());
  });

  test('zkCli.sh logs in with a JAAS Client section and whoami shows the sasl identity', { skip: !zkCliAvailable() && 'zkCli.sh is not installed' }, async () => {
    const result = await zkCli(paddock.connectString, ['whoami', 'create /from-cli data', 'getAcl /from-cli'], 60_000, {
      env: { CLIENT_JVMFLAGS: `-Xmx128m -XX:-UsePerfData -Djava.security.auth.login.config=${join(dir, 'client.conf')}` },
    });
    const [whoami, , getAcl] = result.results;
    assert.match(whoami?.output ?? '', /^sasl: bob$/m, result.output);
    assert.match(getAcl?.output ?? '', /'world,'anyone/);
  });
});
