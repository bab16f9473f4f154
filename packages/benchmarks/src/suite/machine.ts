// What the suite ran on: CPU model and count, memory, Node, platform, load average (the project
// machines are shared, so the load says how much to trust a number) and the date.
import * as os from 'node:os';
import type { MachineInfo } from './result';

/**
 * @example
 * machineInfo().cores; // 2
 */
export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
  };
}
