// A loopback npm registry for the feed benchmark: serves the packuments and tarballs that run.sh recorded into
// FOLDER (packuments/NAME.json, tarballs/FILE), with tarball URLs pointing back at itself, ETags and 304s.
// Usage: node upstream.js FOLDER PORT RECORDED_REGISTRY_URL
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const [folder, port, recordedFrom] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}/`;
const packuments = new Map();
for (const file of fs.readdirSync(path.join(folder, 'packuments'))) {
  const name = decodeURIComponent(file.replace(/\.json$/, ''));
  const body = Buffer.from(fs.readFileSync(path.join(folder, 'packuments', file), 'utf8').split(recordedFrom).join(base));
  packuments.set(name, { body, etag: '"' + crypto.createHash('sha256').update(body).digest('hex').slice(0, 32) + '"' });
}
http.createServer((req, res) => {
  const target = decodeURIComponent(req.url.split('?')[0].slice(1));
  const dash = target.indexOf('/-/');
  if (dash >= 0) {
    const file = path.join(folder, 'tarballs', path.basename(target));
    fs.stat(file, (err, stat) => {
      if (err) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stat.size });
      fs.createReadStream(file).pipe(res);
    });
    return;
  }
  const doc = packuments.get(target);
  if (!doc) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'); return; }
  if (req.headers['if-none-match'] === doc.etag) { res.writeHead(304, { etag: doc.etag }).end(); return; }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': doc.body.length, etag: doc.etag });
  res.end(doc.body);
}).listen(Number(port), '127.0.0.1');
