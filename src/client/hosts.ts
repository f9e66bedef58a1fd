/** The connect string: "host:port,host:port". */
export interface HostPort {
  host: string;
  port: number;
}

const DEFAULT_PORT = 2181;

export function parseConnectString(connectString: string): HostPort[] {
  const slash = connectString.indexOf('/');
  if (slash !== -1 && connectString.slice(slash) !== '/') {
    throw new Error(`connect string ${connectString}: a chroot is not supported by this client yet`);
  }
  const list = slash === -1 ? connectString : connectString.slice(0, slash);
  const hosts: HostPort[] = [];
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    hosts.push(parseHostPort(item));
  }
  if (hosts.length === 0) throw new Error(`connect string ${JSON.stringify(connectString)} names no host`);
  return hosts;
}

function parseHostPort(item: string): HostPort {
  let host: string;
  let portText: string | undefined;
  if (item.startsWith('[')) {
    // [v6::address]:port
    const close = item.indexOf(']');
    if (close === -1) throw new Error(`bad host ${item}: missing ]`);
    host = item.slice(1, close);
    const rest = item.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new Error(`bad host ${item}`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = item.lastIndexOf(':');
    host = colon === -1 ? item : item.slice(0, colon);
    portText = colon === -1 ? undefined : item.slice(colon + 1);
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad host:port ${item}`);
  return { host, port };
}
