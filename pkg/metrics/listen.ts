/* Parses a listen address as the flag takes it: ":9790", "9790", "0.0.0.0:9790", "[::1]:9790". */

export interface ListenAddress {
  /** undefined: every interface. */
  readonly host?: string;
  readonly port: number;
}

export class ListenAddressError extends Error {
  constructor(
    readonly text: string,
    reason: string,
  ) {
    super(`listen address ${JSON.stringify(text)}: ${reason}`);
    this.name = 'ListenAddressError';
  }
}

export function parseListen(text: string): ListenAddress {
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):)?(\d+)$/.exec(text.trim());
  if (!match) throw new ListenAddressError(text, 'expected [host]:port');
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ListenAddressError(text, `bad port ${match[3]}`);
  const host = match[1] ?? (match[2] || undefined);
  return host === undefined ? { port } : { host, port };
}
