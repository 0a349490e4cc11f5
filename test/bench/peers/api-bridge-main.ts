/*
 * The namespace half of the API bridge (api-bridge.ts): listens on HOST:PORT inside the peer's
 * network namespace and carries each connection to a Unix socket, which the benchmark process
 * serves from the initial namespace. A filesystem socket crosses namespaces without giving the
 * namespace a route out.
 *
 *   api-bridge-main HOST PORT SOCKET_PATH      prints `ready` once listening
 */
import { connect, createServer } from 'node:net';

const [host, portText, socketPath] = process.argv.slice(2);
if (!host || !portText || !socketPath) {
  process.stderr.write('usage: api-bridge-main HOST PORT SOCKET_PATH\n');
  process.exit(2);
}

const server = createServer((inner) => {
  const outer = connect(socketPath);
  inner.pipe(outer).pipe(inner);
  const close = (): void => {
    inner.destroy();
    outer.destroy();
  };
  inner.on('error', close);
  outer.on('error', close);
  inner.on('close', close);
  outer.on('close', close);
});
server.listen(Number(portText), host, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
