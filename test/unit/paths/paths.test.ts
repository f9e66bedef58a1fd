/**
 * src/tree/paths.ts against ZooKeeper 3.8's PathUtils.validatePath (common/PathUtils.java),
 * the %010d sequential suffix of PrepRequestProcessor, and the parent/child helpers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  invalidPathReason,
  isValidPath,
  parentOf,
  baseName,
  childPath,
  sequenceSuffix,
} from '../../../src/tree/paths.js';

function assertValid(path: string, sequential = false): void {
  assert.equal(invalidPathReason(path, sequential), null, `${JSON.stringify(path)} should be valid`);
  assert.equal(isValidPath(path, sequential), true, `${JSON.stringify(path)} should be valid`);
}

function assertInvalid(path: string, sequential = false): string {
  const reason = invalidPathReason(path, sequential);
  assert.equal(typeof reason, 'string', `${JSON.stringify(path)} should be invalid`);
  assert.notEqual(reason, '');
  assert.equal(isValidPath(path, sequential), false, `${JSON.stringify(path)} should be invalid`);
  return reason!;
}

const hex = (code: number): string => '\\u' + code.toString(16).padStart(4, '0');

void describe('PathUtils.validatePath rules', () => {
  void test('accepts the root, plain names and names that merely contain dots', () => {
    for (const path of ['/', '/a', '/a/b', '/a.b', '/..a', '/a..', '/.a', '/a/.b', '/a/b..', '/...', '/a/...', '/zookeeper']) {
      assertValid(path);
    }
  });

  void test('accepts printable non-ASCII and the characters just outside the forbidden ranges', () => {
    for (const path of ['/é', '/日本', '/a b', '/a\u00a0b', '/\u007e', '/\u00a0', '/\uf900', '/\uffef', '/a-b_c:d@e']) {
      assertValid(path);
    }
  });

  void test('rejects empty, relative and slash-terminated paths', () => {
    assertInvalid('');
    assertInvalid('a');
    assertInvalid('a/b');
    assertInvalid('/a/');
    assertInvalid('/a/b/');
  });

  void test('rejects empty node names', () => {
    assertInvalid('//a');
    assertInvalid('/a//b');
    assertInvalid('//');
  });

  void test('rejects "." and ".." as whole names anywhere in the path', () => {
    for (const path of ['/.', '/..', '/a/.', '/a/..', '/a/../b', '/a/./b', '/./a', '/../a']) {
      assertInvalid(path);
    }
  });

  void test('rejects the null character anywhere after the leading slash', () => {
    assertInvalid('/a\u0000b');
    assertInvalid('/\u0000');
    assertInvalid('/a/\u0000');
  });

  void test('the reason names the position of the offending character, as ZooKeeper does', () => {
    assert.match(assertInvalid('/a\u0000b'), /@2\b/);
    assert.match(assertInvalid('/a//b'), /@3\b/);
    assert.match(assertInvalid('/ab\u0001'), /@3\b/);
  });

  void test('rejects every control character \\u0001-\\u001F and \\u007F-\\u009F', () => {
    for (let c = 0x01; c <= 0x1f; c++) assertInvalid(`/a${String.fromCharCode(c)}b`);
    for (let c = 0x7f; c <= 0x9f; c++) assertInvalid(`/a${String.fromCharCode(c)}b`);
  });

  void test('rejects \\ud800-\\uf8ff (surrogates, private use) and \\ufff0-\\uffff', () => {
    const samples = [0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xf8ff, 0xfff0, 0xfffd, 0xfffe, 0xffff];
    for (const c of samples) assert.equal(isValidPath(`/x${String.fromCharCode(c)}`), false, hex(c));
    // A well-formed surrogate pair (an emoji) is two forbidden UTF-16 units in Java too.
    assertInvalid('/😀');
  });

  void test('every code unit is classified exactly as PathUtils classifies it', () => {
    const forbidden = (c: number): boolean =>
      c === 0 || c === 0x2f || (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0;
    for (let c = 0; c <= 0xffff; c++) {
      if (c === 0x2e) continue; // "/." is a relative path, checked above
      const path = `/${String.fromCharCode(c)}`;
      assert.equal(isValidPath(path), !forbidden(c), `${hex(c)} in ${JSON.stringify(path)}`);
    }
  });

  void test('a sequential path is validated as if "1" were appended', () => {
    assertValid('/a/', true); // validated as "/a/1"
    assertValid('/', true); // "/1"
    assertValid('/lock-', true);
    assertValid('/a/.', true); // "/a/.1"
    assertValid('/a/..', true); // "/a/..1"
    assertInvalid('/a/', false);
    assertInvalid('a', true);
    assertInvalid('', true); // "1" does not start with "/"
    assertInvalid('//', true); // "//1"
    assertInvalid('/a\u0001', true);
  });
});

void describe('property: names joined by "/"', () => {
  const allowedChar = fc
    .integer({ min: 0x20, max: 0xffef })
    .filter((c) => c !== 0x2f && !(c >= 0x7f && c <= 0x9f) && !(c >= 0xd800 && c <= 0xf8ff))
    .map((c) => String.fromCharCode(c));
  const name = fc
    .array(allowedChar, { minLength: 1, maxLength: 8 })
    .map((chars) => chars.join(''))
    .filter((n) => n !== '.' && n !== '..');

  void test('any path built from valid names is valid, also as a sequential prefix', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 6 }), (names) => {
        const path = '/' + names.join('/');
        assert.equal(invalidPathReason(path), null);
        assert.equal(isValidPath(path, true), true);
        assert.equal(isValidPath(path + '/', true), true);
      }),
      { numRuns: 500 },
    );
  });

  void test('inserting an empty, "." or ".." name makes such a path invalid', () => {
    fc.assert(
      fc.property(
        fc.array(name, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom('', '.', '..'),
        (names, at, bad) => {
          const parts = [...names];
          parts.splice(at % (parts.length + 1), 0, bad);
          assert.equal(isValidPath('/' + parts.join('/')), false);
        },
      ),
      { numRuns: 300 },
    );
  });

  void test('parentOf/baseName/childPath agree on such paths', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 6 }), (names) => {
        const path = '/' + names.join('/');
        const parent = parentOf(path);
        assert.equal(baseName(path), names.at(-1));
        assert.equal(parent, names.length === 1 ? '/' : '/' + names.slice(0, -1).join('/'));
        assert.equal(childPath(parent, baseName(path)), path);
      }),
      { numRuns: 300 },
    );
  });
});

void describe('parentOf, baseName, childPath', () => {
  void test('parentOf', () => {
    assert.equal(parentOf('/a/b/c'), '/a/b');
    assert.equal(parentOf('/a/b'), '/a');
    assert.equal(parentOf('/a'), '/');
    assert.equal(parentOf('/'), '');
    assert.equal(parentOf('/a.b/c..d'), '/a.b');
  });

  void test('baseName', () => {
    assert.equal(baseName('/a/b/c'), 'c');
    assert.equal(baseName('/a'), 'a');
    assert.equal(baseName('/'), '');
    assert.equal(baseName('/x/lock-0000000007'), 'lock-0000000007');
  });

  void test('childPath', () => {
    assert.equal(childPath('/', 'a'), '/a');
    assert.equal(childPath('/a', 'b'), '/a/b');
    assert.equal(childPath('/a/b', 'zookeeper'), '/a/b/zookeeper');
  });
});

void describe('sequenceSuffix (String.format("%010d", parentCversion))', () => {
  void test('zero-pads non-negative counters to ten digits', () => {
    assert.equal(sequenceSuffix(0), '0000000000');
    assert.equal(sequenceSuffix(1), '0000000001');
    assert.equal(sequenceSuffix(42), '0000000042');
    assert.equal(sequenceSuffix(1234567890), '1234567890');
    assert.equal(sequenceSuffix(2147483647), '2147483647');
  });

  void test('negative counters print as Java prints them: the sign counts toward the width', () => {
    assert.equal(sequenceSuffix(-1), '-000000001');
    assert.equal(sequenceSuffix(-5), '-000000005');
    assert.equal(sequenceSuffix(-123456789), '-123456789');
    assert.equal(sequenceSuffix(-1234567890), '-1234567890');
    assert.equal(sequenceSuffix(-2147483648), '-2147483648');
  });

  void test('the counter is a Java int: one past 2147483647 wraps to -2147483648', () => {
    assert.equal(sequenceSuffix(2147483648), '-2147483648');
    assert.equal(sequenceSuffix(2147483648 + 41), '-2147483607');
    assert.equal(sequenceSuffix(4294967296 + 42), '0000000042');
  });

  void test('matches %010d for every 32-bit int', () => {
    const javaFormat = (n: number): string => (n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0'));
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (n) => {
        const suffix = sequenceSuffix(n);
        assert.equal(suffix, javaFormat(n));
        assert.ok(suffix.length >= 10);
        assert.equal(Number(suffix), n);
      }),
      { numRuns: 500 },
    );
  });

  void test('suffixes of increasing non-negative counters sort in creation order', () => {
    const names = [0, 9, 10, 99, 100, 2147483647].map(sequenceSuffix);
    assert.deepEqual([...names].sort(), names);
  });
});
