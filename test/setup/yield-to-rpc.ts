import { afterEach } from 'vitest';

// Many tests run the CLI with spawnSync, which blocks this worker's event loop. Between tests vitest only awaits
// promises (microtasks), so a file of such tests can keep the loop away from its poll phase for longer than the
// 60 s that vitest's worker RPC waits for the runner's reply to `onTaskUpdate` — and because Node runs the timers
// phase before the poll phase, the timeout then fires although the reply has arrived ("Timeout calling
// onTaskUpdate": every test passes, the run exits 1). After each test, wait for one timer and then one immediate:
// the loop goes timers → poll (the pending replies are read) → check, so no reply waits longer than one test.
afterEach(async () => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setImmediate(resolve));
});
