/**
 * What the bench reads about processes and disks from Linux: memory (/proc/<pid>/status),
 * CPU time (/proc/<pid>/stat, /proc/stat) and the bytes a directory holds (a `du`).
 */
import { readFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** USER_HZ: the unit of utime/stime in /proc. It is 100 on every Linux build we run on. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Memory {
  /** VmHWM: the process's peak resident set so far. */
  peakRssBytes: number;
  /** VmRSS: its resident set now. */
  rssBytes: number;
}

/** Null when the process is gone (or this is not Linux). */
export function readMemory(pid: number): Memory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return { peakRssBytes: kib('VmHWM'), rssBytes: kib('VmRSS') };
}

/** CPU seconds (user + system, all threads) a process has used; null when it is gone. */
export function readProcessCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis don't.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function readMachineCpuSeconds(): { busy: number; total: number } | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n', 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLOCK_TICKS_PER_SECOND, total: (busy + idle + iowait) / CLOCK_TICKS_PER_SECOND };
}

/** CPU seconds of several processes together; null when any of them is gone. */
function sumProcessCpuSeconds(pids: readonly number[]): number | null {
  let sum = 0;
  for (const pid of pids) {
    const seconds = readProcessCpuSeconds(pid);
    if (seconds === null) return null;
    sum += seconds;
  }
  return sum;
}

/**
 * CPU use over an interval, in % of one core (200 % = both cores of a 2-core machine). The
 * server is one process or several (the members of an ensemble, added up).
 */
export class CpuMeter {
  private readonly startNs = process.hrtime.bigint();
  private readonly startSelf = process.cpuUsage();
  private readonly serverPids: readonly number[];
  private readonly startServer: number | null;
  private readonly startMachine: { busy: number; total: number } | null;

  constructor(serverPid: number | readonly number[]) {
    this.serverPids = typeof serverPid === 'number' ? [serverPid] : serverPid;
    this.startServer = sumProcessCpuSeconds(this.serverPids);
    this.startMachine = readMachineCpuSeconds();
  }

  read(): { serverPct: number; benchPct: number; machinePct: number } {
    const wallS = Number(process.hrtime.bigint() - this.startNs) / 1e9;
    const self = process.cpuUsage(this.startSelf);
    const server = sumProcessCpuSeconds(this.serverPids);
    const machine = readMachineCpuSeconds();
    const pct = (seconds: number) => (wallS > 0 ? (100 * seconds) / wallS : NaN);
    return {
      serverPct: server === null || this.startServer === null ? NaN : pct(server - this.startServer),
      benchPct: pct((self.user + self.system) / 1e6),
      machinePct: machine === null || this.startMachine === null ? NaN : pct(machine.busy - this.startMachine.busy),
    };
  }
}

export interface DiskUsage {
  /** Sum of file sizes (what `du --apparent-size -b` says). */
  apparentBytes: number;
  /** Blocks actually allocated (what `du -B1` says): preallocated log files are sparse. */
  allocatedBytes: number;
  files: number;
}

/** A `du` of a directory tree, bounded to `maxEntries` entries. */
export async function diskUsage(dir: string, maxEntries = 100_000): Promise<DiskUsage> {
  const usage: DiskUsage = { apparentBytes: 0, allocatedBytes: 0, files: 0 };
  const stack = [dir];
  let visited = 0;
  while (stack.length > 0 && visited < maxEntries) {
    const current = stack.pop()!;
    for (const name of await readdir(current)) {
      visited++;
      const path = join(current, name);
      const info = await lstat(path);
      if (info.isDirectory()) {
        stack.push(path);
      } else {
        usage.files++;
        usage.apparentBytes += info.size;
        usage.allocatedBytes += info.blocks * 512;
      }
    }
  }
  return usage;
}
