// Shared expectations and small helpers for the TypeScript end-to-end tests.
// The tool list itself lives in e2e/expected-tools.json, read by the Python tests too.
import { readFileSync } from 'node:fs';

const raw = JSON.parse(readFileSync(new URL('../expected-tools.json', import.meta.url), 'utf8'));

/** Tool name -> access ("read" | "write" | "destructive"), as the server must announce it. */
export const EXPECTED_TOOLS = new Map(Object.entries(raw.tools));

/** The VMs of a get_vms result (`{vms: [...], count}`). */
export function vmList(structured) {
  return Array.isArray(structured?.vms) ? structured.vms : [];
}

export function findVm(structured, vmid) {
  return vmList(structured).find((v) => Number(v.vmid) === vmid);
}

/** Calls `probe` until it returns a value, at most `tries` times, `ms` apart. */
export async function waitFor(probe, { tries = 60, ms = 500 } = {}) {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, ms));
  }
  throw new Error(`condition not met after ${tries} tries`);
}
