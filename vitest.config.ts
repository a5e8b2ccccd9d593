import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start real local servers (dynalite, later LiveKit); keep runs predictable
    // on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
