import { z } from 'zod';
import { eachContainer } from '../core/json.js';
import { agentIdSchema, agentTypeSchema, issueIdSchema } from './ids.js';
import type { KnowledgeEntry } from './knowledge.js';

/** `POST /api/results` body, as in the seed (agent_id, agent_type, issue_id, result{...}). */
export const resultInputSchema = z.object({
  agent_id: agentIdSchema,
  agent_type: agentTypeSchema,
  issue_id: issueIdSchema,
  result: z
    .object({
      status: z.enum(['success', 'failed', 'partial', 'blocked', 'in_progress']).default('success'),
      summary: z.string().max(20_000).optional(),
      decisions: z.array(z.string().min(1).max(4000)).max(200).optional(),
      files_created: z.array(z.string().max(1000)).max(5000).optional(),
      files_modified: z.array(z.string().max(1000)).max(5000).optional(),
    })
    .passthrough(),
})
  // a field beside `result` (`decision`, `output`) was dropped without a word: it belongs inside it
  .strict();
export type ResultInput = z.infer<typeof resultInputSchema>;

/**
 * A result's file text: indented for people to read, unless indenting would more than double it
 * (beyond 64 KB of slack): then compact. Indentation grows with depth × size: a 5 KB result nested 2,500 levels deep was a 12 MB file
 * (25 MB with its spare). The estimate walks the document without building the indented text.
 */
export function readableText(doc: unknown, compact: string): string {
  // each value inside an object or array gets a line: a newline, 2 spaces per level, ": " after a key
  let extra = 0;
  const limit = 2 * (compact.length + 64 * 1024);
  const fits = eachContainer(doc, (items, depth) => {
    extra += (items.length + 1) * (2 * depth + 2);
    return compact.length + extra <= limit;
  });
  return fits ? JSON.stringify(doc, null, 2) : compact;
}

/** A stored result document (file, journal or row body): its input and `stored_at`, or undefined when it is not one. */
export function parseDocument(text: string): { doc: unknown; input: ResultInput; storedAt: number } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  const { stored_at: storedAt, ...input } = doc as { stored_at?: unknown };
  const parsed = resultInputSchema.safeParse(input);
  return parsed.success && typeof storedAt === 'number' ? { doc, input: parsed.data, storedAt } : undefined;
}

/** What of a result goes into the knowledge index: each decision, and a text of the whole. */
export function knowledgeOf(input: ResultInput): KnowledgeEntry[] {
  const out: KnowledgeEntry[] = (input.result.decisions ?? []).map((d) => ({ kind: 'decision', content: d }));
  const words: string[] = [];
  collectText(input.result, words, 0);
  const text = words.join(' ').slice(0, 16_000);
  if (text) out.push({ kind: 'result', content: text });
  return out;
}

function collectText(v: unknown, out: string[], depth: number): void {
  if (depth > 6 || out.length > 2000) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectText(x, out, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collectText(x, out, depth + 1);
}
