/*
 * The built-in program behind docker.io/istio/examples-helloworld-v1 (and -v2): HTTP on :5000,
 * answering GET /hello exactly as Istio's Flask sample does, "Hello version: <SERVICE_VERSION>,
 * instance: <HOSTNAME>\n" (Python prints a missing variable as None), and /health. Other paths
 * are 404, as Flask answers them.
 */
import { createServer } from 'node:http';

const PORT = 5000;
const version = process.env['SERVICE_VERSION'] ?? 'None';
const instance = process.env['HOSTNAME'] ?? 'None';

const NOT_FOUND =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
  '<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0];
  const send = (status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(405, 'Method Not Allowed\n');
    return;
  }
  if (path === '/hello') {
    send(200, `Hello version: ${version}, instance: ${instance}\n`);
    return;
  }
  if (path === '/health') {
    send(200, 'Helloworld is healthy');
    return;
  }
  send(404, NOT_FOUND);
});

// The image binds [::]:5000, which also takes IPv4 connections; a pod without IPv6 gets 0.0.0.0.
server.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL') server.listen(PORT, '0.0.0.0');
  else throw err;
});
server.listen(PORT, '::');

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
