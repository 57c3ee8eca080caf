// Work that must give way: a thread that lowers its own CPU priority. On Linux the nice value belongs to each
// thread (setpriority(2), "BUGS"), and libuv's uv_os_setpriority with pid 0 sets the calling thread's: an agent's
// ships and bases, hashed, compressed and sealed on worker threads, then yield the CPU to the service and to the
// threads that replicate its log and renew the leader key, which keep the priority they had.
import os from 'node:os';

/** The lowest priority there is (nice 19) for the calling thread; where that cannot be set, it stays as it was. */
export function lowerThreadPriority(): void {
  try {
    os.setPriority(os.constants.priority.PRIORITY_LOW);
  } catch {
    // Not allowed here, or not on this system: the work runs as before.
  }
}
