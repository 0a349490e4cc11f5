// The import-boundaries lint rule (test/tools/lint/import-boundaries.js) judges the resolved path,
// so the same target is allowed or refused however many '../' the importing file needs.
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import nearby from '../../tools/lint/import-boundaries.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const ROOT = '/repo';
const options = [{ root: ROOT, packageRoots: ['pkg'], whiteBox: ['test'], forbidden: [{ from: ['pkg', 'cmd'], to: ['lab', 'test'] }] }];
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
const at = (file: string, code: string) => ({ filename: `${ROOT}/${file}`, code, options });

tester.run('import-boundaries', nearby.rules['import-boundaries'], {
  valid: [
    // A package's own files, from any depth inside it.
    at('pkg/datapath/writer.ts', "import { svcKey } from './codecs.js';"),
    at('pkg/lab/kubelet/pod.ts', "import { isExecutable } from '../control-plane/binaries.js';"),
    // Other packages through their public face, from pkg/, cmd/ and test/.
    at('pkg/reconciler/pass.ts', "import type { ServiceSpec } from '../datapath/index.js';"),
    at('cmd/ctl/maps.ts', "import { readPinnedState } from '../../pkg/datapath/index.js';"),
    at('test/unit/cli/x.test.ts', "export * from '../../../pkg/model/index.js';"),
    // The lab and the tests may use the product's public faces and each other.
    at('lab/src/up.ts', "import { plan } from '../../pkg/planner/index.js';"),
    at('test/e2e/lab.test.ts', "import { labUp } from '../../lab/src/index.js';"),
    // The tests are white-box: they may reach inside a package.
    at('test/unit/x.test.ts', "export { a } from '../../pkg/ip/parse.js';"),
    at('test/fixtures/render.ts', "import { resolveBinaries } from '../../pkg/datapath/drift.js';"),
    // Bare specifiers are dependencies, governed by package.json, not by this rule.
    at('cmd/ctl/run.ts', "const lab = await import('@nearby/lab');"),
    at('pkg/model/x.ts', "import { parse } from 'yaml';"),
  ],
  invalid: [
    {
      ...at('pkg/reconciler/pass.ts', "import type { ServiceSpec } from '../datapath/types.js';"),
      errors: [{ messageId: 'internal', data: { target: 'pkg/datapath/types.js', pkg: 'pkg/datapath' } }],
    },
    {
      ...at('cmd/ctl/maps.ts', "import type { PinnedState } from '../../pkg/datapath/pinned.js';"),
      errors: [{ messageId: 'internal' }],
    },
    // A sub-package's index is still internal to the package that holds it.
    {
      ...at('cmd/ctl/render.ts', "import { Thing } from '../../pkg/datapath/sub/index.js';"),
      errors: [{ messageId: 'internal', data: { target: 'pkg/datapath/sub/index.js', pkg: 'pkg/datapath' } }],
    },
    // The lab is not white-box: it uses the product's public faces only.
    { ...at('lab/src/up.ts', "import { rank } from '../../pkg/planner/rank.js';"), errors: [{ messageId: 'internal' }] },
    { ...at('cmd/agent/run.ts', "const m = await import('../../pkg/source/kinds.js');"), errors: [{ messageId: 'internal' }] },
    { ...at('cmd/agent/run.ts', "type K = typeof import('../../pkg/source/kinds.js');"), errors: [{ messageId: 'internal' }] },
    // The product never reaches into the lab or the tests, public face or not.
    {
      ...at('cmd/ctl/lab.ts', "import { labUp } from '../../lab/src/index.js';"),
      errors: [{ messageId: 'forbidden', data: { fromLayer: 'cmd', toLayer: 'lab', target: 'lab/src/index.js' } }],
    },
    {
      ...at('pkg/lab/x.ts', "import { fixture } from '../../test/fixtures/manifests.js';"),
      errors: [{ messageId: 'forbidden', data: { fromLayer: 'pkg', toLayer: 'test', target: 'test/fixtures/manifests.js' } }],
    },
  ],
});
