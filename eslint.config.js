import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.lab/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The product never depends on the lab's stand-ins (docs/architecture.md, "Layout").
    files: [
      'agent/**',
      'console/**',
      'contracts/**',
      'store/**',
      'sip/**',
      'lambdas/**',
      'otel/**',
      'guard/**',
      'twilio/**',
      'infra/**',
      'deploy/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/lab/**'], message: 'product code never imports lab/' }] },
      ],
    },
  },
  {
    // A request's time budget is called spent only after the replies already in are read
    // (store/time-budget.ts); the image's health probe is a plain script outside it.
    files: ['agent/**', 'lambdas/**', 'store/**', 'guard/**', 'twilio/**', 'console/**', 'otel/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'AbortSignal',
          property: 'timeout',
          message: 'use timeBudget (store/time-budget.ts): a reply that came in time wins',
        },
      ],
    },
  },
  {
    // Contracts are read by every part, so they depend on none of them.
    files: ['contracts/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/agent/**',
                '**/store/**',
                '**/sip/**',
                '**/lambdas/**',
                '**/otel/**',
                '**/guard/**',
                '**/lab/**',
              ],
              message: 'contracts/ depends only on libraries',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**', 'lab/**', 'test/**', '**/*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
