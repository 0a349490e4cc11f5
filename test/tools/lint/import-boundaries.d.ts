/* Types for the JavaScript rule module, which eslint.config.js loads without a TypeScript step. */
import type { ESLint, Rule } from 'eslint';

declare const plugin: ESLint.Plugin & { rules: Record<'import-boundaries', Rule.RuleModule> };
export default plugin;
