// Shared ESLint flat config. The rules that matter here guard the brief's standards: no floating promises (a
// readback nobody awaits hides errors) and no dataSync in library code (it blocks the training step).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', 'coverage/**', '**/*.config.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { property: 'dataSync', message: 'Blocks the step: batch into one tensor and `await t.data()` instead.' },
        { property: 'arraySync', message: 'Blocks the step: batch into one tensor and `await t.array()` instead.' },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
