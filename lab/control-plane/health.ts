/*
 * Health probes of the control-plane components: HTTPS with the lab CA (and a client certificate
 * where the endpoint wants one), plain HTTP for etcd, which listens on loopback without TLS.
 * A probe never throws: "not answering yet" is the normal state while a component starts.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeTls {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export function probeTls(caFile: string, client?: { cert: string; key: string }): ProbeTls {
  return {
    ca: readFileSync(caFile),
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
  };
}

const PROBE_TIMEOUT_MS = 2_000;

/** The HTTP status the URL answers with, or undefined when it does not answer. */
export function probe(url: string, tls?: ProbeTls): Promise<number | undefined> {
  return new Promise((resolve) => {
    const options = { method: 'GET', timeout: PROBE_TIMEOUT_MS, agent: false as const, ...(tls ?? {}) };
    const request = url.startsWith('https:') ? httpsRequest(url, options) : httpRequest(url, options);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
    request.end();
  });
}

export async function answersOk(url: string, tls?: ProbeTls): Promise<boolean> {
  return (await probe(url, tls)) === 200;
}
