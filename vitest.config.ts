import { defineConfig } from 'vitest/config';

// Two groups, one after the other. The unit and integration files run side by side first. Then
// the end-to-end files, one at a time and alone on the machine: each starts a whole local stack,
// and one places ten calls at once to see that every caller hears someone, which on these two
// cores must not share the CPU with another file (beside a speech-model unit file, its calls'
// audio was starved and callers heard nothing).
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
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
