/** `cco doctor`. (Filled in by the foundation work: the seeds' verification checklist.) */
export async function main(_args: string[]): Promise<number> {
  process.stderr.write('cco doctor is not available in this build yet\n');
  return 2;
}
