export { fixupAcl, validId, digestId } from './acl.js';
export type { AclProviders } from './acl.js';
export { permits, isSuper, ipMatches } from './check.js';
export { DigestMd5Server, SaslError, parseJaasUsers, loadJaasUsers, SASL_REALM } from './sasl.js';
