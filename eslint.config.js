// @ts-check
/*
 * ESLint for the whole repository: typescript-eslint's strict and stylistic type-checked rules
 * over every TypeScript file (the product, the tests, and the lab workspace's lab/), and the
 * repository's import boundaries. Formatting is Prettier's (.prettierrc.json): no rule here
 * touches layout.
 *
 * Type information comes from the project service: each file is checked against the nearest
 * tsconfig.json above it, as an editor would, so a workspace with its own tsconfig needs no entry.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import nearby from './test/tools/lint/import-boundaries.js';

export default defineConfig(
  globalIgnores(['**/dist/', '**/build/', '**/node_modules/']),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  js.configs.recommended,

  {
    // cmd/, pkg/, test/, the lab workspace's lab/, and the root's vitest.config.ts.
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        // vitest.config.ts is in no tsconfig's include: checked alone, with tsconfig.json's compiler options.
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { nearby },
    rules: {
      // Turned off, with the reason.
      // noUncheckedIndexedAccess types every index as possibly undefined; `!` marks the indexes the code has just checked or built.
      '@typescript-eslint/no-non-null-assertion': 'off',

      // Kept, with options that fit this code base.
      // Numbers in messages and keys render unambiguously; objects, nullish, any and never stay forbidden.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Bracket access marks a key read through an index signature (env, parsed flags, raw Kubernetes objects) as unchecked.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // The code base's convention: T[] for simple element types, Array<...> for the others.
      '@typescript-eslint/array-type': ['error', { default: 'array-simple' }],
      // `() => clearTimeout(timer)` and the like are callbacks whose value nobody reads.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `||` on strings is deliberate: an empty environment variable or flag counts as unset.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // `const { dropped, ...rest } = o` is how the code leaves a field out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],

      // Added to the presets.
      // Reason codes and modes are string-literal unions: a switch over one must handle every member.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // The code base's style: `import { x, type Y }`, so type-only imports vanish from the emitted JavaScript.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'smart'],
      'nearby/import-boundaries': [
        'error',
        {
          root: import.meta.dirname,
          // pkg/<name>/ is a package: from outside it, only its index.js may be imported.
          packageRoots: ['pkg'],
          // Tests reach inside packages on purpose (drift planning, codecs, the map layer); the lab does not.
          whiteBox: ['test'],
          // The product (agent, nearbyctl, their packages) never depends on the lab or the tests.
          forbidden: [{ from: ['pkg', 'cmd'], to: ['lab', 'test'] }],
        },
      ],
    },
  },

  // Last: turns off any rule that would fight Prettier over layout.
  prettier,
);
