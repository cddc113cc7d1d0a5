import type { ImproveConfig } from '../config/sections/improve.js';
import type { ConfigVersionView, CycleStatus, CycleView } from './types.js';

/** A cycle with its step-by-step history. */
export type CycleDetail = CycleView & { history: { id: number; ts: number; kind: string; data: unknown }[] };

/** The improvement cycles' operations, shared by REST, MCP and the status view. */
export interface ImproveApi {
  /** Starts a cycle (durable on return); 409 past MAX_CONCURRENT_IMPROVEMENTS, 503 without gateway telemetry. */
  trigger(opts: { windowHours?: number; by: string; reason?: string }): Promise<CycleView>;
  /** Cancels a cycle in progress, undoing an applied change. 404 unknown, 409 already finished. */
  cancel(id: string, by: string): Promise<CycleView>;
  list(opts?: { status?: CycleStatus; limit?: number }): Promise<CycleView[]>;
  /** One page of cycles, newest first (`offset` skips the newest), and the total with that status. */
  page(opts: { status?: CycleStatus; limit: number; offset: number }): Promise<{ cycles: CycleView[]; total: number }>;
  get(id: string): Promise<CycleDetail | undefined>;
  versions(limit?: number): Promise<Omit<ConfigVersionView, 'config'>[]>;
  version(id: number): Promise<ConfigVersionView | undefined>;
  /** The thresholds in force (config with the seed's environment variables applied). */
  settings(): ImproveConfig;
  /**
   * What the next cycle would analyse (the guide's `learning_engine`): `telemetry_buffer_size` is
   * the gateway requests recorded in the default analysis window; 0 means a cycle finds nothing.
   */
  learningEngine(): Promise<{ status: string; telemetry_buffer_size: number; routes: number; analysis_window_hours: number }>;
}
