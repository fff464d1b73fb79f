// Splits npm package specs into name and range with npm's own parser (npm-package-arg, bundled with npm).
// Also decides exact-version checks with npm's semver, the reference for the fallback matcher.
// Usage: node npa-splits.js > npa-splits.json
const path = require('path');
const { execSync } = require('child_process');
const npmRoot = execSync('npm root -g').toString().trim();
const npa = require(path.join(npmRoot, 'npm', 'node_modules', 'npm-package-arg'));
const semver = require(path.join(npmRoot, 'npm', 'node_modules', 'semver'));
const specs = [
  'sharp@^0.33.0', 'esbuild', 'event-stream@3.3.6', 'lodash@<4.17.21', '@acme/cli@^2.0.0', '@acme/cli',
  '@types/node@>=18 <21', 'left-pad@1.3.0', '@scope/pkg@1.0.0-rc.1', 'react@~18.2.0', 'express@4.x',
  'typescript@>=5.0.0 || 4.9.5', '@babel/core@7.24.0',
];
const rows = specs.map(spec => {
  const parsed = npa(spec);
  return { spec, name: parsed.name, range: parsed.rawSpec === '' || parsed.rawSpec === '*' ? null : parsed.rawSpec, type: parsed.type };
});
const pairs = [
  ['1.2.3', '1.2.3'], ['1.2.4', '1.2.3'], ['1.2.3+build.5', '1.2.3'], ['1.2.3', '=1.2.3'], ['v1.2.3', '1.2.3'],
  ['1.2.3-rc.1', '1.2.3'], ['1.2.3-rc.1', '1.2.3-rc.1'], ['1.2.3-RC.1', '1.2.3-rc.1'], ['3.3.6', 'v3.3.6'],
];
const exact = pairs.map(([version, range]) => ({ version, range, satisfies: semver.satisfies(version, range) }));
console.log(JSON.stringify({ npm: execSync('npm --version').toString().trim(), rows, exact }, null, 2));
