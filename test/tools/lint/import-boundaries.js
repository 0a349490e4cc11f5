// @ts-check
/*
 * An ESLint rule for the repository's import boundaries, checked on the resolved path rather than
 * on the specifier text, because the same folder is spelled '../x/', '../../pkg/x/' or
 * '../../../x/' depending on where the importing file sits.
 *
 * - Each folder under a package root (pkg/<name>/) is a package whose public face is its index.js:
 *   from outside the package, nothing else in it may be imported.
 * - Some folders may reach inside packages (the unit tests, which test internals white-box).
 * - Some layers must not depend on others at all (product code on the lab or the tests).
 *
 * Only relative specifiers are checked: a bare specifier is a dependency, governed by package.json.
 * Written in JavaScript because eslint.config.js loads it directly, without a TypeScript step.
 */
import path from 'node:path';

/**
 * @typedef {{ from: string[]; to: string[] }} Forbidden
 * @typedef {{ root: string; packageRoots?: string[]; whiteBox?: string[]; forbidden?: Forbidden[] }} Options
 */

/** @param {string} rel @param {string} folder */
function isInside(rel, folder) {
  return rel === folder || rel.startsWith(`${folder}/`);
}

/** `pkg/model/snapshot.js` -> `pkg/model`, when `pkg` is a package root; else undefined. */
function packageOf(/** @type {string} */ rel, /** @type {string[]} */ packageRoots) {
  for (const root of packageRoots) {
    if (!rel.startsWith(`${root}/`)) continue;
    const name = rel.slice(root.length + 1).split('/')[0];
    if (name && rel.length > root.length + 1 + name.length) return `${root}/${name}`;
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Cross-package imports go through index.js; product code imports neither the lab nor the tests.' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          packageRoots: { type: 'array', items: { type: 'string' } },
          whiteBox: { type: 'array', items: { type: 'string' } },
          forbidden: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                from: { type: 'array', items: { type: 'string' } },
                to: { type: 'array', items: { type: 'string' } },
              },
              required: ['from', 'to'],
              additionalProperties: false,
            },
          },
        },
        required: ['root'],
        additionalProperties: false,
      },
    ],
    messages: {
      internal: "'{{target}}' is internal to {{pkg}}/: import it from {{pkg}}/index.js.",
      forbidden: "{{fromLayer}}/ must not import {{toLayer}}/ ('{{target}}').",
    },
  },

  create(context) {
    const options = /** @type {Options} */ (context.options[0]);
    const packageRoots = options.packageRoots ?? [];
    const forbidden = options.forbidden ?? [];
    const toRel = (/** @type {string} */ abs) => path.relative(options.root, abs).split(path.sep).join('/');
    const fromRel = toRel(context.filename);
    const fromPackage = packageOf(fromRel, packageRoots);
    const whiteBox = (options.whiteBox ?? []).some((folder) => isInside(fromRel, folder));

    /** @param {import('estree').Node | null | undefined} source */
    function check(source) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value;
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) return;
      const target = toRel(path.resolve(path.dirname(context.filename), specifier));

      const targetPackage = packageOf(target, packageRoots);
      const publicFace = /^index\.[cm]?[jt]s$/;
      if (targetPackage && targetPackage !== fromPackage && !whiteBox && !publicFace.test(target.slice(targetPackage.length + 1))) {
        context.report({ node: source, messageId: 'internal', data: { target, pkg: targetPackage } });
      }

      for (const rule of forbidden) {
        const fromLayer = rule.from.find((layer) => isInside(fromRel, layer));
        const toLayer = rule.to.find((layer) => isInside(target, layer));
        if (fromLayer && toLayer) context.report({ node: source, messageId: 'forbidden', data: { fromLayer, toLayer, target } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // `typeof import('../x.js')` in a type position; typescript-eslint's node, absent from estree.
      /** @param {any} node */
      TSImportType: (node) => check(node.source ?? node.argument?.literal),
    };
  },
};

export default { meta: { name: 'nearby' }, rules: { 'import-boundaries': importBoundaries } };
