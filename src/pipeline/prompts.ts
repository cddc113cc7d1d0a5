import { z } from 'zod';
import { FORMAT_EXTENSIONS, STAGE_SCHEMAS } from './schemas.js';
import type { StageOutputs } from './schemas.js';
import type { OutputFormat, StageName } from './types.js';

/** Built-in role prompts, used when the catalog has no fitting agent for a stage. */
export const BUILT_IN_ROLES: Record<StageName, { name: string; role: string; prompt: string }> = {
  enhancement: {
    name: 'Prompt Enhancer',
    role: 'Turns a short or vague requirement into an explicit one',
    prompt: 'You are a requirements engineer. Rewrite a weak software requirement into a precise one: state the goal, the explicit steps to build it, and testable acceptance criteria. Keep the user\'s intent; do not invent unrelated features.',
  },
  analysis: {
    name: 'Requirements Analyst',
    role: 'Analyses the requirement and plans the work',
    prompt: 'You are a senior software architect. Analyse the requirement, decide the output format, the components and the files to produce, and the steps an implementer follows.',
  },
  implementation: {
    name: 'Implementer',
    role: 'Writes the files',
    prompt: 'You are a senior software engineer. Implement the plan completely: every file with its full content, no placeholders, no omitted parts.',
  },
  validation: {
    name: 'Quality Validator',
    role: 'Reviews the implementation against the requirement',
    prompt: 'You are a strict code reviewer and QA engineer. Check the implementation against the requirement and the acceptance criteria: correctness, completeness, security, and whether the output format fits the request. Report concrete issues.',
  },
  integration: {
    name: 'Integrator',
    role: 'Packages the result for the user',
    prompt: 'You are a release engineer. Summarise what was built and write a README in Markdown telling the user how to open or run it.',
  },
};

/** The line that marks which stage a request belongs to (also what scripted fake replies key on). */
export const stageMarker = (stage: StageName): string => `[cco-pipeline stage=${stage}]`;

/** The stage named by a request's system prompt, if it is a pipeline request. */
export function stageOfSystemPrompt(system: unknown): StageName | undefined {
  const text = typeof system === 'string' ? system : Array.isArray(system) ? system.map((b: { text?: string }) => b.text ?? '').join('\n') : '';
  const m = /\[cco-pipeline stage=([a-z]+)\]/.exec(text);
  return m?.[1] && m[1] in STAGE_SCHEMAS ? (m[1] as StageName) : undefined;
}

const TASKS: Record<StageName, string> = {
  enhancement: 'Rewrite the requirement below. `enhanced_requirement` is the complete improved requirement text.',
  analysis: 'Analyse the requirement below and plan the implementation. Choose `output_format`: "html" or "svg" for graphics and visual pages, "markdown" for documents, "code" for programs.',
  implementation: 'Implement the plan below. Put every file in `files` with its relative path (no "..", no absolute paths) and full content.',
  validation: 'Validate the implementation below against the requirement and the plan. `passed` is false when a critical or major issue remains.',
  integration: 'Integrate the validated implementation below: summarise it and write its README (Markdown).',
};

const schemaText = new Map<StageName, string>();
function jsonSchemaOf(stage: StageName): string {
  let s = schemaText.get(stage);
  if (!s) {
    s = JSON.stringify(z.toJSONSchema(STAGE_SCHEMAS[stage], { io: 'input' }));
    schemaText.set(stage, s);
  }
  return s;
}

/** The system prompt of a stage: the agent's role, then the reply contract. */
export function systemPrompt(stage: StageName, rolePrompt: string, format: OutputFormat | null): string {
  const formatRule = format ? `\nOutput format for this task: ${format}.${formatHint(format)}` : '';
  return [
    rolePrompt.trim(),
    '',
    stageMarker(stage),
    `${TASKS[stage]}${formatRule}`,
    'Reply with exactly one JSON object and nothing else (no prose, no Markdown fence), matching this JSON Schema:',
    jsonSchemaOf(stage),
  ].join('\n');
}

