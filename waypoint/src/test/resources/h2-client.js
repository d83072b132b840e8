// Node's http2 module as a client through the waypoint: N requests on one HTTP/2 session, printing one
// line per answer ("<status> <x-served-by>"). Usage: node h2-client.js http://ip:port /path N
const http2 = require('http2');
const [url, path, count] = process.argv.slice(2);
const session = http2.connect(url);
session.on('error', (e) => { console.error('session error ' + e.message); process.exit(2); });
let done = 0;
const n = parseInt(count, 10);
for (let i = 0; i < n; i++) {
  const req = session.request({ ':path': path + '?i=' + i, 'x-client': 'node' });
  let status = 0;
  let servedBy = '-';
  req.on('response', (h) => { status = h[':status']; servedBy = h['x-served-by'] || '-'; });
  req.on('data', () => {});
  req.on('end', () => {
    console.log(status + ' ' + servedBy);
    if (++done === n) { session.close(); }
  });
  req.on('error', (e) => { console.error('stream error ' + e.message); process.exit(3); });
  req.end();
}
setTimeout(() => { console.error('timeout'); process.exit(4); }, 20000).unref();
