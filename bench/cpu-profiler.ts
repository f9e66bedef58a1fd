/**
 * A preload module that CPU-profiles the process it is loaded into and writes a V8
 * .cpuprofile when the process exits. Node 20 refuses `--cpu-prof` in NODE_OPTIONS, but allows
 * `--import`, so the bench starts Paddock with
 *
 *   NODE_OPTIONS="--import <repo>/dist/bench/cpu-profiler.js"  PADDOCK_CPU_PROFILE=<file>
 *
 * The in-process inspector session answers synchronously, so stopping the profiler in an
 * 'exit' listener still gets the profile onto disk.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const target = process.env.PADDOCK_CPU_PROFILE;
if (target) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) {
        process.stderr.write(`cpu-profiler: ${error.message}\n`);
        return;
      }
      writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}
