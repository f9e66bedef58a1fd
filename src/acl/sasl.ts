/**
 * SASL DIGEST-MD5 (RFC 2831) on the server side, as ZooKeeper's SASLAuthenticationProvider
 * offers it with users from a JAAS file: the server sends a challenge, checks the client's
 * digest response against the user's password, and answers with rspauth. The authenticated
 * id is ("sasl", username).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** ZooKeeper's defaults: the realm and service of its DIGEST-MD5 server. */
export const SASL_REALM = 'zk-sasl-md5';
const SERVICE = 'zookeeper';

export class SaslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslError';
  }
}

/**
 * Users of a JAAS login section, e.g.
 *   Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="secret"; };
 */
export function parseJaasUsers(text: string, section: string): Map<string, string> {
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*(\/\/|#).*$/gm, '');
  const match = new RegExp(`(^|[\\s;}])${section}\\s*\\{([\\s\\S]*?)\\}\\s*;`).exec(withoutComments);
  const users = new Map<string, string>();
  if (!match) return users;
  for (const option of match[2]!.matchAll(/user_([^\s=]+)\s*=\s*"([^"]*)"/g)) users.set(option[1]!, option[2]!);
  return users;
}

export function loadJaasUsers(file: string, section: string): Map<string, string> {
  return parseJaasUsers(readFileSync(file, 'utf8'), section);
}

function md5(...parts: Array<string | Buffer>): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function hexMd5(...parts: Array<string | Buffer>): string {
  return md5(...parts).toString('hex');
}

/** Parses `key=value,key="quoted, value"` directives. */
export function parseDirectives(text: string): Map<string, string> {
  const directives = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = pattern.exec(text)) !== null && match[0].length > 0) {
    directives.set(match[1]!.toLowerCase(), match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!.trim());
    last = pattern.lastIndex;
  }
  if (text.slice(last).trim() !== '') throw new SaslError('malformed digest response');
  return directives;
}

type Step = 'initial' | 'challenged' | 'complete' | 'failed';

export class DigestMd5Server {
  private step: Step = 'initial';
  private nonce = '';
  user: string | null = null;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    /** Fixed nonce and service for known-answer tests; random and "zookeeper" otherwise. */
    private readonly testing: { nonce?: string; service?: string } = {},
  ) {}

  get complete(): boolean {
    return this.step === 'complete';
  }

  /** Takes the client's token and returns the server's; throws SaslError when authentication fails. */
  evaluate(token: Buffer): Buffer {
    try {
      switch (this.step) {
        case 'initial':
          this.nonce = this.testing.nonce ?? randomBytes(16).toString('base64');
          this.step = 'challenged';
          return Buffer.from(`realm="${SASL_REALM}",nonce="${this.nonce}",qop="auth",charset=utf-8,algorithm=md5-sess`);
        case 'challenged':
          return this.checkResponse(token.toString('utf8'));
        default:
          throw new SaslError('SASL exchange already finished');
      }
    } catch (error) {
      this.step = 'failed';
      throw error instanceof SaslError ? error : new SaslError((error as Error).message);
    }
  }

  private checkResponse(text: string): Buffer {
    const d = parseDirectives(text);
    const username = d.get('username');
    const password = username === undefined ? undefined : this.users.get(username);
    if (username === undefined || password === undefined) throw new SaslError(`unknown user ${username ?? '(none)'}`);
    if (d.get('nonce') !== this.nonce) throw new SaslError('nonce mismatch');
    const qop = d.get('qop') ?? 'auth';
    if (qop !== 'auth') throw new SaslError(`unsupported qop ${qop}`);
    const realm = d.get('realm') ?? '';
    const cnonce = d.get('cnonce') ?? '';
    const nc = d.get('nc') ?? '';
    const digestUri = d.get('digest-uri') ?? '';
    if (!digestUri.startsWith(`${this.testing.service ?? SERVICE}/`)) throw new SaslError(`unexpected digest-uri ${digestUri}`);
    const authzid = d.get('authzid');
    const secret = md5(`${username}:${realm}:${password}`);
    const a1 = authzid ? Buffer.concat([secret, Buffer.from(`:${this.nonce}:${cnonce}:${authzid}`)]) : Buffer.concat([secret, Buffer.from(`:${this.nonce}:${cnonce}`)]);
    const ha1 = hexMd5(a1);
    const expected = hexMd5(`${ha1}:${this.nonce}:${nc}:${cnonce}:${qop}:${hexMd5(`AUTHENTICATE:${digestUri}`)}`);
    if (d.get('response') !== expected) throw new SaslError(`wrong password for ${username}`);
    this.user = authzid ?? username;
    this.step = 'complete';
    const rspauth = hexMd5(`${ha1}:${this.nonce}:${nc}:${cnonce}:${qop}:${hexMd5(`:${digestUri}`)}`);
    return Buffer.from(`rspauth=${rspauth}`);
  }
}
