import { defineConfig } from 'vitest/config';

// Two projects: the unit and integration files run side by side; the end-to-end files, each of
// which starts a whole local stack (and one places ten calls at once to see every caller hears
// someone), run one at a time, so a suite never measures another's load on this 2-core machine.
const shared = { testTimeout: 20_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
