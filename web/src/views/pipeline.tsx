import { useState } from 'preact/hooks';
import { Absent, Section } from '../components/common';
import { postJson } from '../lib/api';
import { str } from '../lib/fields';
import { ago, fmtTime } from '../lib/format';
import { useLive, useNow } from '../lib/hooks';
import { state } from '../lib/instance';
import { STAGES } from '../lib/model';
import type { Task } from '../lib/model';
import { canRetry, taskColumn, validationNote } from '../lib/state';

const COLUMNS = ['queued', ...STAGES, 'completed', 'failed'] as const;

/** Tasks moving through the stages, live; and a form to submit a requirement. */
export function Pipeline() {
  useLive();
  const now = useNow(1000);
  const tasks = [...state.tasks.values()].sort((a, b) => b.updated - a.updated);
  const byCol = new Map<string, Task[]>(COLUMNS.map((c) => [c, []]));
  for (const t of tasks) byCol.get(taskColumn(t))?.push(t);
  return (
    <div class="view" data-testid="view-pipeline">
      <Submit />
      <div class="board" data-testid="pipeline-board">
        {COLUMNS.map((c) => (
          <div key={c} class={`column col-${c}`} data-testid={`column-${c}`}>
            <h3>
              {c} <span class="muted">{byCol.get(c)?.length ?? 0}</span>
            </h3>
            {(byCol.get(c) ?? []).slice(0, 30).map((t) => (
              <TaskCard key={t.id} t={t} now={now} />
            ))}
          </div>
        ))}
      </div>
      <Section title="Files written">
        {state.files.length === 0 ? (
          <Absent what="No files yet." />
        ) : (
          <ul class="files mono small" data-testid="files">
            {state.files
              .toArray()
              .slice(-15)
              .reverse()
              .map((f, i) => (
                <li key={i}>
                  <span class="muted">{fmtTime(f.ts)}</span> {f.path}
                </li>
              ))}
          </ul>
        )}
      </Section>
    </div>
  );
}

function TaskCard({ t, now }: { t: Task; now: number }) {
  return (
    <div class={`task-card card`} data-testid="task-card" data-task={t.id} data-status={t.status}>
      <div class="mono small task-id">{t.id}</div>
      <div class="task-req">{t.requirement ?? <span class="muted">(no requirement text)</span>}</div>
      <div class="stages">
        {STAGES.map((s) => (
          <span key={s} class={`stage stage-${t.stages[s] ?? 'pending'}`} title={`${s}: ${t.stages[s] ?? 'pending'}`} />
        ))}
      </div>
      <div class="muted small">
        {t.status}
        {t.stage ? ` · ${t.stage}` : ''} · {ago(t.updated, now)}
      </div>
      {t.error && <div class="bad small">{t.error}</div>}
      {validationNote(t) && (
        <div class="bad small" data-testid="task-validation">
          {validationNote(t)}
        </div>
      )}
      {canRetry(t) && <Retry id={t.id} />}
    </div>
  );
}

/** Reruns a failed, cancelled or rejected task from the stage that failed (`POST /api/tasks/:id/retry`). */
function Retry({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const retry = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const view = await postJson<unknown>(`/api/tasks/${encodeURIComponent(id)}/retry`, {});
      // the hub's `retried` update usually comes first; the answer only stands in when it has not
      if (canRetry(state.tasks.get(id))) state.upsertTask({ ...(view as object), task_id: id, event: 'retried' }, Date.now());
      state.changed();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="small">
      <button class="small" disabled={busy} onClick={() => void retry()} data-testid="task-retry" title="Run the task again from the stage that failed">
        {busy ? 'Retrying…' : 'Retry'}
      </button>
      {error && (
        <div class="bad small" data-testid="task-retry-error">
          {error}
        </div>
      )}
    </div>
  );
}

function Submit() {
  const [text, setText] = useState('');
  const [priority, setPriority] = useState(1);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!text.trim()) {
      setMsg({ ok: false, text: 'Write a requirement first.' });
      return;
    }
    setBusy(true);
    try {
      const r = await postJson<unknown>('/api/requirements', { requirement: text.trim(), priority });
      const id = str(r, 'task_id', 'id', 'taskId', 'task.id');
      setMsg({ ok: true, text: id ? `Task ${id} submitted — watch it move below.` : 'Submitted.' });
      if (id) state.upsertTask({ ...(r as object), task_id: id, requirement: text.trim(), status: str(r, 'status') ?? 'queued' }, Date.now());
      state.changed();
      setText('');
    } catch (err) {
      const status = (err as { status?: number }).status;
      setMsg({ ok: false, text: status === 404 ? 'The pipeline is not available in this daemon.' : (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="submit card" onSubmit={(e) => void submit(e)} data-testid="requirement-form">
      <textarea
        placeholder="Describe what you need built, e.g. “A function that validates email addresses, with tests”"
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        rows={2}
        maxLength={20000}
        data-testid="requirement-input"
      />
      <label>
        priority{' '}
        <select value={priority} onChange={(e) => setPriority(Number((e.target as HTMLSelectElement).value))}>
          {[1, 2, 3, 4, 5].map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy} data-testid="requirement-submit">
        {busy ? 'Submitting…' : 'Submit requirement'}
      </button>
      {msg && (
        <span class={msg.ok ? 'ok' : 'bad'} data-testid="requirement-message">
          {msg.text}
        </span>
      )}
    </form>
  );
}
