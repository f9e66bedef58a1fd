/** ZooKeeper's path rules (PathUtils.validatePath), returning a reason instead of throwing. */
export function invalidPathReason(path: string, sequential = false): string | null {
  if (sequential) return invalidPathReason(path + '1', false);
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let previous = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && previous === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && previous === 0x2e) {
      const before = path.charCodeAt(i - 2);
      const after = i + 1 === path.length ? 0x2f : path.charCodeAt(i + 1);
      if (before === 0x2f && after === 0x2f) return `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      const after = i + 1 === path.length ? 0x2f : path.charCodeAt(i + 1);
      if (previous === 0x2f && after === 0x2f) return `relative paths not allowed @${i}`;
    } else if (
      (c > 0x0000 && c <= 0x001f) ||
      (c >= 0x007f && c <= 0x009f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
    previous = c;
  }
  return null;
}

export function isValidPath(path: string, sequential = false): boolean {
  return invalidPathReason(path, sequential) === null;
}

/** "/a/b" → "/a"; "/a" → "/"; "/" → "" (the root has no parent). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash <= 0) return path.length > 1 ? '/' : '';
  return path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Sequential suffix: the parent's cversion as a signed 32-bit number, %010d. */
export function sequenceSuffix(parentCversion: number): string {
  const counter = parentCversion | 0; // a Java int: 2147483647 + 1 is -2147483648
  if (counter < 0) return '-' + String(-counter).padStart(9, '0');
  return String(counter).padStart(10, '0');
}
