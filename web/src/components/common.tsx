import type { ComponentChildren } from 'preact';

export function Stat({ label, value, sub, testId, tone }: { label: string; value: ComponentChildren; sub?: ComponentChildren; testId?: string; tone?: 'ok' | 'warn' | 'bad' }) {
  return (
    <div class={`stat card ${tone ?? ''}`} data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {sub !== undefined && <div class="stat-sub">{sub}</div>}
    </div>
  );
}

export function Badge({ status }: { status: string }) {
  return <span class={`badge badge-${status.toLowerCase().replace(/[^a-z]/g, '')}`}>{status}</span>;
}

/** Shown where a part of the daemon is not running or has no data yet. */
export function Absent({ what }: { what: string }) {
  return <p class="muted absent">{what}</p>;
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="section">
      <div class="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}