function formatHint(format: OutputFormat): string {
  const ext = FORMAT_EXTENSIONS[format];
  if (format === 'svg') return ' Graphics are delivered as SVG (an .svg file, or inline SVG in an .html page).';
  if (format === 'html') return ' Deliver a self-contained HTML page (.html) with inline CSS/JS or SVG.';
  if (format === 'markdown') return ' Deliver the document as Markdown (.md).';
  return ext ? '' : ' Deliver source files in the language that fits the request.';
}

export interface StageContext {
  requirement: string;
  enhanced: string | null;
  format: OutputFormat | null;
  outputs: Partial<StageOutputs>;
  maxChars: number;
  /** A retry after the validator rejected the implementation: its verdict, for the implementer to fix. */
  rejected?: StageOutputs['validation'];
}

/** The user message of a stage: the shared context and the previous stages' outputs. */
export function userPrompt(stage: StageName, c: StageContext): string {
  const parts: string[] = [`## Requirement\n${c.requirement}`];
  if (c.enhanced && stage !== 'enhancement') parts.push(`## Enhanced requirement (use this)\n${c.enhanced}`);
  if (c.format && stage !== 'enhancement') parts.push(`## Output format\n${c.format}`);
  const prev: [string, unknown][] = [];
  if (stage !== 'enhancement' && c.outputs.enhancement) prev.push(['enhancement', c.outputs.enhancement]);
  if (stage !== 'analysis' && stage !== 'enhancement' && c.outputs.analysis) prev.push(['analysis', c.outputs.analysis]);
  if ((stage === 'validation' || stage === 'integration') && c.outputs.implementation) prev.push(['implementation', c.outputs.implementation]);
  if (stage === 'integration' && c.outputs.validation) prev.push(['validation', c.outputs.validation]);
  if (stage === 'implementation' && c.rejected) {
    const { score, summary, issues } = c.rejected;
    parts.push(`## The validator rejected the previous implementation (fix every issue)\n${JSON.stringify({ score, summary, issues }, null, 1).slice(0, Math.max(2000, Math.floor(c.maxChars / 4)))}`);
  }
  let budget = c.maxChars;
  for (const [name, value] of prev) {
    let json = JSON.stringify(value, null, 1);
    if (json.length > budget) json = `${json.slice(0, Math.max(0, budget))}\n… (truncated to the context budget)`;
    budget = Math.max(0, budget - json.length);
    parts.push(`## Output of the ${name} stage\n${json}`);
  }
  return parts.join('\n\n');
}

/** The follow-up after a reply that did not parse. */
export function repairPrompt(error: string): string {
  return `Your reply could not be used: ${error}. Reply again with only the corrected JSON object matching the schema.`;
}

/** A requirement that is short or vague enough to be improved before analysis. */
export function isWeakRequirement(text: string, minWords: number): boolean {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return words < minWords;
}

/** The output format a request asks for, from its words (the analysis may refine it). */
export function detectOutputFormat(text: string): OutputFormat {
  const t = text.toLowerCase();
  if (/\b(svg|logo|icon|illustration|drawing|draw|diagram|chart|graph(ic|ics)?|picture|image|visuali[sz]ation)\b/.test(t)) return /\b(html|page|website|web page)\b/.test(t) ? 'html' : 'svg';
  if (/\b(html|web ?page|landing page|website|css)\b/.test(t)) return 'html';
  if (/\b(document|documentation|docs|readme|guide|article|essay|report|tutorial|markdown|write-?up)\b/.test(t) && !/\b(function|class|script|program|api|cli|code)\b/.test(t)) return 'markdown';
  return 'code';
}

/** Checks the implementation's files against the output format (a mismatch is a parse error). */
export function formatProblem(format: OutputFormat | null, files: { path: string }[]): string | undefined {
  const ext = format ? FORMAT_EXTENSIONS[format] : undefined;
  if (!ext) return undefined;
  const ok = files.some((f) => ext.some((e) => f.path.toLowerCase().endsWith(e)));
  return ok ? undefined : `output format ${format} needs at least one ${ext.join(' or ')} file`;
}
