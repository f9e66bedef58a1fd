/** ACL validation, permission checks and SASL DIGEST-MD5, against their specifications. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestMd5Server, SaslError, digestId, fixupAcl, ipMatches, parseJaasUsers, permits } from '../../../src/acl/index.js';

describe('digest ids', () => {
  test('user:base64(sha1(user:password)), as DigestAuthenticationProvider.generateDigest', () => {
    // Computed by Apache ZooKeeper 3.8's own DigestAuthenticationProvider main().
    assert.equal(digestId('super:adminsecret'), 'super:GcMT0ijsx21yLyTWAWMqFV/azZE=');
    assert.equal(digestId('bob:pw'), 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=');
  });
});

describe('fixupAcl', () => {
  test('auth expands to the caller ids that can be authenticated (not ip)', () => {
    const acl = fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [
      { scheme: 'ip', id: '127.0.0.1' },
      { scheme: 'digest', id: 'a:b' },
    ]);
    assert.deepEqual(acl, [{ perms: 31, id: { scheme: 'digest', id: 'a:b' } }]);
  });

  test('invalid: empty, unknown scheme, bad ip, world other than anyone, auth with no ids', () => {
    assert.equal(fixupAcl([], []), null);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'x', id: 'y' } }], []), null);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'ip', id: '1.2.3.4/33' } }], []), null);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'world', id: 'someone' } }], []), null);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [{ scheme: 'ip', id: '1.1.1.1' }]), null);
  });
});

describe('permission checks', () => {
  const acl = [
    { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    { perms: 2, id: { scheme: 'digest', id: 'a:h' } },
    { perms: 16, id: { scheme: 'ip', id: '10.1.0.0/16' } },
  ];

  test('each entry grants its bits to the ids it matches', () => {
    assert.equal(permits(acl, 1, []), true);
    assert.equal(permits(acl, 2, []), false);
    assert.equal(permits(acl, 2, [{ scheme: 'digest', id: 'a:h' }]), true);
    assert.equal(permits(acl, 16, [{ scheme: 'ip', id: '10.1.200.3' }]), true);
    assert.equal(permits(acl, 16, [{ scheme: 'ip', id: '10.2.0.1' }]), false);
    assert.equal(permits(acl, 8, [{ scheme: 'super', id: '' }]), true);
    assert.equal(permits([], 8, []), true, 'an empty ACL allows everything, as in ZooKeeper');
  });

  test('ip matching with masks, IPv6 and IPv4-mapped addresses', () => {
    assert.equal(ipMatches('192.168.1.7', '192.168.1.0/24'), true);
    assert.equal(ipMatches('192.168.2.7', '192.168.1.0/24'), false);
    assert.equal(ipMatches('::ffff:127.0.0.1', '127.0.0.1'), true);
    assert.equal(ipMatches('2001:db8::1', '2001:db8::/32'), true);
    assert.equal(ipMatches('2001:db9::1', '2001:db8::/32'), false);
    assert.equal(ipMatches('127.0.0.1', 'not-an-ip'), false);
  });
});

describe('SASL DIGEST-MD5', () => {
  test('the known answer of RFC 2831 section 4', () => {
    const server = new DigestMd5Server(new Map([['chris', 'secret']]), { nonce: 'OA6MG9tEQGm2hh', service: 'imap' });
    const challenge = server.evaluate(Buffer.alloc(0)).toString();
    assert.match(challenge, /nonce="OA6MG9tEQGm2hh"/);
    assert.match(challenge, /qop="auth"/);
    const response =
      'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
      'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth';
    assert.equal(server.evaluate(Buffer.from(response)).toString(), 'rspauth=ea40f60335c427b5527b84dbabcdfffd');
    assert.equal(server.complete, true);
    assert.equal(server.user, 'chris');
  });

  test('a wrong password, an unknown user or a malformed response fails', () => {
    const response = (user: string) =>
      `username="${user}",realm="r",nonce="n",nc=00000001,cnonce="c",digest-uri="zookeeper/zk-sasl-md5",response=00,qop=auth`;
    for (const token of [response('bob'), response('eve'), 'garbage without equals']) {
      const server = new DigestMd5Server(new Map([['bob', 'pw']]), { nonce: 'n' });
      server.evaluate(Buffer.alloc(0));
      assert.throws(() => server.evaluate(Buffer.from(token)), SaslError);
      assert.equal(server.complete, false);
    }
  });

  test('JAAS Server section users', () => {
    const jaas = `// a comment
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="x" password="y"; };
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bob secret";
};`;
    assert.deepEqual([...parseJaasUsers(jaas, 'Server')], [['super', 'adminsecret'], ['bob', 'bob secret']]);
    assert.equal(parseJaasUsers(jaas, 'Missing').size, 0);
  });
});
