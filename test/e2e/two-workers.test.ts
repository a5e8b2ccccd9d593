// Two agent workers on one livekit-server: one dies with calls in progress; its callers reach a
// person, the other's stay with their agent, new calls reach the survivor (test/helpers/two-workers.ts).
import { describe } from 'vitest';
import { oneOfTwoWorkersDies } from '../helpers/two-workers.js';

describe('two agent workers on one livekit-server', () => {
  oneOfTwoWorkersDies({});
});
