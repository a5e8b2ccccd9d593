// Two livekit-server nodes sharing one Redis, one agent worker registered with each: calls are
// routed across the nodes, and when one worker dies its callers reach a person while the other's
// stay with their agent (test/helpers/two-workers.ts).
import { describe } from 'vitest';
import { oneOfTwoWorkersDies } from '../helpers/two-workers.js';

describe('two agent workers on two livekit-server nodes', () => {
  oneOfTwoWorkersDies({ nodes: 2 });
});
