/*
 * A benchmark endpoint that says who it is: listens on PORT at each ADDRESS and, on each
 * connection, answers with a minimal HTTP/1.0 response whose body is NAME, then closes. A client
 * that only connects and closes (the connect benchmark) costs it one accept; curl reads the name.
 *
 *   name-server-main NAME PORT ADDRESS...      prints `ready` once listening on all
 */
import { createServer, type Socket } from 'node:net';

const [name, portText, ...addresses] = process.argv.slice(2);
if (!name || !portText || addresses.length === 0) {
  process.stderr.write('usage: name-server-main NAME PORT ADDRESS...\n');
  process.exit(2);
}
const body = `${name}\n`;
const answer = `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;

function serve(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  // Answer after the request arrives, so closing never resets a connection with unread data.
  socket.once('data', () => socket.end(answer));
}

let listening = 0;
const servers = addresses.map((address) =>
  createServer(serve).listen({ host: address, port: Number(portText), backlog: 4096 }, () => {
    if (++listening === addresses.length) process.stdout.write('ready\n');
  }),
);
process.on('SIGTERM', () => {
  for (const server of servers) server.close();
  process.exit(0);
});
