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
