// Reference oracle for the npm differential tests: node-semver and a CVSS calculator, run once per
// test with every case on stdin (one JSON object a line) and one JSON answer a line on stdout.
'use strict';
const path = require('path');
const readline = require('readline');
const modules = path.join(__dirname, 'node', 'node_modules');
const semver = require(path.join(modules, 'semver'));
const semverVersion = require(path.join(modules, 'semver', 'package.json')).version;

let cvss = null;
const packuments = new Map();
function cvssLibrary() {
  if (cvss === null) {
    cvss = require(path.join(modules, 'ae-cvss-calculator'));
  }
  return cvss;
}

function answer(c) {
  switch (c.op) {
    case 'about':
      return { semver: semverVersion, cvss: require(path.join(modules, 'ae-cvss-calculator', 'package.json')).version };
    case 'valid': {
      const v = semver.valid(c.v);
      return v === null ? { ok: false } : { ok: true, norm: v };
    }
    case 'cmp': {
      try {
        return { ok: true, r: semver.compare(c.a, c.b) };
      } catch (e) {
        return { ok: false };
      }
    }
    case 'range': {
      const r = semver.validRange(c.r, { includePrerelease: !!c.ip });
      return r === null ? { ok: false } : { ok: true, norm: r };
    }
    case 'pick': {
      // npm-pick-manifest, the resolver npm itself uses: the version npm installs for a spec.
      const pick = require(path.join(modules, 'npm-pick-manifest'));
      if (!packuments.has(c.file)) {
        packuments.set(c.file, JSON.parse(require('fs').readFileSync(c.file, 'utf8')));
      }
      try {
        const opts = { nodeVersion: c.node || null };
        if (c.before) {
          opts.before = c.before;
        }
        return { ok: true, version: pick(packuments.get(c.file), c.wanted, opts).version };
      } catch (e) {
        return { ok: true, version: null, code: e.code || String(e) };
      }
    }
    case 'sat':
      if (semver.validRange(c.r, { includePrerelease: !!c.ip }) === null) {
        return { ok: false };
      }
      return { ok: true, r: semver.satisfies(c.v, c.r, { includePrerelease: !!c.ip }) };
    case 'cvss': {
      const lib = cvssLibrary();
      const kind = c.v.startsWith('CVSS:4.0/') ? 'Cvss4P0'
        : c.v.startsWith('CVSS:3.1/') ? 'Cvss3P1'
        : c.v.startsWith('CVSS:3.0/') ? 'Cvss3P0' : 'Cvss2';
      try {
        const scores = new lib[kind](c.v).calculateScores();
        return { ok: true, r: kind === 'Cvss4P0' ? scores.overall : scores.base };
      } catch (e) {
        return { ok: false };
      }
    }
    case 'osv':
      return osvAffected(c, (a, b) => semver.compare(a, b), (a, b) => semver.eq(a, b));
    default:
      return { ok: false, error: 'unknown op ' + c.op };
  }
}

// The OSV schema's evaluation algorithm, written from its pseudocode: `versions` by the ecosystem's
// equality, then each range's events sorted by version with a stable sort (equal versions keep their
// order in the record; "0" first, a limit containing "*" last) and applied in order, below a limit.
function osvAffected(c, compare, equal) {
  try {
    if ((c.versions || []).some((x) => x === c.v || equal(x, c.v))) {
      return { ok: true, r: true };
    }
    const value = (e) => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit;
    const rank = (e) => (e.introduced === '0' ? -1 : e.limit !== undefined && e.limit.includes('*') ? 1 : 0);
    const cmpToV = (e) => (rank(e) !== 0 ? -rank(e) : compare(c.v, value(e)));
    for (const range of c.ranges) {
      const limits = range.events.filter((e) => e.limit !== undefined);
      if (limits.length > 0 && !limits.some((e) => cmpToV(e) < 0)) {
        continue;
      }
      const sorted = range.events.slice().sort((a, b) => (rank(a) || rank(b) ? rank(a) - rank(b) : compare(value(a), value(b))));
      let vulnerable = false;
      for (const e of sorted) {
        if (e.introduced !== undefined && cmpToV(e) >= 0) {
          vulnerable = true;
        } else if (e.fixed !== undefined && cmpToV(e) >= 0) {
          vulnerable = false;
        } else if (e.last_affected !== undefined && cmpToV(e) > 0) {
          vulnerable = false;
        }
      }
      if (vulnerable) {
        return { ok: true, r: true };
      }
    }
    return { ok: true, r: false };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  if (line.trim().length > 0) {
    out.push(JSON.stringify(answer(JSON.parse(line))));
  }
});
rl.on('close', () => process.stdout.write(out.join('\n') + '\n'));
