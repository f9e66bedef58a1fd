export { fixupAcl, validId, digestId } from './acl.js';
export { permits, isSuper, ipMatches } from './check.js';
