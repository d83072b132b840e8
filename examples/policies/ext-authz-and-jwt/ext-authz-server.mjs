#!/usr/bin/env node
// A small ext_authz HTTP provider for the example (Istio's envoyExtAuthzHttp): it receives the check as
// an HTTP request with the original method, the provider's pathPrefix + the original path, and the headers
// the provider lists in includeRequestHeadersInCheck.
//
//   node ext-authz-server.mjs [--host 127.0.0.1] [--port 9191]
//
// Answers:
//   x-user-id missing        -> 401 {"error":"who are you?"}   (passed to the client: status, body, content-type)
//   x-user-id: mallory       -> 403 {"error":"not you"} with set-cookie: flagged=1
//   any other x-user-id      -> 200 with x-user-roles: reader (copied upstream by headersToUpstreamOnAllow)
// Prints "listening <port>" once it accepts connections.
import { createServer } from 'node:http';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const user = req.headers['x-user-id'];
    console.error(`check ${req.method} ${req.url} user=${user ?? '-'}`);
    if (!user) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"who are you?"}');
    } else if (user === 'mallory') {
      res.writeHead(403, { 'content-type': 'application/json', 'set-cookie': 'flagged=1' });
      res.end('{"error":"not you"}');
    } else {
      res.writeHead(200, { 'x-user-roles': 'reader', 'x-not-forwarded': 'internal' });
      res.end();
    }
  });
});
server.listen(Number(args.port ?? 9191), args.host ?? '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
