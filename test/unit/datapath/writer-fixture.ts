// What the writer unit tests share: small in-memory map sizes and a backend in 10.244.0.0/24.
import type { BackendSpec } from '../../../pkg/datapath/index.js';

export const SIZES = { services: 16, backends: 32, slots: 64, revNat: 16, counters: 128 };

export const be = (last: number): BackendSpec => ({ address: `10.244.0.${last}`, port: 8080, nodeId: 1, terminating: false });
